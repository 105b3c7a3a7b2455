package tenant

import (
	"strings"
	"testing"
)

func TestPasswordPolicyCheck(t *testing.T) {
	tests := []struct {
		policy   PasswordPolicy
		password string
		want     string
	}{
		{DefaultPasswordPolicy, "correct-horse", ""},
		{DefaultPasswordPolicy, "string", "is shorter than 8 characters"},
		{DefaultPasswordPolicy, "12345678", ""},
		{DefaultPasswordPolicy, strings.Repeat("é", 128), ""}, // characters, not bytes
		{DefaultPasswordPolicy, strings.Repeat("p", 129), "is longer than 128 characters"},
		{PasswordPolicy{MinLength: 4}, strings.Repeat("p", 5000), ""},
		{PasswordPolicy{MinLength: 4, MaxLength: 6}, "string", ""},
		{PasswordPolicy{MinLength: 4, MaxLength: 6}, "strings", "is longer than 6 characters"},
	}
	for _, tt := range tests {
		if got := tt.policy.Check(tt.password); got != tt.want {
			t.Errorf("%+v %q: got %q, want %q", tt.policy, tt.password, got, tt.want)
		}
	}
}

package bench

import "testing"

func TestRegistrationID(t *testing.T) {
	tests := []struct {
		name, body, want string
		wantErr          bool
	}{
		{"a create's answer", `{"data":{"customerRegistrationId":"abc-1","email":"a@b.example"},"message":{}}`, "abc-1", false},
		{"no id", `{"data":{}}`, "", true},
		{"not JSON", `<html>`, "", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := RegistrationID([]byte(tt.body))
			if got != tt.want || (err != nil) != tt.wantErr {
				t.Errorf("RegistrationID = %q, %v; want %q, error %v", got, err, tt.want, tt.wantErr)
			}
		})
	}
}

package provider_test

import (
	"context"
	"testing"

	"usersorchestrator/internal/provider"
)

func TestEndUserIP(t *testing.T) {
	tests := []struct{ in, want string }{
		{"203.0.113.7", "203.0.113.7"},
		{"2001:db8::1", "2001:db8::1"},
		{"::ffff:203.0.113.7", "203.0.113.7"}, // a mapped IPv4 is the IPv4 the provider knows
		{"", ""},
		{"203.0.113.7, 10.0.0.1", ""}, // a forwarding chain is not an address
		{"203.0.113.7\r\nX-Evil: 1", ""},
		{"fe80::1%eth0", ""},
		{"localhost", ""},
	}
	for _, tt := range tests {
		if got := provider.EndUserIP(provider.WithEndUserIP(context.Background(), tt.in)); got != tt.want {
			t.Errorf("WithEndUserIP(%q): EndUserIP = %q, want %q", tt.in, got, tt.want)
		}
	}
}

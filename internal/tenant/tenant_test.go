package tenant

import "testing"

// An emailed link carries a live token: it may lead only to an origin the tenant chose, and never
// in clear beyond the user's own machine (issue 9, finding 6).
func TestReturnURL(t *testing.T) {
	daily := &Tenant{DefaultReturnURL: "https://daily.example/account", AllowedReturnHosts: []string{"shop.example:8443", "club.example", "localhost:3000"}}
	plain := &Tenant{DefaultReturnURL: "http://intranet.example:8080/account"}
	tests := []struct {
		name      string
		t         *Tenant
		requested string
		want      string
		ok        bool
	}{
		{"none given: the default", daily, "", "https://daily.example/account", true},
		{"the default's origin", daily, "https://daily.example/reset?x=1", "https://daily.example/reset?x=1", true},
		{"the default's origin, port spelled out", daily, "https://daily.example:443/reset", "https://daily.example:443/reset", true},
		{"host case does not matter", daily, "https://DAILY.example/reset", "https://DAILY.example/reset", true},
		{"http to an https tenant", daily, "http://daily.example/reset", "", false},
		{"another port of the default host", daily, "https://daily.example:8443/reset", "", false},
		{"an allowed host:port", daily, "https://shop.example:8443/back", "https://shop.example:8443/back", true},
		{"an allowed host:port on the default port", daily, "https://shop.example/back", "", false},
		{"an allowed bare host on https", daily, "https://club.example/back", "https://club.example/back", true},
		{"an allowed bare host on another port", daily, "https://club.example:444/back", "", false},
		{"an allowed bare host over http", daily, "http://club.example/back", "", false},
		{"a host nobody allowed", daily, "https://evil.example/steal", "", false},
		{"a suffix of an allowed host", daily, "https://evilclub.example/x", "", false},
		{"user info hiding the real host", daily, "https://daily.example@evil.example/x", "", false},
		{"loopback over http on its allowed port", daily, "http://localhost:3000/verify", "http://localhost:3000/verify", true},
		{"loopback on another port", daily, "http://localhost:3001/verify", "", false},
		{"not a URL", daily, "::", "", false},
		{"no host", daily, "https:///path", "", false},
		{"an http default is the operator's choice", plain, "http://intranet.example:8080/reset", "http://intranet.example:8080/reset", true},
		{"but not on another port", plain, "http://intranet.example:9090/reset", "", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, ok := tt.t.ReturnURL(tt.requested)
			if got != tt.want || ok != tt.ok {
				t.Fatalf("ReturnURL(%q) = %q, %v; want %q, %v", tt.requested, got, ok, tt.want, tt.ok)
			}
		})
	}
}

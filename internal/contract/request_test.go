package contract

import (
	"net/http/httptest"
	"testing"
)

func TestCanonicalizePath(t *testing.T) {
	tests := []struct{ in, path, raw string }{
		{"/v4/Users/abc/", "/v4/Users/abc", ""},
		{"/v4/Users/abc//", "/v4/Users/abc", ""},
		{"/v4/Users/a%2Fb/", "/v4/Users/a/b", "/v4/Users/a%2Fb"},
		{"/v4/Users/abc", "/v4/Users/abc", ""},
		{"/v4/", "/v4/", ""},
		{"/healthz/", "/healthz/", ""},
	}
	for _, tt := range tests {
		r := httptest.NewRequest("GET", tt.in, nil)
		CanonicalizePath(r)
		if r.URL.Path != tt.path || r.URL.RawPath != tt.raw {
			t.Errorf("%s: path %q raw %q, want %q %q", tt.in, r.URL.Path, r.URL.RawPath, tt.path, tt.raw)
		}
	}
}

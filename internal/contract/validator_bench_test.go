package contract_test

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"
)

// BenchmarkValidate is the request validator on the four requests `make bench` sends (the
// middleware's whole cost: routing, headers, path, query, body, the prose rules). Each iteration
// works on a fresh clone of the request, because Validate fills defaults into its query and
// replaces its body; the clone costs about a microsecond of what is reported.
func BenchmarkValidate(b *testing.B) {
	v := newValidator(b)
	cases := []struct {
		name, method, target, body string
	}{
		{"GetUserById", http.MethodGet, "/v4/Users/3f6f8b1e-2c4d-4f3a-9d7e-1a2b3c4d5e6f", ""},
		{"GetUsersByEmail", http.MethodGet, "/v4/Users?email=reader-00042%40bench.example", ""},
		{"CreateUser", http.MethodPost, "/v4/Users",
			`{"email":"new-0001@bench.example","password":"correct-horse-battery-staple","firstName":"Ada","lastName":"Lovelace","metadata":{"plan":"gold"}}`},
		{"Authenticate", http.MethodPost, "/v4/Users/Authentication",
			`{"loginName":"login-00001@bench.example","password":"correct-horse-battery-staple"}`},
	}
	for _, c := range cases {
		b.Run(c.name, func(b *testing.B) {
			tmpl := request(c.method, c.target, c.body)
			body := []byte(c.body)
			ctx := context.Background()
			b.ReportAllocs()
			for b.Loop() {
				r := tmpl.Clone(ctx)
				if c.body != "" {
					r.Body = io.NopCloser(bytes.NewReader(body))
				}
				if res := v.Validate(ctx, r); len(res.Violations) > 0 {
					b.Fatalf("%s: %v", c.name, res.Violations)
				}
			}
		})
	}
}

// BenchmarkValidateRejected is a request refused at the headers (the cheapest failure): what a
// flood of bad requests costs.
func BenchmarkValidateRejected(b *testing.B) {
	v := newValidator(b)
	tmpl := httptest.NewRequest(http.MethodGet, "/v4/Users/3f6f8b1e-2c4d-4f3a-9d7e-1a2b3c4d5e6f", nil)
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		if res := v.Validate(ctx, tmpl.Clone(ctx)); len(res.Violations) == 0 {
			b.Fatal("a request without headers passed")
		}
	}
}

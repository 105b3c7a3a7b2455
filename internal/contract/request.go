package contract

import (
	"net/http"
	"strings"
)

// MaxBodyBytes caps request bodies (64 KiB): the largest valid body is a few KiB. The server and
// the `validate` command apply the same cap, so that both judge a request alike.
const MaxBodyBytes = 64 << 10

// CanonicalizePath rewrites a published trailing-slash form of a /v4 path (/v4/Users/{id}/) to
// the canonical one, which the contract's paths and the server's routes name. The server applies
// it before routing, and the `validate` command too, so that it judges a request as the server does.
func CanonicalizePath(r *http.Request) {
	if p := r.URL.Path; len(p) > len("/v4/") && strings.HasPrefix(p, "/v4/") && strings.HasSuffix(p, "/") {
		r.URL.Path = strings.TrimRight(p, "/")
		if r.URL.RawPath != "" {
			r.URL.RawPath = strings.TrimRight(r.URL.RawPath, "/")
		}
	}
}

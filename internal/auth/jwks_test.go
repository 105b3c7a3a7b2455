package auth

import (
	"context"
	"crypto/x509"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/MicahParks/jwkset"
	"github.com/golang-jwt/jwt/v5"
)

// jwksServer serves a JWK Set that a test can change, on 127.0.0.1, and counts fetches.
type jwksServer struct {
	*httptest.Server
	mu   sync.Mutex
	set  jwkset.JWKSMarshal
	hits atomic.Int64
}

func newJWKSServer(t *testing.T) *jwksServer {
	t.Helper()
	s := &jwksServer{}
	s.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		s.hits.Add(1)
		s.mu.Lock()
		body, err := json.Marshal(s.set)
		s.mu.Unlock()
		if err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write(body)
	}))
	t.Cleanup(s.Close)
	return s
}

// serve replaces the served set with keys, each given as a kid and a key.
func (s *jwksServer) serve(t *testing.T, keys ...jwkEntry) {
	t.Helper()
	set := jwkset.JWKSMarshal{Keys: []jwkset.JWKMarshal{}}
	for _, k := range keys {
		opts := jwkset.JWKOptions{Metadata: jwkset.JWKMetadataOptions{KID: k.kid, ALG: k.alg, USE: jwkset.UseSig}}
		if _, symmetric := k.key.([]byte); symmetric {
			opts.Marshal.Private = true
		}
		jwk, err := jwkset.NewJWKFromKey(k.key, opts)
		if err != nil {
			t.Fatalf("JWK %s: %v", k.kid, err)
		}
		set.Keys = append(set.Keys, jwk.Marshal())
	}
	s.mu.Lock()
	s.set = set
	s.mu.Unlock()
}

type jwkEntry struct {
	kid string
	alg jwkset.ALG
	key any
}

// TestJWKSEarlyRefreshIsRateLimited: an unknown kid triggers one fetch; another within the
// minute triggers none, even if the key has been published meanwhile (it is picked up by the
// next allowance or the background refresh). This is what keeps forged kids from turning the
// verifier into a JWKS hammer.
func TestJWKSEarlyRefreshIsRateLimited(t *testing.T) {
	k := newKeys(t)
	srv := newJWKSServer(t)
	srv.serve(t, jwkEntry{"k1", jwkset.AlgRS256, &k.rsa.PublicKey})
	v := newTestVerifier(t, Config{JWKSURL: srv.URL, Issuer: issuer, Audience: audience})
	if got := srv.hits.Load(); got != 1 {
		t.Fatalf("fetches at start = %d, want 1", got)
	}
	withKID := func(kid string, method jwt.SigningMethod, key any) string {
		return "Bearer " + sign(t, method, key, map[string]any{"kid": kid}, baseClaims())
	}

	steps := []struct {
		name      string
		before    func()
		auth      string
		wantErr   bool
		wantFetch int64
	}{
		{"known kid", nil, withKID("k1", jwt.SigningMethodRS256, k.rsa), false, 1},
		{"new kid not yet published", nil, withKID("k2", jwt.SigningMethodES256, k.ec), true, 2},
		{
			"new kid published within the minute", func() {
				srv.serve(t, jwkEntry{"k1", jwkset.AlgRS256, &k.rsa.PublicKey}, jwkEntry{"k2", jwkset.AlgES256, &k.ec.PublicKey})
			}, withKID("k2", jwt.SigningMethodES256, k.ec), true, 2,
		},
	}
	for _, s := range steps {
		if s.before != nil {
			s.before()
		}
		_, err := v.Verify(t.Context(), s.auth)
		if (err != nil) != s.wantErr {
			t.Fatalf("%s: Verify error = %v, wantErr %v", s.name, err, s.wantErr)
		}
		if err != nil && !errors.Is(err, ErrUnauthorized) {
			t.Fatalf("%s: %v does not wrap ErrUnauthorized", s.name, err)
		}
		if got := srv.hits.Load(); got != s.wantFetch {
			t.Fatalf("%s: fetches = %d, want %d", s.name, got, s.wantFetch)
		}
	}
}

// TestJWKSUnknownKIDRefresh is the plain rotation: the new key is published before the first
// token that uses it arrives, and that token triggers the refresh and passes.
func TestJWKSUnknownKIDRefresh(t *testing.T) {
	k := newKeys(t)
	srv := newJWKSServer(t)
	srv.serve(t, jwkEntry{"k1", jwkset.AlgRS256, &k.rsa.PublicKey})
	v := newTestVerifier(t, Config{JWKSURL: srv.URL})

	k1 := "Bearer " + sign(t, jwt.SigningMethodRS256, k.rsa, map[string]any{"kid": "k1"}, baseClaims())
	k2 := "Bearer " + sign(t, jwt.SigningMethodES256, k.ec, map[string]any{"kid": "k2"}, baseClaims())
	forged := "Bearer " + sign(t, jwt.SigningMethodES256, k.ecOther, map[string]any{"kid": "k3"}, baseClaims())
	noKID := "Bearer " + sign(t, jwt.SigningMethodRS256, k.rsa, nil, baseClaims())

	if _, err := v.Verify(t.Context(), k1); err != nil {
		t.Fatalf("k1: %v", err)
	}
	srv.serve(t, jwkEntry{"k1", jwkset.AlgRS256, &k.rsa.PublicKey}, jwkEntry{"k2", jwkset.AlgES256, &k.ec.PublicKey})
	if _, err := v.Verify(t.Context(), k2); err != nil {
		t.Fatalf("k2 after rotation: %v", err)
	}
	if got := srv.hits.Load(); got != 2 {
		t.Fatalf("fetches = %d, want 2 (start + one refresh for the unknown kid)", got)
	}
	for range 5 {
		if _, err := v.Verify(t.Context(), forged); !errors.Is(err, ErrUnauthorized) {
			t.Fatalf("forged kid: %v", err)
		}
	}
	if got := srv.hits.Load(); got != 2 {
		t.Fatalf("forged kids caused fetches: %d, want 2", got)
	}
	if _, err := v.Verify(t.Context(), noKID); err != nil {
		t.Fatalf("token without kid, signed by a published key: %v", err)
	}
	if _, err := v.Verify(t.Context(), k1); err != nil {
		t.Fatalf("k1 after rotation: %v", err)
	}
}

// TestJWKSBackgroundRefresh: a key removed from the JWKS stops verifying after the next
// background refresh, and the refresh stops when NewVerifier's context ends.
func TestJWKSBackgroundRefresh(t *testing.T) {
	k := newKeys(t)
	srv := newJWKSServer(t)
	srv.serve(t, jwkEntry{"k1", jwkset.AlgRS256, &k.rsa.PublicKey}, jwkEntry{"k2", jwkset.AlgES256, &k.ec.PublicKey})
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	v, err := NewVerifier(ctx, Config{JWKSURL: srv.URL, JWKSRefreshInterval: 50 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	v.now = func() time.Time { return now }
	k1 := "Bearer " + sign(t, jwt.SigningMethodRS256, k.rsa, map[string]any{"kid": "k1"}, baseClaims())
	if _, err := v.Verify(t.Context(), k1); err != nil {
		t.Fatalf("k1: %v", err)
	}
	srv.serve(t, jwkEntry{"k2", jwkset.AlgES256, &k.ec.PublicKey}) // k1 revoked
	deadline := time.Now().Add(5 * time.Second)
	for {
		if _, err := v.Verify(t.Context(), k1); err != nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("revoked key still verifies after 5s of 50ms refreshes")
		}
		time.Sleep(20 * time.Millisecond)
	}
	cancel()
	time.Sleep(100 * time.Millisecond) // let a refresh already under way finish
	before := srv.hits.Load()
	time.Sleep(300 * time.Millisecond)
	if after := srv.hits.Load(); after != before {
		t.Fatalf("refresh continued after the context ended: %d -> %d fetches", before, after)
	}
}

// TestJWKSKeyKinds: keys from a JWKS are used only by their own algorithm. An HMAC ("oct") key
// published in the JWKS never verifies anything, and a kid naming a key of another kind fails.
func TestJWKSKeyKinds(t *testing.T) {
	k := newKeys(t)
	hmacKey := []byte("an-hmac-key-someone-published-in-the-jwks")
	srv := newJWKSServer(t)
	srv.serve(t,
		jwkEntry{"r1", jwkset.AlgRS256, &k.rsa.PublicKey},
		jwkEntry{"e1", jwkset.AlgES256, &k.ec.PublicKey},
		jwkEntry{"h1", jwkset.AlgHS256, hmacKey},
	)
	rsaDER := mustPKIX(t, &k.rsa.PublicKey)
	tests := []struct {
		name    string
		cfg     Config
		auth    string
		wantErr bool
	}{
		{"RS256 by kid", Config{JWKSURL: srv.URL}, sign(t, jwt.SigningMethodRS256, k.rsa, map[string]any{"kid": "r1"}, baseClaims()), false},
		{"ES256 by kid", Config{JWKSURL: srv.URL}, sign(t, jwt.SigningMethodES256, k.ec, map[string]any{"kid": "e1"}, baseClaims()), false},
		{"ES256 without kid", Config{JWKSURL: srv.URL}, sign(t, jwt.SigningMethodES256, k.ec, nil, baseClaims()), false},
		{"HS256 with the published oct key", Config{JWKSURL: srv.URL}, sign(t, jwt.SigningMethodHS256, hmacKey, map[string]any{"kid": "h1"}, baseClaims()), true},
		{
			"HS256 with the published oct key, HS256 enabled by a secret",
			Config{JWKSURL: srv.URL, HS256Secrets: []string{secret1}},
			sign(t, jwt.SigningMethodHS256, hmacKey, map[string]any{"kid": "h1"}, baseClaims()), true,
		},
		{
			"alg confusion through the JWKS",
			Config{JWKSURL: srv.URL, HS256Secrets: []string{secret1}},
			sign(t, jwt.SigningMethodHS256, rsaDER, map[string]any{"kid": "r1"}, baseClaims()), true,
		},
		{"RS256 header naming the EC key", Config{JWKSURL: srv.URL}, sign(t, jwt.SigningMethodRS256, k.rsa, map[string]any{"kid": "e1"}, baseClaims()), true},
		{"kid not a string", Config{JWKSURL: srv.URL}, sign(t, jwt.SigningMethodRS256, k.rsa, map[string]any{"kid": 7}, baseClaims()), true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			v := newTestVerifier(t, tt.cfg)
			_, err := v.Verify(t.Context(), "Bearer "+tt.auth)
			if (err != nil) != tt.wantErr {
				t.Fatalf("Verify error = %v, wantErr %v", err, tt.wantErr)
			}
		})
	}
}

// TestJWKSUnreachableAtStart: the service starts while the JWKS is down, and refuses tokens
// until it is back.
func TestJWKSUnreachableAtStart(t *testing.T) {
	k := newKeys(t)
	srv := newJWKSServer(t)
	url := srv.URL
	srv.Close()
	v := newTestVerifier(t, Config{JWKSURL: url})
	tok := sign(t, jwt.SigningMethodRS256, k.rsa, map[string]any{"kid": "k1"}, baseClaims())
	if _, err := v.Verify(t.Context(), tok); !errors.Is(err, ErrUnauthorized) {
		t.Fatalf("Verify with no keys fetched: %v", err)
	}
}

func mustPKIX(t *testing.T, pub any) []byte {
	t.Helper()
	der, err := x509.MarshalPKIXPublicKey(pub)
	if err != nil {
		t.Fatal(err)
	}
	return der
}

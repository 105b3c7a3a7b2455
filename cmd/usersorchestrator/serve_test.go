package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// The service refuses to serve beyond loopback with a key anyone can read in this repository, says
// which key and how to set it, and touches nothing before refusing (issue 9, finding 2).
func TestServeRefusesDevelopmentKeysOffLoopback(t *testing.T) {
	const (
		encKey = "cHJvZHVjdGlvbi1lbmNyeXB0aW9uLWtleS0wMDAwMDAwMDA="
		sesKey = "cHJvZHVjdGlvbi1zZXNzaW9uLWtleS0wMDAwMDAwMDAwMA=="
		secret = "a-production-secret-of-at-least-32-bytes"
	)
	tests := []struct {
		name     string
		env      map[string]string
		wantSays []string
		mustNot  []string
	}{
		{name: "the image's default listener and no keys", env: map[string]string{"UO_LISTEN": "0.0.0.0:0"},
			wantSays: []string{"keys.encryption (UO_ENCRYPTION_KEY)", "keys.session (UO_SESSION_KEY)", "auth.hs256Secrets (UO_AUTH_HS256_SECRET", "openssl rand"}},
		{name: "only the API secret set", env: map[string]string{"UO_LISTEN": "0.0.0.0:0", "UO_AUTH_HS256_SECRET": secret},
			wantSays: []string{"keys.encryption (UO_ENCRYPTION_KEY)", "keys.session (UO_SESSION_KEY)"}, mustNot: []string{"auth.hs256Secrets"}},
		{name: "every key but the session key", env: map[string]string{"UO_LISTEN": ":0", "UO_AUTH_HS256_SECRET": secret, "UO_ENCRYPTION_KEY": encKey},
			wantSays: []string{"keys.session (UO_SESSION_KEY)"}, mustNot: []string{"keys.encryption", "auth.hs256Secrets"}},
		{name: "the development API secret chosen by hand", env: map[string]string{"UO_LISTEN": "0.0.0.0:0", "UO_ENCRYPTION_KEY": encKey, "UO_SESSION_KEY": sesKey,
			"UO_AUTH_HS256_SECRET": "development-only-jwt-secret-change-me-000000"}, wantSays: []string{"auth.hs256Secrets"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			db := filepath.Join(t.TempDir(), "uo.db")
			tt.env["UO_DATABASE_PATH"] = db
			var stdout, stderr bytes.Buffer
			code := run([]string{"serve"}, strings.NewReader(""), &stdout, &stderr, func(k string) string { return tt.env[k] })
			if code != 1 {
				t.Fatalf("exit %d, want 1 (refused); stderr %s", code, stderr.String())
			}
			for _, w := range tt.wantSays {
				if !strings.Contains(stderr.String(), w) {
					t.Errorf("the refusal does not say %q: %s", w, stderr.String())
				}
			}
			for _, w := range tt.mustNot {
				if strings.Contains(stderr.String(), w) {
					t.Errorf("the refusal names %q, which is set: %s", w, stderr.String())
				}
			}
			if _, err := os.Stat(db); !os.IsNotExist(err) {
				t.Errorf("the refused service created its database: %v", err)
			}
		})
	}
}

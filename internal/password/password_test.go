package password

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/alexedwards/argon2id"
)

// fastParams keep the functional tests quick; DefaultParams are exercised by the timing test
// and the benchmarks.
var fastParams = Params{Memory: 64, Iterations: 1, Parallelism: 1, SaltLength: 16, KeyLength: 32}

func TestDefaultParamsAreOWASPMinimum(t *testing.T) {
	want := Params{Memory: 19 * 1024, Iterations: 2, Parallelism: 1, SaltLength: 16, KeyLength: 32}
	if got := DefaultParams(); got != want {
		t.Fatalf("DefaultParams() = %+v, want %+v", got, want)
	}
	if err := DefaultParams().validate(); err != nil {
		t.Fatalf("DefaultParams invalid: %v", err)
	}
}

func TestHashFormat(t *testing.T) {
	h := NewHasher(DefaultParams())
	encoded, err := h.Hash("correct horse battery staple")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(encoded, "$argon2id$v=19$m=19456,t=2,p=1$") {
		t.Fatalf("hash %q is not argon2id with the default parameters", encoded)
	}
	params, salt, key, err := argon2id.DecodeHash(encoded)
	if err != nil {
		t.Fatal(err)
	}
	if len(salt) != 16 || len(key) != 32 || params.Memory != 19456 {
		t.Fatalf("decoded params %+v salt %d key %d", params, len(salt), len(key))
	}
	if strings.Contains(encoded, "correct horse") {
		t.Fatal("hash contains the password")
	}
	again, err := h.Hash("correct horse battery staple")
	if err != nil {
		t.Fatal(err)
	}
	if again == encoded {
		t.Fatal("two hashes of one password are equal: salt is not random")
	}
}

func TestHashInvalidParams(t *testing.T) {
	tests := []struct {
		name string
		p    Params
	}{
		{"zero", Params{}},
		{"no iterations", Params{Memory: 64, Iterations: 0, Parallelism: 1, SaltLength: 16, KeyLength: 32}},
		{"no parallelism", Params{Memory: 64, Iterations: 1, Parallelism: 0, SaltLength: 16, KeyLength: 32}},
		{"memory below 8p", Params{Memory: 15, Iterations: 1, Parallelism: 2, SaltLength: 16, KeyLength: 32}},
		{"memory too large", Params{Memory: maxMemoryKiB + 1, Iterations: 1, Parallelism: 1, SaltLength: 16, KeyLength: 32}},
		{"short salt", Params{Memory: 64, Iterations: 1, Parallelism: 1, SaltLength: 4, KeyLength: 32}},
		{"short key", Params{Memory: 64, Iterations: 1, Parallelism: 1, SaltLength: 16, KeyLength: 8}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := NewHasher(tt.p)
			if got, err := h.Hash("secret-password"); err == nil {
				t.Fatalf("Hash with %+v = %q, want an error", tt.p, got)
			}
			// The dummy falls back to sane parameters, so VerifyDummy must not panic.
			h.VerifyDummy("secret-password")
		})
	}
}

func TestVerify(t *testing.T) {
	h := NewHasher(fastParams)
	encoded, err := h.Hash("s3cret-Passw0rd")
	if err != nil {
		t.Fatal(err)
	}
	// A hash made with other (older) parameters must keep verifying.
	legacy, err := NewHasher(Params{Memory: 128, Iterations: 3, Parallelism: 2, SaltLength: 8, KeyLength: 16}).Hash("old-password")
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name     string
		password string
		encoded  string
		want     bool
	}{
		{"match", "s3cret-Passw0rd", encoded, true},
		{"wrong", "s3cret-Passw0rD", encoded, false},
		{"empty", "", encoded, false},
		{"prefix", "s3cret", encoded, false},
		{"longer", "s3cret-Passw0rd ", encoded, false},
		{"legacy params match", "old-password", legacy, true},
		{"legacy params wrong", "old-passwore", legacy, false},
		{"unicode", "pässwörd", mustHash(t, h, "pässwörd"), true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := h.Verify(tt.password, tt.encoded)
			if err != nil {
				t.Fatalf("Verify: %v", err)
			}
			if got != tt.want {
				t.Fatalf("Verify = %v, want %v", got, tt.want)
			}
		})
	}
}

func mustHash(t *testing.T, h *Hasher, pw string) string {
	t.Helper()
	s, err := h.Hash(pw)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestVerifyMalformed(t *testing.T) {
	h := NewHasher(fastParams)
	good := mustHash(t, h, "pw-pw-pw-pw")
	parts := strings.Split(good, "$") // "", argon2id, v=19, m=..,t=..,p=.., salt, key
	with := func(i int, v string) string {
		p := slices.Clone(parts)
		p[i] = v
		return strings.Join(p, "$")
	}
	tests := []struct {
		name    string
		encoded string
	}{
		{"empty", ""},
		{"plain text", "pw-pw-pw-pw"},
		{"bcrypt", "$2a$10$N9qo8uLOickgx2ZMRZoMyeIjZAgcfl7p92ldGxad68LJZdL17lhWy"},
		{"argon2i", with(1, "argon2i")},
		{"version 16", with(2, "v=16")},
		{"zero iterations", with(3, "m=64,t=0,p=1")},
		{"zero parallelism", with(3, "m=64,t=1,p=0")},
		{"huge memory", with(3, fmt.Sprintf("m=%d,t=1,p=1", maxMemoryKiB+1))},
		{"trailing junk in params", with(3, "m=64,t=1,p=1,x=2")},
		{"bad salt base64", with(4, "!!!!")},
		{"short salt", with(4, "AAAA")},
		{"bad key base64", with(5, "@@@@")},
		{"short key", with(5, "AAAAAAAAAAA")},
		{"too few fields", strings.Join(parts[:5], "$")},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ok, err := h.Verify("pw-pw-pw-pw", tt.encoded)
			if !errors.Is(err, ErrMalformedHash) {
				t.Fatalf("Verify(%q) = %v, %v; want ErrMalformedHash", tt.encoded, ok, err)
			}
			if ok {
				t.Fatal("malformed hash matched")
			}
			if strings.Contains(err.Error(), "pw-pw-pw-pw") {
				t.Fatalf("error %q contains the password", err)
			}
		})
	}
}

// TestVerifyDummyTiming checks that an unknown user costs what a known one does. The runs are
// interleaved so both see the same machine load, and the bound is loose (a factor of three on
// medians): the test is about "the same work", not scheduler noise. A VerifyDummy that skipped
// the argon2 work would be a thousand times faster.
func TestVerifyDummyTiming(t *testing.T) {
	if testing.Short() {
		t.Skip("timing test runs argon2 with the default parameters")
	}
	h := NewHasher(DefaultParams())
	encoded := mustHash(t, h, "real-password")
	const runs = 7
	var real, dummy []time.Duration
	for range runs {
		start := time.Now()
		if _, err := h.Verify("wrong-password", encoded); err != nil {
			t.Fatal(err)
		}
		real = append(real, time.Since(start))
		start = time.Now()
		h.VerifyDummy("wrong-password")
		dummy = append(dummy, time.Since(start))
	}
	slices.Sort(real)
	slices.Sort(dummy)
	r, d := real[runs/2], dummy[runs/2]
	if ratio := float64(d) / float64(r); ratio < 1.0/3 || ratio > 3 {
		t.Fatalf("VerifyDummy took %v, Verify %v (median ratio %.2f)", d, r, ratio)
	}
}

func TestVerifyDummyNeverMatches(t *testing.T) {
	h := NewHasher(fastParams)
	for _, pw := range []string{"", "password", "\x00"} {
		if ok, err := h.Verify(pw, h.dummy); err != nil || ok {
			t.Fatalf("dummy hash: Verify(%q) = %v, %v", pw, ok, err)
		}
	}
}

func TestGenerate(t *testing.T) {
	seen := make(map[string]bool)
	for range 200 {
		pw, err := Generate()
		if err != nil {
			t.Fatal(err)
		}
		if len(pw) < 24 {
			t.Fatalf("generated password %q is shorter than 24", pw)
		}
		for _, class := range []string{lowers, uppers, digits, symbols} {
			if !strings.ContainsAny(pw, class) {
				t.Fatalf("generated password %q lacks one of %q", pw, class)
			}
		}
		if strings.Trim(pw, alphabet) != "" {
			t.Fatalf("generated password %q has characters outside the alphabet", pw)
		}
		if seen[pw] {
			t.Fatalf("Generate repeated %q", pw)
		}
		seen[pw] = true
	}
}

func BenchmarkHash(b *testing.B) {
	h := NewHasher(DefaultParams())
	for b.Loop() {
		if _, err := h.Hash("correct horse battery staple"); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkVerify(b *testing.B) {
	h := NewHasher(DefaultParams())
	encoded, err := h.Hash("correct horse battery staple")
	if err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		if ok, err := h.Verify("correct horse battery staple", encoded); err != nil || !ok {
			b.Fatalf("Verify = %v, %v", ok, err)
		}
	}
}

func BenchmarkVerifyDummy(b *testing.B) {
	h := NewHasher(DefaultParams())
	for b.Loop() {
		h.VerifyDummy("correct horse battery staple")
	}
}

// TestBoundedHasherLimitsConcurrency: no more than maxConcurrent argon2 runs are in flight.
func TestBoundedHasherLimitsConcurrency(t *testing.T) {
	cheap := Params{Memory: 64, Iterations: 1, Parallelism: 1, SaltLength: 16, KeyLength: 32}
	h := NewBoundedHasher(cheap, 2)
	var inFlight, peak atomic.Int32
	var wg sync.WaitGroup
	for range 16 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			release := h.acquire()
			n := inFlight.Add(1)
			for {
				p := peak.Load()
				if n <= p || peak.CompareAndSwap(p, n) {
					break
				}
			}
			time.Sleep(2 * time.Millisecond)
			inFlight.Add(-1)
			release()
		}()
	}
	wg.Wait()
	if got := peak.Load(); got != 2 {
		t.Errorf("peak concurrency %d, want 2", got)
	}
	if _, err := h.Hash("correct-horse"); err != nil {
		t.Fatal(err)
	}
}

package secrets

import (
	"bytes"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"strings"
	"sync"
	"testing"

	"golang.org/x/crypto/hkdf"
)

// testKey is a fixed master key so that golden values below stay stable.
var testKey = bytes.Repeat([]byte{0x42}, 32)

func newTestSealer(t testing.TB, key []byte) *Sealer {
	t.Helper()
	s, err := NewSealer(key)
	if err != nil {
		t.Fatalf("NewSealer: %v", err)
	}
	return s
}

func TestNewSealer(t *testing.T) {
	tests := []struct {
		name    string
		key     []byte
		wantErr bool
	}{
		{"nil", nil, true},
		{"31 bytes", make([]byte, 31), true},
		{"32 bytes", make([]byte, 32), false},
		{"64 bytes", make([]byte, 64), false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := NewSealer(tt.key)
			if (err != nil) != tt.wantErr {
				t.Fatalf("NewSealer(%d bytes) error = %v, wantErr %v", len(tt.key), err, tt.wantErr)
			}
		})
	}
}

func TestSealOpenRoundTrip(t *testing.T) {
	s := newTestSealer(t, testKey)
	tests := []struct {
		name      string
		purpose   string
		plaintext []byte
	}{
		{"empty plaintext", "customerRegistrationId", []byte{}},
		{"id", "customerRegistrationId", []byte("12345")},
		{"email", "email", []byte("jane.doe@example.com")},
		{"binary", "eventId", []byte{0, 1, 2, 0xff, 0xfe}},
		{"empty purpose", "", []byte("x")},
		{"purpose with NUL", "a\x00b", []byte("c")},
		{"long", "email", bytes.Repeat([]byte("a"), 4000)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			sealed := s.Seal(tt.purpose, tt.plaintext)
			if strings.ContainsAny(sealed, "+/=") {
				t.Fatalf("sealed value %q is not URL-safe unpadded base64", sealed)
			}
			if bytes.Contains([]byte(sealed), tt.plaintext) && len(tt.plaintext) > 2 {
				t.Fatalf("sealed value shows the plaintext")
			}
			got, err := s.Open(tt.purpose, sealed)
			if err != nil {
				t.Fatalf("Open: %v", err)
			}
			if !bytes.Equal(got, tt.plaintext) {
				t.Fatalf("Open = %q, want %q", got, tt.plaintext)
			}
			if again := s.Seal(tt.purpose, tt.plaintext); again != sealed {
				t.Fatalf("Seal is not deterministic: %q then %q", sealed, again)
			}
		})
	}
}

// TestSealGolden pins the format: stored or handed-out encrypted ids must keep opening (and
// keep comparing equal) after any refactoring.
func TestSealGolden(t *testing.T) {
	s := newTestSealer(t, testKey)
	// Computed independently with Python's cryptography package (HKDF-SHA256, HMAC nonce, AESGCM).
	const want = "OUm1p8vvjLm7UscesflW-kv1XyiWm_2Hs-E-g0zKYZ-b"
	if got := s.Seal("customerRegistrationId", []byte("12345")); got != want {
		t.Fatalf("Seal changed its output: got %q, want %q", got, want)
	}
	got, err := s.Open("customerRegistrationId", want)
	if err != nil || string(got) != "12345" {
		t.Fatalf("Open(golden) = %q, %v", got, err)
	}
}

// TestSealConcurrently seals from many goroutines at once, so that the reused nonce HMACs are
// handed between them: every value must still seal to its golden answer and open again.
func TestSealConcurrently(t *testing.T) {
	s := newTestSealer(t, testKey)
	const golden = "OUm1p8vvjLm7UscesflW-kv1XyiWm_2Hs-E-g0zKYZ-b"
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Go(func() {
			for i := range 200 {
				other := fmt.Sprintf("user-%d-%d", g, i)
				sealed := s.Seal("customerRegistrationId", []byte(other))
				if got := s.Seal("customerRegistrationId", []byte("12345")); got != golden {
					t.Errorf("Seal = %q, want %q", got, golden)
					return
				}
				if plain, err := s.Open("customerRegistrationId", sealed); err != nil || string(plain) != other {
					t.Errorf("Open(Seal(%q)) = %q, %v", other, plain, err)
					return
				}
			}
		})
	}
	wg.Wait()
}

func TestSealDistinguishes(t *testing.T) {
	s := newTestSealer(t, testKey)
	other := newTestSealer(t, bytes.Repeat([]byte{0x43}, 32))
	base := s.Seal("customerRegistrationId", []byte("12345"))
	tests := []struct {
		name string
		got  string
	}{
		{"other plaintext", s.Seal("customerRegistrationId", []byte("12346"))},
		{"other purpose", s.Seal("email", []byte("12345"))},
		{"other key", other.Seal("customerRegistrationId", []byte("12345"))},
		// The same bytes split differently between purpose and plaintext must not share a nonce.
		{"shifted boundary", s.Seal("customerRegistrationId1", []byte("2345"))},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.got == base {
				t.Fatalf("sealed values collide")
			}
			if tt.got[:16] == base[:16] {
				t.Fatalf("nonces collide: %q vs %q", tt.got[:16], base[:16])
			}
		})
	}
}

func TestOpenRejects(t *testing.T) {
	s := newTestSealer(t, testKey)
	other := newTestSealer(t, bytes.Repeat([]byte{0x43}, 32))
	good := s.Seal("customerRegistrationId", []byte("12345"))
	raw, err := base64.RawURLEncoding.DecodeString(good)
	if err != nil {
		t.Fatal(err)
	}
	flip := func(i int) string {
		b := bytes.Clone(raw)
		b[i] ^= 0x01
		return base64.RawURLEncoding.EncodeToString(b)
	}
	// A GCM box that authenticates under the right key but with a nonce Seal would not choose.
	randomNonce := make([]byte, nonceLen)
	if _, err := rand.Read(randomNonce); err != nil {
		t.Fatal(err)
	}
	foreignNonce := base64.RawURLEncoding.EncodeToString(
		s.aead.Seal(bytes.Clone(randomNonce), randomNonce, []byte("12345"), []byte("customerRegistrationId")))
	// Same bytes, non-canonical trailing bits in the last character.
	lastBitsSet := good[:len(good)-1] + string(good[len(good)-1]+1)

	tests := []struct {
		name    string
		purpose string
		sealed  string
	}{
		{"empty", "customerRegistrationId", ""},
		{"garbage", "customerRegistrationId", "not-a-sealed-value"},
		{"wrong purpose", "email", good},
		{"other key", "customerRegistrationId", other.Seal("customerRegistrationId", []byte("12345"))},
		{"flipped nonce byte", "customerRegistrationId", flip(0)},
		{"flipped ciphertext byte", "customerRegistrationId", flip(nonceLen)},
		{"flipped tag byte", "customerRegistrationId", flip(len(raw) - 1)},
		{"truncated", "customerRegistrationId", good[:len(good)-2]},
		{"extended", "customerRegistrationId", good + "AA"},
		{"padded", "customerRegistrationId", good + "=="},
		{"standard alphabet", "customerRegistrationId", strings.NewReplacer("-", "+", "_", "/").Replace(good) + "+/"},
		{"non-canonical trailing bits", "customerRegistrationId", lastBitsSet},
		{"foreign nonce", "customerRegistrationId", foreignNonce},
		{"too long", "customerRegistrationId", strings.Repeat("A", maxSealedLen+1)},
		// The base64 decoder skips line breaks; they must not give a value a second spelling.
		{"embedded newline", "customerRegistrationId", good[:10] + "\r\n" + good[10:]},
		{"newlines only", "customerRegistrationId", strings.Repeat("\r", 40)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := s.Open(tt.purpose, tt.sealed)
			if !errors.Is(err, ErrInvalid) {
				t.Fatalf("Open = %q, %v; want ErrInvalid", got, err)
			}
			if got != nil {
				t.Fatalf("Open returned plaintext %q with an error", got)
			}
		})
	}
}

// TestMACKnownAnswer recomputes the MAC independently (HKDF subkey, length-prefixed HMAC), so
// a change of the stored hashes' format cannot slip through.
func TestMACKnownAnswer(t *testing.T) {
	s := newTestSealer(t, testKey)
	macKey := make([]byte, 32)
	if _, err := io.ReadFull(hkdf.New(sha256.New, testKey, nil, []byte(infoMAC)), macKey); err != nil {
		t.Fatal(err)
	}
	m := hmac.New(sha256.New, macKey)
	for _, p := range []string{"verificationCode", "jane@example.com", "123456"} {
		var n [8]byte
		binary.BigEndian.PutUint64(n[:], uint64(len(p)))
		m.Write(n[:])
		m.Write([]byte(p))
	}
	want := m.Sum(nil)
	got := s.MAC("verificationCode", []byte("jane@example.com"), []byte("123456"))
	if !bytes.Equal(got, want) {
		t.Fatalf("MAC = %x, want %x", got, want)
	}
}

func TestMACDistinguishes(t *testing.T) {
	s := newTestSealer(t, testKey)
	other := newTestSealer(t, bytes.Repeat([]byte{0x43}, 32))
	base := s.MAC("code", []byte("ab"), []byte("c"))
	if len(base) != sha256.Size {
		t.Fatalf("MAC length = %d, want %d", len(base), sha256.Size)
	}
	if !bytes.Equal(base, s.MAC("code", []byte("ab"), []byte("c"))) {
		t.Fatal("MAC is not deterministic")
	}
	tests := []struct {
		name string
		got  []byte
	}{
		{"moved boundary", s.MAC("code", []byte("a"), []byte("bc"))},
		{"joined parts", s.MAC("code", []byte("abc"))},
		{"purpose absorbs part", s.MAC("codeab", []byte("c"))},
		{"other purpose", s.MAC("reset", []byte("ab"), []byte("c"))},
		{"other key", other.MAC("code", []byte("ab"), []byte("c"))},
		{"extra empty part", s.MAC("code", []byte("ab"), []byte("c"), nil)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if bytes.Equal(tt.got, base) {
				t.Fatal("MACs collide")
			}
		})
	}
}

func TestRandomToken(t *testing.T) {
	tests := []struct {
		n       int
		wantLen int
		wantErr bool
	}{
		{-1, 0, true},
		{0, 0, true},
		{15, 0, true},
		{16, 22, false},
		{32, 43, false},
	}
	for _, tt := range tests {
		tok, err := RandomToken(tt.n)
		if (err != nil) != tt.wantErr {
			t.Fatalf("RandomToken(%d) error = %v, wantErr %v", tt.n, err, tt.wantErr)
		}
		if err != nil {
			continue
		}
		if len(tok) != tt.wantLen {
			t.Fatalf("RandomToken(%d) has length %d, want %d", tt.n, len(tok), tt.wantLen)
		}
		if b, err := base64.RawURLEncoding.DecodeString(tok); err != nil || len(b) != tt.n {
			t.Fatalf("RandomToken(%d) = %q does not decode to %d bytes: %v", tt.n, tok, tt.n, err)
		}
		again, _ := RandomToken(tt.n)
		if again == tok {
			t.Fatalf("RandomToken(%d) repeated itself", tt.n)
		}
	}
}

func TestRandomDigits(t *testing.T) {
	for _, n := range []int{-1, 0, maxDigits + 1} {
		if _, err := RandomDigits(n); err == nil {
			t.Fatalf("RandomDigits(%d) gave no error", n)
		}
	}
	for _, n := range []int{1, 6, maxDigits} {
		d, err := RandomDigits(n)
		if err != nil {
			t.Fatalf("RandomDigits(%d): %v", n, err)
		}
		if len(d) != n || strings.Trim(d, "0123456789") != "" {
			t.Fatalf("RandomDigits(%d) = %q", n, d)
		}
	}
}

// TestRandomDigitsUniform is a chi-square test over 10 digits (9 degrees of freedom). The bound
// 33.7 is the 99.99th percentile: a correct generator fails it once in ten thousand runs, one
// with modulo bias (0..5 about 2.3% more likely) fails it practically always at this sample size.
func TestRandomDigitsUniform(t *testing.T) {
	const samples = 60000
	var counts [10]int
	for i := 0; i < samples/6; i++ {
		d, err := RandomDigits(6)
		if err != nil {
			t.Fatal(err)
		}
		for _, c := range d {
			counts[c-'0']++
		}
	}
	expected := float64(samples) / 10
	var chi2 float64
	for _, c := range counts {
		diff := float64(c) - expected
		chi2 += diff * diff / expected
	}
	if chi2 > 33.7 {
		t.Fatalf("digits are not uniform: counts %v, chi2 %.1f", counts, chi2)
	}
}

func TestParseKey(t *testing.T) {
	key := make([]byte, 32)
	for i := range key {
		key[i] = byte(i*7 + 0xf8) // includes bytes whose base64 needs '+' '/' or '-' '_'
	}
	tests := []struct {
		name    string
		in      string
		want    []byte
		wantErr bool
	}{
		{"hex", hex.EncodeToString(key), key, false},
		{"hex upper", strings.ToUpper(hex.EncodeToString(key)), key, false},
		{"base64 std padded", base64.StdEncoding.EncodeToString(key), key, false},
		{"base64 std raw", base64.RawStdEncoding.EncodeToString(key), key, false},
		{"base64 url padded", base64.URLEncoding.EncodeToString(key), key, false},
		{"base64 url raw", base64.RawURLEncoding.EncodeToString(key), key, false},
		{"surrounding whitespace", "  " + hex.EncodeToString(key) + "\n", key, false},
		{"empty", "", nil, true},
		{"blank", "   ", nil, true},
		{"hex too short", hex.EncodeToString(key[:31]), nil, true},
		{"base64 too short", base64.StdEncoding.EncodeToString(key[:31]), nil, true},
		{"not an encoding", "this is a pass phrase, not a key!!", nil, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseKey(tt.in)
			if (err != nil) != tt.wantErr {
				t.Fatalf("ParseKey error = %v, wantErr %v", err, tt.wantErr)
			}
			if err != nil {
				if trimmed := strings.TrimSpace(tt.in); trimmed != "" && strings.Contains(err.Error(), trimmed) {
					t.Fatalf("error %q quotes the key", err)
				}
				return
			}
			if !bytes.Equal(got, tt.want) {
				t.Fatalf("ParseKey = %x, want %x", got, tt.want)
			}
		})
	}
}

package secrets

import (
	"bytes"
	"errors"
	"testing"
)

// FuzzOpen feeds Open what a client could send as an encrypted value. Open must never panic,
// must answer ErrInvalid for everything it refuses, and whatever it accepts must be exactly what
// Seal produces for that plaintext: one plaintext, one spelling.
//
// The committed corpus (testdata/fuzz/FuzzOpen) holds values sealed under fuzzKey, so the fuzzer
// starts from inputs that reach the authentication and nonce checks.
func FuzzOpen(f *testing.F) {
	s, err := NewSealer(fuzzKey)
	if err != nil {
		f.Fatal(err)
	}
	f.Add("customerRegistrationId", s.Seal("customerRegistrationId", []byte("12345")))
	f.Add("email", s.Seal("email", []byte("jane.doe@example.com")))
	f.Add("email", s.Seal("customerRegistrationId", []byte("12345")))
	f.Add("eventId", "")
	f.Add("eventId", "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA")
	f.Fuzz(func(t *testing.T, purpose, sealed string) {
		plaintext, err := s.Open(purpose, sealed)
		if err != nil {
			if !errors.Is(err, ErrInvalid) {
				t.Fatalf("Open error %v is not ErrInvalid", err)
			}
			if plaintext != nil {
				t.Fatal("Open returned plaintext with an error")
			}
			return
		}
		if again := s.Seal(purpose, plaintext); again != sealed {
			t.Fatalf("Open accepted %q, but Seal spells that plaintext %q", sealed, again)
		}
		reopened, err := s.Open(purpose, sealed)
		if err != nil || !bytes.Equal(reopened, plaintext) {
			t.Fatalf("second Open = %q, %v", reopened, err)
		}
	})
}

// fuzzKey is the master key the committed corpus was sealed under.
var fuzzKey = bytes.Repeat([]byte{0x5a}, 32)

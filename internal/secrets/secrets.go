// Package secrets seals the values the API hands out (encryptedCustomerRegistrationId,
// encryptedEmail, encryptedEventId), keys the hashes of verification codes and reset secrets, and
// draws the random values the workflows need.
//
// Everything is derived from one master key so that operations need to keep exactly one secret;
// HKDF gives each use its own independent subkey, so that knowing (or misusing) one subkey says
// nothing about the others.
package secrets

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"io"
	"strings"
	"sync"

	"golang.org/x/crypto/hkdf"
)

// ErrInvalid reports a sealed value that is malformed, was tampered with, was sealed with another
// key, or was sealed for another purpose. Callers get no finer detail on purpose: telling a
// forger which check failed would help the forgery.
var ErrInvalid = errors.New("secrets: invalid sealed value")

// MinKeyLen is the shortest master key accepted: 256 bits, the strength of AES-256.
const MinKeyLen = 32

// MinTokenBytes is the least entropy RandomToken hands out. A token is a bearer secret; below
// 128 bits it becomes guessable at scale.
const MinTokenBytes = 16

const (
	nonceLen = 12 // the standard GCM nonce size
	tagLen   = 16 // the GCM tag size

	// The HKDF info strings name each subkey's use; changing one changes every value it produced.
	infoEnc   = "usersorchestrator/secrets/v1/aes-256-gcm"
	infoNonce = "usersorchestrator/secrets/v1/synthetic-nonce"
	infoMAC   = "usersorchestrator/secrets/v1/mac"
)

// sealedEncoding is URL-safe so a sealed value can travel in a query string or link unescaped;
// Strict rejects non-zero trailing bits so every sealed value has exactly one string form
// (consumers compare these strings).
var sealedEncoding = base64.RawURLEncoding.Strict()

// Sealer encrypts and authenticates values with subkeys derived from one master key.
// It is safe for concurrent use.
type Sealer struct {
	aead     cipher.AEAD
	nonceKey []byte
	macKey   []byte
	// nonceMACs reuses keyed HMACs: every answer seals its user's id, and a fresh HMAC costs
	// two SHA-256 states and the key schedule.
	nonceMACs sync.Pool
}

// NewSealer derives the encryption, nonce and MAC subkeys from masterKey (at least 32 bytes).
func NewSealer(masterKey []byte) (*Sealer, error) {
	if len(masterKey) < MinKeyLen {
		return nil, fmt.Errorf("secrets: master key has %d bytes, need at least %d", len(masterKey), MinKeyLen)
	}
	encKey, err := derive(masterKey, infoEnc)
	if err != nil {
		return nil, err
	}
	nonceKey, err := derive(masterKey, infoNonce)
	if err != nil {
		return nil, err
	}
	macKey, err := derive(masterKey, infoMAC)
	if err != nil {
		return nil, err
	}
	block, err := aes.NewCipher(encKey)
	if err != nil {
		return nil, fmt.Errorf("secrets: aes: %w", err)
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		return nil, fmt.Errorf("secrets: gcm: %w", err)
	}
	return &Sealer{aead: aead, nonceKey: nonceKey, macKey: macKey}, nil
}

func derive(masterKey []byte, info string) ([]byte, error) {
	key := make([]byte, 32)
	if _, err := io.ReadFull(hkdf.New(sha256.New, masterKey, nil, []byte(info)), key); err != nil {
		return nil, fmt.Errorf("secrets: derive subkey: %w", err)
	}
	return key, nil
}

// Seal encrypts plaintext for purpose with AES-256-GCM and returns it as URL-safe base64 without
// padding. purpose is the additional data, so a value sealed for one purpose never opens for
// another.
//
// Seal is deterministic: the nonce is HMAC(nonceKey, purpose, plaintext), so the same
// (purpose, plaintext) always gives the same string. Consumers compare
// encryptedCustomerRegistrationId values, which random nonces would break. Deriving the nonce
// from everything GCM authenticates keeps nonce reuse impossible: two different inputs share a
// nonce only on an HMAC collision. The price is the usual one of deterministic encryption: equal
// values are recognisable as equal, which is exactly what the consumers ask for.
func (s *Sealer) Seal(purpose string, plaintext []byte) string {
	out := s.appendNonce(make([]byte, 0, nonceLen+len(plaintext)+tagLen), purpose, plaintext)
	out = s.aead.Seal(out, out[:nonceLen], plaintext, []byte(purpose))
	return sealedEncoding.EncodeToString(out)
}

// Open reverses Seal. It answers ErrInvalid for anything malformed, tampered with, sealed under
// another key, or sealed for another purpose.
func (s *Sealer) Open(purpose, sealed string) ([]byte, error) {
	// Refusing giant inputs before decoding bounds the work an attacker can ask for.
	if len(sealed) > maxSealedLen {
		return nil, ErrInvalid
	}
	raw, err := sealedEncoding.DecodeString(sealed)
	// The decoder skips '\r' and '\n', so the input's length is checked again after decoding:
	// that both keeps short inputs out and keeps a second spelling of a value out.
	if err != nil || len(raw) < nonceLen+tagLen || sealedEncoding.EncodedLen(len(raw)) != len(sealed) {
		return nil, ErrInvalid
	}
	nonce, box := raw[:nonceLen], raw[nonceLen:]
	plaintext, err := s.aead.Open(nil, nonce, box, []byte(purpose))
	if err != nil {
		return nil, ErrInvalid
	}
	// Only values Seal could have produced are accepted: a nonce that is not the synthetic one
	// means the value was made some other way, and accepting it would give one plaintext two
	// valid spellings.
	var want [nonceLen]byte
	if !hmac.Equal(nonce, s.appendNonce(want[:0], purpose, plaintext)) {
		return nil, ErrInvalid
	}
	return plaintext, nil
}

// maxSealedLen bounds what Open will decode; the API seals ids, emails and event ids, all far
// shorter.
const maxSealedLen = 8 << 10

// appendNonce appends the synthetic nonce of (purpose, plaintext) to dst.
func (s *Sealer) appendNonce(dst []byte, purpose string, plaintext []byte) []byte {
	m, ok := s.nonceMACs.Get().(hash.Hash)
	if ok {
		m.Reset()
	} else {
		m = hmac.New(sha256.New, s.nonceKey)
	}
	writeParts(m, []byte(purpose), plaintext)
	var sum [sha256.Size]byte
	dst = append(dst, m.Sum(sum[:0])[:nonceLen]...)
	s.nonceMACs.Put(m)
	return dst
}

// MAC is HMAC-SHA256 under the MAC subkey over purpose and parts, each length-prefixed so that
// ("ab","c") and ("a","bc") differ. It is how verification codes and reset secrets are stored:
// without the key, a leaked database reveals nothing, and a 6-digit code cannot be found by
// trying all million candidates offline.
func (s *Sealer) MAC(purpose string, parts ...[]byte) []byte {
	m := hmac.New(sha256.New, s.macKey)
	all := make([][]byte, 0, len(parts)+1)
	all = append(all, []byte(purpose))
	all = append(all, parts...)
	writeParts(m, all...)
	return m.Sum(nil)
}

// writeParts feeds each part with its 8-byte big-endian length in front, which makes the
// concatenation injective.
func writeParts(h hash.Hash, parts ...[]byte) {
	var n [8]byte
	for _, p := range parts {
		binary.BigEndian.PutUint64(n[:], uint64(len(p)))
		h.Write(n[:])
		h.Write(p)
	}
}

// RandomToken returns nBytes (at least MinTokenBytes) from crypto/rand as URL-safe base64
// without padding.
func RandomToken(nBytes int) (string, error) {
	if nBytes < MinTokenBytes {
		return "", fmt.Errorf("secrets: a random token needs at least %d bytes, asked for %d", MinTokenBytes, nBytes)
	}
	b := make([]byte, nBytes)
	if _, err := rand.Read(b); err != nil {
		return "", fmt.Errorf("secrets: random: %w", err)
	}
	return base64.RawURLEncoding.EncodeToString(b), nil
}

// maxDigits bounds RandomDigits; verification codes are six digits, and a caller asking for
// thousands has a bug.
const maxDigits = 64

// RandomDigits returns n uniformly distributed decimal digits (leading zeros kept), for
// verification codes.
func RandomDigits(n int) (string, error) {
	if n < 1 || n > maxDigits {
		return "", fmt.Errorf("secrets: random digits: n must be in 1..%d, got %d", maxDigits, n)
	}
	out := make([]byte, 0, n)
	buf := make([]byte, n+8)
	for len(out) < n {
		if _, err := rand.Read(buf); err != nil {
			return "", fmt.Errorf("secrets: random: %w", err)
		}
		for _, b := range buf {
			// Rejection sampling: 250 is the largest multiple of 10 that fits a byte, so keeping
			// only bytes below it makes every digit equally likely (b%10 over 0..255 would favour
			// 0..5).
			if b < 250 && len(out) < n {
				out = append(out, '0'+b%10)
			}
		}
	}
	return string(out), nil
}

// ParseKey reads a key from configuration: hex, or base64 (standard or URL alphabet, padded or
// not), of at least MinKeyLen bytes. Hex is tried first: `openssl rand -hex 32` output is also
// valid base64 text, and read as base64 it would silently become a different key. Errors never
// quote the input, which is a secret.
func ParseKey(s string) ([]byte, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return nil, errors.New("secrets: key is empty")
	}
	key, ok := decodeKey(s)
	if !ok {
		return nil, errors.New("secrets: key is neither hex nor base64")
	}
	if len(key) < MinKeyLen {
		return nil, fmt.Errorf("secrets: key has %d bytes, need at least %d", len(key), MinKeyLen)
	}
	return key, nil
}

func decodeKey(s string) ([]byte, bool) {
	if b, err := hex.DecodeString(s); err == nil {
		return b, true
	}
	for _, enc := range []*base64.Encoding{
		base64.StdEncoding, base64.RawStdEncoding, base64.URLEncoding, base64.RawURLEncoding,
	} {
		if b, err := enc.DecodeString(s); err == nil {
			return b, true
		}
	}
	return nil, false
}

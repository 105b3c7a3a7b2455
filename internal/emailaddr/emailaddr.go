// Package emailaddr is the one definition of an email address's identity in the service: the
// contract's format check, the uniqueness of registrations, every lookup by email or login name,
// and the keys of the attempt limiters all go through Canonical or Key, so that two spellings of
// one mailbox can never be two accounts, nor two budgets of attempts.
//
// The rules (issue 9, finding 8):
//   - no Unicode format (Cf: zero-width joiners, direction marks, soft hyphens) or space (Zs)
//     characters anywhere: they are invisible, and made look-alike addresses distinct;
//   - the local part (before the last '@') is ASCII: SMTPUTF8 local parts are rare, and Unicode
//     case folding is where the Kelvin sign became a 'k' and fullwidth letters stayed apart;
//   - the domain is converted to its A-label (punycode) form with the IDNA lookup profile (UTS #46
//     mapping: fullwidth and case folded, invalid labels refused), so "bücher.example" and
//     "xn--bcher-kva.example" are one domain.
//
// Case is kept as given in Canonical (addresses are stored as given) and ignored by Key.
package emailaddr

import (
	"errors"
	"strings"
	"unicode"

	"golang.org/x/net/idna"
)

// The problems Canonical reports; each names what the caller must change.
var (
	ErrInvisible     = errors.New("must not contain invisible formatting or space characters")
	ErrNonASCIILocal = errors.New("must have an ASCII local part (the part before @)")
	ErrDomain        = errors.New("must have a valid domain name")
	ErrShape         = errors.New("must be an email address")
)

// Canonical returns the address as the service keeps it: the local part as given, and the domain
// as given when it is plain ASCII (case is the caller's, and insignificant), else in its A-label
// form. It refuses what the package comment lists.
func Canonical(s string) (string, error) {
	for _, r := range s {
		if r == ' ' { // visible, and no address has one: a display name or a typo
			return "", ErrShape
		}
		if unicode.In(r, unicode.Cf, unicode.Zs) {
			return "", ErrInvisible
		}
	}
	at := strings.LastIndexByte(s, '@')
	if at <= 0 || at == len(s)-1 {
		return "", ErrShape
	}
	local, domain := s[:at], s[at+1:]
	for i := 0; i < len(local); i++ {
		if c := local[i]; c < 0x21 || c > 0x7e {
			return "", ErrNonASCIILocal
		}
	}
	ascii, err := idna.Lookup.ToASCII(domain)
	if err != nil || ascii == "" {
		return "", ErrDomain
	}
	if isASCII(domain) && strings.EqualFold(ascii, domain) {
		return local + "@" + domain, nil
	}
	return local + "@" + ascii, nil
}

// Key is what identifies the mailbox: the canonical address in lower case. A string that is no
// valid address (a login name of another kind) has only its ASCII letters lowered: Unicode case
// mapping would fold a look-alike (the Kelvin sign) onto a real address's key.
func Key(s string) string {
	if c, err := Canonical(s); err == nil {
		s = c
	}
	return asciiLower(s)
}

func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= 0x80 {
			return false
		}
	}
	return true
}

func asciiLower(s string) string {
	b := []byte(s)
	for i, c := range b {
		if 'A' <= c && c <= 'Z' {
			b[i] = c + ('a' - 'A')
		}
	}
	return string(b)
}

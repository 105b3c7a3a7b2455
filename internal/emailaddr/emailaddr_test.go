package emailaddr

import (
	"errors"
	"testing"
)

func TestCanonical(t *testing.T) {
	tests := []struct {
		name, in, want string
		err            error
	}{
		{"plain", "jane.doe@example.com", "jane.doe@example.com", nil},
		{"case kept as given", "Jane.Doe@Example.COM", "Jane.Doe@Example.COM", nil},
		{"an IDN domain in capitals becomes the A-label", "jane@BÜCHER.example", "jane@xn--bcher-kva.example", nil},
		{"plus and dots", "jane+news@mail.example.co.uk", "jane+news@mail.example.co.uk", nil},
		{"IDN U-label becomes the A-label", "jane@bücher.example", "jane@xn--bcher-kva.example", nil},
		{"IDN A-label stays", "jane@xn--bcher-kva.example", "jane@xn--bcher-kva.example", nil},
		{"fullwidth domain maps to ASCII", "jane@ｅｘａｍｐｌｅ.com", "jane@example.com", nil},
		{"Kelvin sign in the domain folds to k", "jane@\u212Aiosk.example", "jane@kiosk.example", nil},
		{"zero-width space", "ja\u200Bne@example.com", "", ErrInvisible},
		{"zero-width joiner in the domain", "jane@exam\u200Dple.com", "", ErrInvisible},
		{"right-to-left mark", "\u200Fjane@example.com", "", ErrInvisible},
		{"soft hyphen", "ja\u00ADne@example.com", "", ErrInvisible},
		{"no-break space", "jane\u00A0@example.com", "", ErrInvisible},
		{"ideographic space", "jane@example.com\u3000", "", ErrInvisible},
		{"Kelvin sign in the local part", "\u212Aate@example.com", "", ErrNonASCIILocal},
		{"fullwidth local part", "ｊａｎｅ@example.com", "", ErrNonASCIILocal},
		{"accented local part", "zoë@example.com", "", ErrNonASCIILocal},
		{"control character", "ja\x01ne@example.com", "", ErrNonASCIILocal},
		{"no at", "jane.example.com", "", ErrShape},
		{"a display name", "Jane <jane@example.com>", "", ErrShape},
		{"nothing before the at", "@example.com", "", ErrShape},
		{"nothing after the at", "jane@", "", ErrShape},
		{"invalid IDN label", "jane@xn--a.example", "", ErrDomain},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Canonical(tt.in)
			if !errors.Is(err, tt.err) || got != tt.want {
				t.Fatalf("Canonical(%q) = %q, %v; want %q, %v", tt.in, got, err, tt.want, tt.err)
			}
		})
	}
}

// Every spelling of one mailbox has one key; different mailboxes have different keys.
func TestKeyIsOneIdentity(t *testing.T) {
	same := [][]string{
		{"Jane@Bücher.example", "jane@xn--bcher-kva.example", "JANE@BÜCHER.EXAMPLE"},
		{"jane@ｅｘａｍｐｌｅ.com", "Jane@EXAMPLE.com"},
	}
	for _, group := range same {
		for _, s := range group[1:] {
			if Key(s) != Key(group[0]) {
				t.Errorf("Key(%q) = %q, Key(%q) = %q: one mailbox, two keys", s, Key(s), group[0], Key(group[0]))
			}
		}
	}
	if Key("kate@example.com") == Key("\u212Aate@example.com") {
		t.Error("the Kelvin-sign look-alike shares kate's key")
	}
	if got := Key("Not An Address"); got != "not an address" {
		t.Errorf("Key of a non-address = %q", got)
	}
}

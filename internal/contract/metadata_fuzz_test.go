package contract_test

import (
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"unicode/utf8"

	"usersorchestrator/internal/codes"
	"usersorchestrator/internal/contract"
)

// metadataKeyRule is the key rule as openapi.yaml states it (x-key-pattern on Metadata). The fuzz
// oracle spells it out again instead of reading the validator's own variable, so that a change of
// the validator's rule shows up as a failure here rather than passing silently.
var metadataKeyRule = regexp.MustCompile(`^[a-z][A-Za-z0-9_]*$`)

// utf16Len counts UTF-16 code units the way a .NET or JavaScript client counts a string's length
// (the published "100 characters"): two for a rune outside the BMP, one for everything else,
// including each byte of invalid UTF-8 (which decodes to U+FFFD).
func utf16Len(s string) int {
	n := 0
	for _, r := range s {
		if r > 0xFFFF {
			n += 2
		} else {
			n++
		}
	}
	return n
}

// hasNonPrintable tells whether s holds a rune a log line or a message must not carry raw: a
// control or other unprintable character, or a byte that is not UTF-8.
func hasNonPrintable(s string) bool {
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		if (r == utf8.RuneError && size == 1) || !strconv.IsPrint(r) {
			return true
		}
		i += size
	}
	return false
}

// wantKeyCode is the oracle: "" for a key that passes, else the code the key must answer.
func wantKeyCode(key string) codes.Code {
	switch {
	case utf16Len(key) > contract.MetadataKeyMaxLength:
		return codes.E400_17
	case !metadataKeyRule.MatchString(key):
		return codes.E400_09
	}
	return ""
}

// checkKeyViolation checks the one violation CheckMetadataKeys answered for key.
func checkKeyViolation(t *testing.T, key string, v contract.Violation) {
	t.Helper()
	if want := wantKeyCode(key); v.Code != want {
		t.Errorf("key %q (%d UTF-16 units): got %s, want %s", key, utf16Len(key), v.Code, want)
	}
	// The violation is the {Message} of an answer and may be logged: whatever the key holds, the
	// text must be printable UTF-8, and a key with unprintable characters must appear only quoted.
	for _, text := range []string{v.Text(), v.Detail()} {
		if !utf8.ValidString(text) || hasNonPrintable(text) {
			t.Errorf("key %q: violation text %q is not printable UTF-8", key, text)
		}
		// Only a valid key can be carried raw in valid text: the bytes of an invalid one appear
		// there only as the start of a valid character (40 zeros and \xe2 are the start of
		// 40 zeros and the "…" that ends a truncated quote).
		if hasNonPrintable(key) && utf8.ValidString(key) && strings.Contains(text, key) {
			t.Errorf("key %q: violation text %q carries the key unquoted", key, text)
		}
	}
}

// FuzzCheckMetadataKeys checks the metadata key rule against its statement in openapi.yaml: a key
// passes iff it matches ^[a-z][A-Za-z0-9_]*$ and has at most 100 UTF-16 units; a longer key
// answers E400_17 and any other bad key E400_09; the violations never carry an unprintable key raw
// and come out in key order whatever the map's iteration order.
//
// The seed corpus (testdata/fuzz/FuzzCheckMetadataKeys) holds every published metadata key, the
// length boundaries counted in ASCII, in two-byte runes and in surrogate pairs (where counting
// bytes or runes instead of UTF-16 units gives the wrong code), and control characters.
func FuzzCheckMetadataKeys(f *testing.F) {
	f.Add("ebill_flag", "phoneNumber")
	f.Add(strings.Repeat("k", 100), strings.Repeat("k", 101))
	f.Fuzz(func(t *testing.T, key, other string) {
		// One key alone: the oracle decides exactly.
		got := contract.CheckMetadataKeys(map[string]string{key: "v"})
		switch {
		case len(got) > 1:
			t.Fatalf("key %q: %d violations for one key: %v", key, len(got), got)
		case len(got) == 0 && wantKeyCode(key) != "":
			t.Fatalf("key %q (%d UTF-16 units): passed, want %s", key, utf16Len(key), wantKeyCode(key))
		case len(got) == 1:
			checkKeyViolation(t, key, got[0])
		}

		// Two keys: each answers as it does alone, in key order, the same on every call (map
		// iteration order is random, so calling repeatedly would expose a dependence on it).
		both := map[string]any{key: "v", other: nil}
		first := contract.CheckMetadataKeys(both)
		for range 3 {
			if again := contract.CheckMetadataKeys(both); !slices.Equal(first, again) {
				t.Fatalf("keys %q, %q: violations differ between calls:\n%v\n%v", key, other, first, again)
			}
		}
		keys := []string{key, other}
		slices.Sort(keys)
		keys = slices.Compact(keys)
		var want []contract.Violation
		for _, k := range keys {
			want = append(want, contract.CheckMetadataKeys(map[string]int{k: 0})...)
		}
		if !slices.Equal(first, want) {
			t.Fatalf("keys %q, %q: got %v, want each key's violations in key order %v", key, other, first, want)
		}
		for _, v := range first {
			if v.Code != codes.E400_09 && v.Code != codes.E400_17 {
				t.Fatalf("keys %q, %q: code %s is not a metadata code", key, other, v.Code)
			}
		}
	})
}

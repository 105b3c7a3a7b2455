package contract

import (
	"fmt"
	"regexp"
	"sort"
	"strings"
	"unicode/utf16"

	"usersorchestrator/internal/codes"
)

// metadataField is the body member whose keys follow the metadata rules.
const metadataField = "metadata"

// MetadataKeyMaxLength and metadataKeyPattern are the key rules OpenAPI 3.0 cannot express
// (openapi.yaml documents them as x-key-max-length and x-key-pattern on Metadata); the value
// rules (string, at most 100 characters) are in the schema itself.
const MetadataKeyMaxLength = 100

var (
	metadataKeyPattern = regexp.MustCompile(`^[a-z][A-Za-z0-9_]*$`)
	printable          = regexp.MustCompile(`^[\x21-\x7e]{1,100}$`)
)

// CheckMetadataKeys applies the key rules to the keys of a metadata object: a key longer than 100
// characters answers UsersOrchestrator_E400_17, any other bad key UsersOrchestrator_E400_09.
// Violations are in key order, so the answer does not depend on map iteration.
func CheckMetadataKeys[V any](metadata map[string]V) []Violation {
	keys := make([]string, 0, len(metadata))
	for k := range metadata {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var out []Violation
	for _, k := range keys {
		where := "body." + metadataField
		switch {
		case utf16Len(k) > MetadataKeyMaxLength:
			out = append(out, Violation{Code: codes.E400_17, Where: where, Problem: fmt.Sprintf("a key is longer than %d characters", MetadataKeyMaxLength)})
		case !metadataKeyPattern.MatchString(k):
			out = append(out, Violation{Code: codes.E400_09, Where: where + "." + printableKey(k), Problem: "a key must start with a lower-case letter and hold only letters, digits and _"})
		}
	}
	return out
}

// utf16Len counts k as the contract counts lengths (JSON Schema's UTF-16 units), without the
// allocations of utf16.Encode.
func utf16Len(k string) int {
	n := 0
	for _, r := range k {
		n += max(utf16.RuneLen(r), 1) // -1 for an unencodable rune; ranging a string never yields one
	}
	return n
}

// printableKey quotes a key that could confuse a log line or a message.
func printableKey(k string) string {
	if printable.MatchString(k) && !strings.ContainsAny(k, `"\`) {
		return k
	}
	return fmt.Sprintf("%q", truncate(k, 40))
}

func truncate(s string, n int) string {
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return string(r[:n]) + "…"
}

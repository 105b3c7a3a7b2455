package contract_test

import (
	"strings"
	"testing"

	"usersorchestrator/internal/contract"
)

// BenchmarkCheckMetadataKeys is the key rules on metadata as the validator hands it over
// (map[string]any, the decoded body): a typical small object, the 41 published keys, and an
// object whose every key is refused (the violations' messages are built then).
func BenchmarkCheckMetadataKeys(b *testing.B) {
	published := make(map[string]any, len(publishedMetadataKeys))
	for _, k := range publishedMetadataKeys {
		published[k] = ""
	}
	bad := map[string]any{}
	for i := range 10 {
		bad["Bad-Key-"+strings.Repeat("x", i)] = ""
	}
	bad[strings.Repeat("k", 101)] = ""
	cases := []struct {
		name       string
		md         map[string]any
		violations int
	}{
		{"small", map[string]any{"plan": "gold", "newsletter": "weekly", "ebill_flag": "true"}, 0},
		{"published41", published, 0},
		{"allBad11", bad, 11},
	}
	for _, c := range cases {
		b.Run(c.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if got := contract.CheckMetadataKeys(c.md); len(got) != c.violations {
					b.Fatalf("%d violations, want %d", len(got), c.violations)
				}
			}
		})
	}
}

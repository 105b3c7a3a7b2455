//go:build e2e

package e2e

// This file's name makes its test run last (go test runs a package's tests in source order).

import (
	"flag"
	"fmt"
	"slices"
	"strings"
	"testing"

	"usersorchestrator/internal/contract"
)

// requiredCoverage lists, from openapi.yaml itself, every operation and the ignoreProvider values
// it must be exercised with: false always, true too where the operation has the flag (a query
// parameter or a request body field).
func requiredCoverage(t *testing.T) []string {
	t.Helper()
	doc, err := contract.Load()
	if err != nil {
		t.Fatal(err)
	}
	var keys []string
	for _, path := range doc.Paths.InMatchingOrder() {
		for _, op := range doc.Paths.Value(path).Operations() {
			flagged := false
			for _, p := range op.Parameters {
				if p.Value != nil && p.Value.Name == "ignoreProvider" {
					flagged = true
				}
			}
			if rb := op.RequestBody; rb != nil && rb.Value != nil {
				if mt := rb.Value.Content.Get("application/json"); mt != nil && mt.Schema != nil && mt.Schema.Value != nil {
					if _, ok := mt.Schema.Value.Properties["ignoreProvider"]; ok {
						flagged = true
					}
				}
			}
			keys = append(keys, coverKey(op.OperationID, false))
			if flagged {
				keys = append(keys, coverKey(op.OperationID, true))
			}
		}
	}
	slices.Sort(keys)
	return keys
}

// TestCoverage fails when an operation × ignoreProvider combination of openapi.yaml was not
// exercised for every provider by the tests that ran before it, so coverage cannot shrink
// silently. It needs the whole suite: with -run, -skip or -shuffle it only lists.
func TestCoverage(t *testing.T) {
	required := requiredCoverage(t)
	if n := strings.Count(strings.Join(required, "\n"), "\n") + 1; n < 13 {
		t.Fatalf("openapi.yaml yields %d combinations; expected the 13 operations at least", n)
	}
	partial := false
	for _, name := range []string{"test.run", "test.skip"} {
		if f := flag.Lookup(name); f != nil && f.Value.String() != "" {
			partial = true
		}
	}
	if f := flag.Lookup("test.shuffle"); f != nil && f.Value.String() != "off" {
		partial = true
	}
	coverage.Lock()
	defer coverage.Unlock()
	var table strings.Builder
	fmt.Fprintf(&table, "%-48s", "operation × ignoreProvider")
	for _, p := range providers {
		fmt.Fprintf(&table, " %-8s", p.name)
	}
	table.WriteString("\n")
	var missing []string
	for _, k := range required {
		fmt.Fprintf(&table, "%-48s", k)
		for _, p := range providers {
			mark := "ran"
			if !coverage.ran[p.name][k] {
				mark = "MISSING"
				missing = append(missing, p.name+": "+k)
			}
			fmt.Fprintf(&table, " %-8s", mark)
		}
		table.WriteString("\n")
	}
	t.Logf("coverage (%d combinations × %d providers):\n%s", len(required), len(providers), table.String())
	if partial {
		t.Skip("a partial run (-run, -skip or -shuffle): coverage is only checked on the whole suite")
	}
	if len(missing) > 0 {
		t.Errorf("combinations of openapi.yaml no test exercised:\n  %s", strings.Join(missing, "\n  "))
	}
}

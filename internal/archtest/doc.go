// Package archtest holds the test of the import rules: which package may import which. It has no
// code of its own; its test reads the module's import graph with `go list`.
package archtest

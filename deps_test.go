package usersorchestrator

import (
	"os"
	"testing"

	"golang.org/x/mod/modfile"
	"golang.org/x/mod/semver"
)

// Modules with a known vulnerability below a version: the module graph must not select one.
// govulncheck needs vuln.go.dev, which the build machines cannot reach, so the advisories that
// concern this service are pinned here, each with its id.
var advisories = []struct{ module, fixed, id string }{
	{"github.com/quic-go/quic-go", "v0.59.1", "GO-2026-5676"},
}

func TestNoKnownVulnerableModules(t *testing.T) {
	data, err := os.ReadFile("go.mod")
	if err != nil {
		t.Fatal(err)
	}
	f, err := modfile.Parse("go.mod", data, nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, a := range advisories {
		found := false
		for _, r := range f.Require {
			if r.Mod.Path != a.module {
				continue
			}
			found = true
			if semver.Compare(r.Mod.Version, a.fixed) < 0 {
				t.Errorf("%s %s is affected by %s: require %s or later", a.module, r.Mod.Version, a.id, a.fixed)
			}
		}
		if !found {
			t.Errorf("%s is no longer required: drop its %s entry", a.module, a.id)
		}
	}
}

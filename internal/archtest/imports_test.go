package archtest

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"os/exec"
	"strings"
	"testing"
)

const module = "usersorchestrator/"

type pkg struct {
	ImportPath string
	Imports    []string // direct, of the non-test files
	Deps       []string // transitive
}

// graph lists the module's packages with their imports.
func graph(t *testing.T) map[string]pkg {
	t.Helper()
	cmd := exec.Command("go", "list", "-json=ImportPath,Imports,Deps", module+"...")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("go list: %v\n%s", err, stderr.String())
	}
	pkgs := map[string]pkg{}
	dec := json.NewDecoder(bytes.NewReader(out))
	for {
		var p pkg
		if err := dec.Decode(&p); errors.Is(err, io.EOF) {
			break
		} else if err != nil {
			t.Fatal(err)
		}
		pkgs[strings.TrimPrefix(p.ImportPath, module)] = p
	}
	return pkgs
}

// under tells whether path is the package prefix or one below it.
func under(path, prefix string) bool {
	path = strings.TrimPrefix(path, module)
	return path == prefix || strings.HasPrefix(path, prefix+"/")
}

// The arrows point down: cmd -> app -> httpapi -> orchestrator -> {provider, registration, events,
// mail}; adapters and backends import nothing above their port; the domain knows no HTTP, no
// generated code and no concrete store or adapter.
func TestImportRules(t *testing.T) {
	pkgs := graph(t)
	rules := []struct {
		from       string   // a package and those below it
		transitive bool     // check every dependency, not only direct imports
		forbidden  []string // packages (and those below them), or standard-library paths
		why        string
	}{
		{"internal/httpapi", false, []string{"internal/registration"}, "HTTP speaks to the orchestrator, not to the store (orchestrator.OrderField)"},
		{"cmd", false, []string{"internal/httpapi"}, "the commands wire the app; validate uses internal/contract"},
		{"internal/tenant", true, []string{"internal/provider"}, "a tenant's settings hold no provider connection (orchestrator.Providers)"},
		{"internal/registration", true, []string{"internal/provider", "internal/orchestrator", "internal/httpapi"}, "the store is below the workflows"},
		{"internal/mail", true, []string{"internal/provider", "internal/orchestrator", "internal/httpapi"}, "mail is below the workflows"},
		{"internal/session", true, []string{"internal/provider", "internal/orchestrator", "internal/httpapi"}, "sessions are below the workflows"},
		{"internal/mail", false, []string{"internal/mail/delivery"}, "composition does not deliver"},
		{"internal/retention", true, []string{"internal/provider", "internal/orchestrator", "internal/httpapi", "internal/registration/sqlstore"},
			"the pruner is below the workflows and speaks to the store's port"},
		{"internal/provider", true, []string{"internal/orchestrator", "internal/httpapi", "internal/registration"}, "adapters implement the port and import nothing above it"},
		{"internal/orchestrator", true, []string{"internal/httpapi", "gen", "net/http", "github.com/gin-gonic/gin",
			"internal/mail/delivery", "internal/registration/sqlite", "internal/registration/postgres", "internal/registration/cached",
			"internal/registration/sqlstore", "internal/provider/auth0", "internal/provider/gigya", "internal/provider/ssor",
			"internal/provider/firefly", "internal/provider/restuser", "internal/provider/httpx"},
			"the domain knows no HTTP, no generated types, no concrete store, adapter or SMTP"},
	}
	for _, r := range rules {
		matched := false
		for path, p := range pkgs {
			if !under(path, r.from) || strings.HasSuffix(path, "test") {
				continue // test helpers (storetest, providertest, mailtest...) may reach across
			}
			matched = true
			deps := p.Imports
			if r.transitive {
				deps = p.Deps
			}
			for _, d := range deps {
				for _, f := range r.forbidden {
					if under(d, f) {
						t.Errorf("%s imports %s: %s", path, strings.TrimPrefix(d, module), r.why)
					}
				}
			}
		}
		if !matched {
			t.Errorf("no package under %s: the rule checks nothing", r.from)
		}
	}
	// Generated code is imported by the HTTP layer, its API tests and the commands only.
	for path, p := range pkgs {
		if under(path, "gen") || under(path, "internal/httpapi") || under(path, "internal/apitest") || under(path, "cmd") {
			continue
		}
		for _, d := range p.Imports {
			if under(d, "gen") {
				t.Errorf("%s imports generated code %s", path, strings.TrimPrefix(d, module))
			}
		}
	}
}

// The rules above would pass on an empty graph; make sure the graph is the module's.
func TestGraphIsTheModules(t *testing.T) {
	pkgs := graph(t)
	o, ok := pkgs["internal/orchestrator"]
	if !ok {
		t.Fatal("internal/orchestrator not listed")
	}
	found := false
	for _, d := range o.Imports {
		found = found || d == module+"internal/registration"
	}
	if !found {
		t.Errorf("the orchestrator's imports were not read: %v", o.Imports)
	}
}

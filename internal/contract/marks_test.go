package contract_test

import (
	"fmt"
	"sort"
	"strings"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"
)

// constraintsOf lists the limits, formats, patterns and defaults s states itself.
func constraintsOf(s *openapi3.Schema) []string {
	var out []string
	add := func(ok bool, name string) {
		if ok {
			out = append(out, name)
		}
	}
	add(s.MinLength > 0, "minLength")
	add(s.MaxLength != nil, "maxLength")
	add(s.Pattern != "", "pattern")
	add(s.Format != "", "format")
	add(s.Default != nil, "default")
	add(s.Min != nil, "minimum")
	add(s.Max != nil, "maximum")
	add(s.MaxProps != nil, "maxProperties")
	return out
}

func marked(s *openapi3.Schema) map[string]bool {
	out := map[string]bool{}
	list, _ := s.Extensions["x-unpublished-constraints"].([]any)
	for _, v := range list {
		out[fmt.Sprint(v)] = true
	}
	return out
}

// TestEveryUnpublishedConstraintIsMarked: each limit, format, pattern and default of a schema
// is listed in its x-unpublished-constraints, the published pages stating none but the metadata
// rule (a value of at most 100 characters, E400_17). A constraint added without its mark fails.
func TestEveryUnpublishedConstraintIsMarked(t *testing.T) {
	doc := loadDoc(t)
	seen := map[*openapi3.Schema]bool{}
	var problems []string
	var walk func(where string, s *openapi3.Schema, publishedMetadataValue bool)
	walk = func(where string, s *openapi3.Schema, publishedMetadataValue bool) {
		if s == nil || seen[s] {
			return
		}
		seen[s] = true
		m := marked(s)
		for _, c := range constraintsOf(s) {
			if !m[c] && !(publishedMetadataValue && c == "maxLength") {
				problems = append(problems, where+": "+c+" is not in x-unpublished-constraints")
			}
			delete(m, c)
		}
		for c := range m {
			problems = append(problems, where+": x-unpublished-constraints lists "+c+", which the schema does not state")
		}
		for name, p := range s.Properties {
			walk(where+"."+name, p.Value, false)
		}
		if s.Items != nil {
			walk(where+"[]", s.Items.Value, false)
		}
		if ap := s.AdditionalProperties.Schema; ap != nil {
			_, metadata := s.Extensions["x-key-max-length"]
			walk(where+"{}", ap.Value, metadata)
		}
		for _, sub := range append(append(s.AllOf, s.OneOf...), s.AnyOf...) {
			walk(where, sub.Value, false)
		}
	}
	for name, s := range doc.Components.Schemas {
		walk("components.schemas."+name, s.Value, false)
	}
	for path, item := range doc.Paths.Map() {
		for method, op := range item.Operations() {
			for _, p := range append(item.Parameters, op.Parameters...) {
				walk(method+" "+path+" parameter "+p.Value.Name, p.Value.Schema.Value, false)
			}
			if rb := op.RequestBody; rb != nil {
				for mt, c := range rb.Value.Content {
					walk(method+" "+path+" body "+mt, c.Schema.Value, false)
				}
			}
		}
	}
	for name, p := range doc.Components.Parameters {
		walk("components.parameters."+name, p.Value.Schema.Value, false)
	}
	sort.Strings(problems)
	if len(problems) > 0 {
		t.Errorf("%d unmarked constraints:\n%s", len(problems), strings.Join(problems, "\n"))
	}
}

// TestOperationMarks pins the marks of issue 11 item 3 that are not schema constraints.
func TestOperationMarks(t *testing.T) {
	doc := loadDoc(t)
	events := func(path, method string) map[string]map[string]any {
		out := map[string]map[string]any{}
		rows, _ := doc.Paths.Value(path).GetOperation(method).Extensions["x-events"].([]any)
		for _, r := range rows {
			m, _ := r.(map[string]any)
			out[fmt.Sprint(m["id"])+" "+fmt.Sprint(m["code"])] = m
		}
		return out
	}
	create := events("/v4/Users", "POST")
	for _, ev := range []string{"4609 AUTHSYSTEM_USER_CHANGEPASSWORD", "4003 SUBSCRIBE_USER_CREATEPENDING", "4009 SUBSCRIBE_USER_STARTFORGOTPASSWORD"} {
		if create[ev] == nil || create[ev]["x-published-in-operation"] != false {
			t.Errorf("createUser x-events %s is not marked as an addition: %v", ev, create[ev])
		}
	}
	for _, ev := range []string{"4601 AUTHSYSTEM_USER_GET", "4602 AUTHSYSTEM_USER_CREATE", "4002 SUBSCRIBE_USER_CREATE"} {
		if create[ev] == nil || create[ev]["x-published-in-operation"] != nil {
			t.Errorf("createUser x-events %s is published for Create: %v", ev, create[ev])
		}
	}
	auth := events("/v4/Users/Authentication", "POST")
	if g := auth["4012 SUBSCRIBE_USER_GOOGLELOGIN"]; g == nil || g["x-never-recorded"] != true {
		t.Errorf("authenticate does not list SUBSCRIBE_USER_GOOGLELOGIN as never recorded: %v", g)
	}
	op := doc.Paths.Value("/v4/Users/Authentication").Post
	if !strings.Contains(op.Description, "`UsersOrchestrator_E400`") {
		t.Error("authenticate does not say what becomes of the published UsersOrchestrator_E400")
	}
	user := op.Responses.Status(200).Value.Content.Get("application/json").Schema.Value.Properties["data"].Value.Properties["user"].Value
	for _, r := range user.Required {
		if r == "state" {
			t.Error("Authenticate's user requires state; the published example has none")
		}
	}
}

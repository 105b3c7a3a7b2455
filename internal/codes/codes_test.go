package codes_test

import (
	"fmt"
	"sort"
	"strconv"
	"strings"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"

	usersorchestrator "usersorchestrator"
	"usersorchestrator/internal/codes"
)

func loadSpec(t *testing.T) *openapi3.T {
	t.Helper()
	doc, err := openapi3.NewLoader().LoadFromData(usersorchestrator.OpenAPI)
	if err != nil {
		t.Fatalf("load openapi.yaml: %v", err)
	}
	return doc
}

// specCodes reads MessageCode's enum and its x-codes table.
func specCodes(t *testing.T, doc *openapi3.T) (enum []string, table map[string]codes.Entry) {
	t.Helper()
	ref := doc.Components.Schemas["MessageCode"]
	if ref == nil || ref.Value == nil {
		t.Fatal("openapi.yaml has no MessageCode schema")
	}
	for _, v := range ref.Value.Enum {
		enum = append(enum, fmt.Sprint(v))
	}
	rows, ok := ref.Value.Extensions["x-codes"].([]any)
	if !ok {
		t.Fatalf("MessageCode has no x-codes table (got %T)", ref.Value.Extensions["x-codes"])
	}
	table = make(map[string]codes.Entry, len(rows))
	for i, r := range rows {
		row, ok := r.(map[string]any)
		if !ok {
			t.Fatalf("x-codes[%d] is %T, not an object", i, r)
		}
		code := fmt.Sprint(row["code"])
		status, err := strconv.Atoi(fmt.Sprint(row["status"]))
		if err != nil {
			t.Fatalf("x-codes %s: status %v: %v", code, row["status"], err)
		}
		published := true
		if p, ok := row["x-published"].(bool); ok {
			published = p
		}
		if _, dup := table[code]; dup {
			t.Errorf("x-codes lists %s twice", code)
		}
		table[code] = codes.Entry{Code: codes.Code(code), Status: status, Text: fmt.Sprint(row["text"]), Published: published}
	}
	return enum, table
}

func TestCatalogueMatchesContract(t *testing.T) {
	enum, table := specCodes(t, loadSpec(t))

	inEnum := map[string]bool{}
	for _, c := range enum {
		inEnum[c] = true
		if _, ok := table[c]; !ok {
			t.Errorf("MessageCode enum has %s but x-codes does not", c)
		}
		if _, ok := codes.Lookup(codes.Code(c)); !ok {
			t.Errorf("openapi.yaml documents %s; the catalogue lacks it", c)
		}
	}
	for c := range table {
		if !inEnum[c] {
			t.Errorf("x-codes has %s but the MessageCode enum does not", c)
		}
	}
	for _, e := range codes.All() {
		got, ok := table[string(e.Code)]
		if !ok {
			t.Errorf("the catalogue has %s; openapi.yaml does not document it", e.Code)
			continue
		}
		if got != e {
			t.Errorf("%s: openapi.yaml says %+v, the catalogue %+v", e.Code, got, e)
		}
	}
}

// TestExamplesCarryCataloguedCodes walks every response example of every operation: its
// message must be a catalogued code with that code's exact text, type and HTTP status.
func TestExamplesCarryCataloguedCodes(t *testing.T) {
	doc := loadSpec(t)
	seen := map[codes.Code]bool{}
	for path, item := range doc.Paths.Map() {
		for method, op := range item.Operations() {
			for status, resp := range op.Responses.Map() {
				want, err := strconv.Atoi(status)
				if err != nil {
					t.Errorf("%s %s: response %q is not a status code", method, path, status)
					continue
				}
				mt := resp.Value.Content.Get("application/json")
				if mt == nil {
					t.Errorf("%s %s %s: no application/json content", method, path, status)
					continue
				}
				if len(mt.Examples) == 0 {
					t.Errorf("%s %s %s: no example", method, path, status)
				}
				for name, ex := range mt.Examples {
					where := fmt.Sprintf("%s %s %s example %s", method, path, status, name)
					code := checkEnvelopeExample(t, where, ex.Value.Value, want)
					seen[code] = true
					if strings.HasPrefix(name, "UsersOrchestrator_") && codes.Code(name) != code {
						t.Errorf("%s: named after %s but carries %s", where, name, code)
					}
				}
			}
		}
	}
	var missing []string
	for _, e := range codes.All() {
		if !seen[e.Code] {
			missing = append(missing, string(e.Code))
		}
	}
	sort.Strings(missing)
	if len(missing) > 0 {
		t.Errorf("codes without a response example in any operation: %v", missing)
	}
}

func checkEnvelopeExample(t *testing.T, where string, value any, status int) codes.Code {
	t.Helper()
	env, ok := value.(map[string]any)
	if !ok {
		t.Errorf("%s: example is %T, not an envelope", where, value)
		return ""
	}
	msg, ok := env["message"].(map[string]any)
	if !ok {
		t.Errorf("%s: example has no message", where)
		return ""
	}
	code := codes.Code(fmt.Sprint(msg["code"]))
	entry, ok := codes.Lookup(code)
	if !ok {
		t.Errorf("%s: code %s is not catalogued", where, code)
		return code
	}
	if entry.Status != status {
		t.Errorf("%s: %s is catalogued with status %d", where, code, entry.Status)
	}
	text := fmt.Sprint(msg["text"])
	prefix, templated := strings.CutSuffix(entry.Text, "{Message}")
	switch {
	case templated && (!strings.HasPrefix(text, prefix) || len(text) == len(prefix)):
		t.Errorf("%s: text %q does not complete %q", where, text, entry.Text)
	case !templated && text != entry.Text:
		t.Errorf("%s: text %q, catalogued %q", where, text, entry.Text)
	}
	wantType := "Error"
	if code.IsSuccess() {
		wantType = "Success"
	}
	if msg["type"] != wantType {
		t.Errorf("%s: type %v, want %s", where, msg["type"], wantType)
	}
	return code
}

func TestTextWith(t *testing.T) {
	tests := []struct {
		code   codes.Code
		detail string
		want   string
	}{
		{codes.E400_00, "body.email: is required", "Invalid InputModel - body.email: is required"},
		{codes.E400_02, "ignored", "Invalid InputModel"},
		{codes.E404_01, "", "The user was not found."},
	}
	for _, tt := range tests {
		if got := tt.code.TextWith(tt.detail); got != tt.want {
			t.Errorf("%s.TextWith(%q) = %q, want %q", tt.code, tt.detail, got, tt.want)
		}
	}
	if codes.Code("nope").Status() != 500 {
		t.Error("an unknown code must answer 500")
	}
}

package contract_test

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"

	usersorchestrator "usersorchestrator"
	"usersorchestrator/internal/contract"
)

// schemaOptions are the format checks the validator applies, so that an example with, say, a bad
// email address fails here as it would at the server.
func schemaOptions() []openapi3.SchemaValidationOption {
	return append(contract.FormatOptions(), openapi3.MultiErrors())
}

func loadDoc(t *testing.T) *openapi3.T {
	t.Helper()
	doc, err := openapi3.NewLoader().LoadFromData(usersorchestrator.OpenAPI)
	if err != nil {
		t.Fatal(err)
	}
	if err := doc.Validate(context.Background(), openapi3.EnableExamplesValidation()); err != nil {
		t.Fatalf("openapi.yaml with examples validation: %v", err)
	}
	return doc
}

// TestEveryExampleMatchesItsSchema checks each example of each parameter, request body and
// response against the schema it illustrates, and that every operation has request and response
// examples.
func TestEveryExampleMatchesItsSchema(t *testing.T) {
	doc := loadDoc(t)
	check := func(where string, schema *openapi3.SchemaRef, value any) {
		t.Helper()
		if schema == nil || schema.Value == nil {
			t.Errorf("%s: no schema", where)
			return
		}
		// Round-trip through JSON so numbers are float64 as in a decoded request.
		raw, _ := json.Marshal(value)
		var v any
		_ = json.Unmarshal(raw, &v)
		if err := schema.Value.VisitJSON(v, schemaOptions()...); err != nil {
			t.Errorf("%s: example does not match its schema: %v", where, err)
		}
	}
	for path, item := range doc.Paths.Map() {
		for method, op := range item.Operations() {
			name := method + " " + path
			hasRequestExample := false
			for _, p := range append(item.Parameters, op.Parameters...) {
				if p.Value.Example == nil {
					t.Errorf("%s: parameter %s has no example", name, p.Value.Name)
					continue
				}
				hasRequestExample = true
				check(name+" parameter "+p.Value.Name, p.Value.Schema, p.Value.Example)
			}
			if op.RequestBody != nil {
				mt := op.RequestBody.Value.Content.Get("application/json")
				if len(mt.Examples) == 0 {
					t.Errorf("%s: request body has no example", name)
				}
				for exName, ex := range mt.Examples {
					check(name+" request example "+exName, mt.Schema, ex.Value.Value)
				}
			}
			if !hasRequestExample {
				t.Errorf("%s: no request example", name)
			}
			for status, resp := range op.Responses.Map() {
				mt := resp.Value.Content.Get("application/json")
				for exName, ex := range mt.Examples {
					check(fmt.Sprintf("%s %s example %s", name, status, exName), mt.Schema, ex.Value.Value)
				}
			}
			if op.Extensions["x-events"] == nil {
				t.Errorf("%s: no x-events", name)
			}
		}
	}
}

// TestRequestExamplesPassTheValidator sends every request-body example, with the parameters'
// examples, through the validator the server uses: examples must be requests the server accepts.
func TestRequestExamplesPassTheValidator(t *testing.T) {
	doc := loadDoc(t)
	v := newValidator(t)
	for path, item := range doc.Paths.Map() {
		for method, op := range item.Operations() {
			if op.RequestBody == nil {
				continue
			}
			target := path
			for _, p := range append(item.Parameters, op.Parameters...) {
				if p.Value.In == openapi3.ParameterInPath {
					target = strings.ReplaceAll(target, "{"+p.Value.Name+"}", fmt.Sprint(p.Value.Example))
				}
			}
			for exName, ex := range op.RequestBody.Value.Content.Get("application/json").Examples {
				body, _ := json.Marshal(ex.Value.Value)
				r := request(method, target, string(body))
				if res := v.Validate(context.Background(), r); len(res.Violations) > 0 {
					t.Errorf("%s %s example %s: %v", method, path, exName, res.Violations)
				}
			}
		}
	}
}

// TestRuleOperationsExist guards the operation ids the cross-field rules are attached to.
func TestRuleOperationsExist(t *testing.T) {
	doc := loadDoc(t)
	ids := map[string]bool{}
	for _, item := range doc.Paths.Map() {
		for _, op := range item.Operations() {
			ids[op.OperationID] = true
		}
	}
	for _, id := range []string{"getUsers", "createUser", "updateUser", "authenticate"} {
		if !ids[id] {
			t.Errorf("openapi.yaml has no operation %s; the rules in rules.go are attached to it", id)
		}
	}
	if len(ids) != 13 {
		t.Errorf("openapi.yaml has %d operations, the contract decisions name 13", len(ids))
	}
}

package apitest_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"

	"usersorchestrator/gen/client"
	"usersorchestrator/internal/apitest"
	"usersorchestrator/internal/contract"
	"usersorchestrator/internal/orchestrator"
)

// published reads an example of the published pages (testdata/published, see its README) and
// fills in its ${...} values.
func published(t *testing.T, name string, values map[string]string) string {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("testdata", "published", name))
	if err != nil {
		t.Fatal(err)
	}
	s := string(data)
	for k, v := range values {
		s = strings.ReplaceAll(s, "${"+k+"}", v)
	}
	if strings.Contains(s, "${") {
		t.Fatalf("%s: a value is left to fill in", name)
	}
	return s
}

// validatorSays runs a request through the contract's validator, as `validate` and the server do.
func validatorSays(t *testing.T, v *contract.Validator, method, path, body string) []contract.Violation {
	t.Helper()
	r := httptest.NewRequest(method, path, strings.NewReader(body))
	r.Header.Set("Content-Type", "application/json")
	for _, h := range [][2]string{{"Authorization", "Bearer x.y.z"}, {"X-SourceSystem", "Web"}, {"X-ClientCode", "demo"}, {"X-PaperCode", "demo"}, {"X-ClientGroupCode", "demo"}} {
		r.Header.Set(h[0], h[1])
	}
	return v.Validate(context.Background(), r).Violations
}

// TestPublishedExamplesPass sends each request example of the published pages through the
// validator and the server, and checks each response example against the contract: a consumer
// written from those pages must work unchanged.
func TestPublishedExamplesPass(t *testing.T) {
	env := apitest.Start(t)
	doc, err := contract.Load()
	if err != nil {
		t.Fatal(err)
	}
	v, err := contract.New(doc)
	if err != nil {
		t.Fatal(err)
	}
	tn, _ := env.App.Tenant(env.Tenant)

	// Create Passwordless User, with every field of the example.
	const crid = "c0ffee00-1234-4abc-8def-000000000001"
	create := published(t, "create-passwordless-user.request.json", map[string]string{
		"ENCRYPTED_CUSTOMER_REGISTRATION_ID": env.App.Orchestrator.SealID(orchestrator.Call{Tenant: tn}, crid)})
	if vs := validatorSays(t, v, "POST", "/v4/Users", create); len(vs) > 0 {
		t.Errorf("validator refuses the Create Passwordless example: %v", vs)
	}
	status, got, _ := env.Do("POST", "/v4/Users", create)
	if status != http.StatusOK || got.Message.Code != "UsersOrchestrator_S200_06" || !strings.Contains(string(got.Data), crid) {
		t.Errorf("server refuses the Create Passwordless example: %d %s", status, got.Raw)
	}

	// Authenticate with loginName, password and token together, as the example sends them.
	const password = "correct-horse-battery"
	ref := env.CreateUser(client.CreateUserRequest{Email: "jane.published@example.org", Password: apitest.Ptr(password)})
	session := authenticate(t, env, "jane.published@example.org", password).CookieTokens[0].Content
	auth := strings.Replace(published(t, "authenticate.request.json", map[string]string{"PASSWORD": password, "SESSION_TOKEN": session}),
		"jane.published@example.com", "jane.published@example.org", 1)
	if vs := validatorSays(t, v, "POST", "/v4/Users/Authentication", auth); len(vs) > 0 {
		t.Errorf("validator refuses the Authenticate example: %v", vs)
	}
	status, got, _ = env.Do("POST", "/v4/Users/Authentication", auth)
	if status != http.StatusOK || got.Message.Code != "Subscribe_S200_01" || !strings.Contains(string(got.Data), ref.CustomerRegistrationId) {
		t.Errorf("server refuses the Authenticate example: %d %s", status, got.Raw)
	}

	// Update Password.
	update := published(t, "update-password.request.json", nil)
	if vs := validatorSays(t, v, "PATCH", "/v4/Users/"+ref.CustomerRegistrationId+"/Password", update); len(vs) > 0 {
		t.Errorf("validator refuses the Update Password example: %v", vs)
	}
	status, got, _ = env.Do("PATCH", "/v4/Users/"+ref.CustomerRegistrationId+"/Password", update)
	if status != http.StatusOK || got.Message.Code != "UsersOrchestrator_S200_11" {
		t.Errorf("server refuses the Update Password example: %d %s", status, got.Raw)
	}
	authenticate(t, env, "jane.published@example.org", "n3w-Published-pw")

	// The examples as printed, placeholders and all, break no rule of the contract where their
	// placeholders are plausible values (the Create example's "string" is no email address).
	for _, ex := range []struct{ method, path, body string }{
		{"POST", "/v4/Users/Authentication", `{"loginName":"string","password":"string","token":"string"}`},
		{"PATCH", "/v4/Users/abc/Password", `{"password":"string"}`},
	} {
		if vs := validatorSays(t, v, ex.method, ex.path, ex.body); len(vs) > 0 {
			t.Errorf("validator refuses the printed example %s: %v", ex.body, vs)
		}
	}

	// The response examples match the contract's schema of the answer.
	for _, ex := range []struct{ file, path, method string }{
		{"create-passwordless-user.response.json", "/v4/Users", "POST"},
		{"authenticate.response.json", "/v4/Users/Authentication", "POST"},
		{"update-password.response.json", "/v4/Users/{customerRegistrationId}/Password", "PATCH"},
	} {
		var value any
		if err := json.Unmarshal([]byte(published(t, ex.file, nil)), &value); err != nil {
			t.Fatalf("%s: %v", ex.file, err)
		}
		op := doc.Paths.Value(ex.path).GetOperation(ex.method)
		schema := op.Responses.Status(200).Value.Content.Get("application/json").Schema.Value
		if err := schema.VisitJSON(value, append(contract.FormatOptions(), openapi3.MultiErrors())...); err != nil {
			t.Errorf("%s does not match the contract: %v", ex.file, err)
		}
	}
}

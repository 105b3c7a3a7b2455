package metrics_test

import (
	"net/http"
	"regexp"
	"sort"
	"testing"

	"usersorchestrator/gen/client"
	"usersorchestrator/internal/apitest"
	"usersorchestrator/internal/config"
	"usersorchestrator/internal/contract"
	"usersorchestrator/internal/provider/restuser/restusertest"
	"usersorchestrator/internal/tenant"
)

// TestServiceMetrics sends a few requests through the real service, one tenant without a provider
// and one on SSOR (a scripted stand-in that knows no user), and reads /metrics as Prometheus does.
func TestServiceMetrics(t *testing.T) {
	ssor := restusertest.New(t, restusertest.Always(restusertest.Error(http.StatusNotFound, "user_not_found")))
	demo := config.Default().Tenants[0]
	ssorTenant := config.Tenant{
		ClientCode: "ssor", PaperCode: "ssor", ClientGroupCode: "ssor", Name: "SSOR Daily", SessionDays: 30,
		DefaultReturnURL: "http://localhost:3000/account", MailFrom: "SSOR Daily <no-reply@ssor.example>",
		Provider: "SSOR", BaseURL: ssor.URL, MaxRetries: -1, SSOR: config.SSOR{APIToken: "ssor-test-token"},
	}
	env := apitest.Start(t, apitest.WithTenants(demo, ssorTenant))

	ref := env.CreateUser(client.CreateUserRequest{Email: "jane@example.com", Password: apitest.Ptr("correct-horse")})
	env.GetUser(ref.CustomerRegistrationId)
	env.GetUser(ref.CustomerRegistrationId)
	// Refused before validation: still counted under its operation.
	if status, got, _ := env.Do(http.MethodGet, "/v4/Users/"+ref.CustomerRegistrationId, "", apitest.Header("Authorization", "")); status != http.StatusUnauthorized {
		t.Fatalf("without a token: %d %s", status, got.Raw)
	}
	if status, got, _ := env.Do(http.MethodPost, "/v4/Users", `{"email":"new@example.com","emial":"x"}`); status != http.StatusBadRequest {
		t.Fatalf("unknown field: %d %s", status, got.Raw)
	}
	if status, got, _ := env.Do(http.MethodGet, "/v4/Nowhere", ""); status != http.StatusNotFound {
		t.Fatalf("unknown path: %d %s", status, got.Raw)
	}
	// The SSOR stand-in answers user_not_found: one provider call with that outcome.
	_, ssorAnswer, _ := env.Do(http.MethodGet, "/v4/Users/ssor-user-1", "", env.As(tenant.Key{ClientCode: "ssor", PaperCode: "ssor", ClientGroupCode: "ssor"}))
	if ssorAnswer.Message.Code == "" {
		t.Fatalf("SSOR tenant: no message code in %s", ssorAnswer.Raw)
	}
	// The service's own routes are not API traffic and are not counted.
	for _, path := range []string{"/healthz", "/readyz", "/openapi.yaml"} {
		resp, err := http.Get(env.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
	}

	fams := scrape(t, env.URL+"/metrics")
	requests := []struct {
		operation, code string
		want            float64
	}{
		{"createUser", "UsersOrchestrator_S200_06", 1},
		{"getUserById", "UsersOrchestrator_S200_01", 2},
		{"getUserById", "UsersOrchestrator_E401", 1},
		{"createUser", "UsersOrchestrator_E400_00", 1},
		{"none", "UsersOrchestrator_E404", 1},
		{"getUserById", ssorAnswer.Message.Code, 1},
	}
	total := 0.0
	for _, r := range requests {
		total += r.want
		if got := sample(fams, "usersorchestrator_http_requests_total", "operation", r.operation, "code", r.code); got != r.want {
			t.Errorf("http_requests_total{operation=%q,code=%q} = %v, want %v", r.operation, r.code, got, r.want)
		}
	}
	sum := 0.0
	for _, m := range fams["usersorchestrator_http_requests_total"].GetMetric() {
		sum += m.GetCounter().GetValue()
	}
	if sum != total {
		t.Errorf("%v requests counted in all, want %v (only the API's)", sum, total)
	}
	for op, want := range map[string]float64{"createUser": 2, "getUserById": 4, "none": 1} {
		if got := sample(fams, "usersorchestrator_http_request_duration_seconds", "operation", op); got != want {
			t.Errorf("http_request_duration_seconds count{operation=%q} = %v, want %v", op, got, want)
		}
	}
	if got := sample(fams, "usersorchestrator_provider_calls_total", "provider", "ssor", "call", "GetUser", "outcome", "not_found"); got != 1 {
		t.Errorf("provider_calls_total{ssor,GetUser,not_found} = %v, want 1", got)
	}
	if got := sample(fams, "usersorchestrator_provider_call_duration_seconds", "provider", "ssor", "call", "GetUser"); got != 1 {
		t.Errorf("provider_call_duration_seconds count{ssor,GetUser} = %v, want 1", got)
	}
	if got := sample(fams, "usersorchestrator_outbox_backlog"); got < 0 {
		t.Error("usersorchestrator_outbox_backlog is missing")
	}
	for _, name := range []string{"go_goroutines", "process_resident_memory_bytes", "go_build_info"} {
		if _, ok := fams[name]; !ok {
			t.Errorf("%s is missing (Go, process and build info collectors)", name)
		}
	}
}

// TestEveryOperationIsLabelled checks the route table against the real gin routes: each of the
// contract's operations, refused for want of a token before the validator names it, is counted
// under its own operationId.
func TestEveryOperationIsLabelled(t *testing.T) {
	env := apitest.Start(t)
	doc, err := contract.Load()
	if err != nil {
		t.Fatal(err)
	}
	param := regexp.MustCompile(`\{[^{}/]+\}`)
	var want []string
	for path, item := range doc.Paths.Map() {
		for method, op := range item.Operations() {
			want = append(want, op.OperationID)
			status, got, _ := env.Do(method, param.ReplaceAllString(path, "some-id"), "", apitest.Header("Authorization", ""))
			if status != http.StatusUnauthorized {
				t.Errorf("%s %s without a token: %d %s", method, path, status, got.Raw)
			}
		}
	}
	fams := scrape(t, env.URL+"/metrics")
	var labelled []string
	for _, m := range fams["usersorchestrator_http_requests_total"].GetMetric() {
		for _, lp := range m.GetLabel() {
			if lp.GetName() == "operation" {
				labelled = append(labelled, lp.GetValue())
			}
		}
	}
	sort.Strings(want)
	sort.Strings(labelled)
	if len(want) == 0 || len(labelled) != len(want) {
		t.Fatalf("operations counted %v, want %v", labelled, want)
	}
	for i := range want {
		if labelled[i] != want[i] {
			t.Fatalf("operations counted %v, want %v", labelled, want)
		}
		if got := sample(fams, "usersorchestrator_http_requests_total", "operation", want[i], "code", "UsersOrchestrator_E401"); got != 1 {
			t.Errorf("http_requests_total{operation=%q,code=E401} = %v, want 1", want[i], got)
		}
	}
}

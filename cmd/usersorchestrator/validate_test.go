package main

import (
	"bytes"
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"usersorchestrator/gen/client"
	"usersorchestrator/internal/apitest"
)

type validateOutput struct {
	Valid      bool   `json:"valid"`
	Operation  string `json:"operationId"`
	Violations []struct {
		Status int    `json:"status"`
		Code   string `json:"code"`
		Text   string `json:"text"`
	} `json:"violations"`
}

// runValidate runs `usersorchestrator validate -json` with args and decodes what it prints.
func runValidate(t *testing.T, args ...string) (int, validateOutput) {
	t.Helper()
	var out, errOut bytes.Buffer
	code := run(append([]string{"validate", "-json"}, args...), strings.NewReader(""), &out, &errOut, func(string) string { return "" })
	var v validateOutput
	if code != 2 {
		if err := json.Unmarshal(out.Bytes(), &v); err != nil {
			t.Fatalf("validate printed %q (stderr %q): %v", out.String(), errOut.String(), err)
		}
	}
	return code, v
}

// TestValidateAgreesWithTheServer sends each request to the running service and to the
// validate command: an invalid request gets the same code and text from both, and a request
// the command finds valid is not refused by the service for breaking the contract.
func TestValidateAgreesWithTheServer(t *testing.T) {
	env := apitest.Start(t)
	long := strings.Repeat("x", 101)
	tests := []struct {
		name, method, path, body string
		drop                     string
	}{
		{"valid create", "POST", "/v4/Users", `{"email":"jane@example.com","password":"correct-horse","metadata":{"ebill_flag":"true"}}`, ""},
		{"unknown field", "POST", "/v4/Users", `{"email":"jane@example.com","emial":"x"}`, ""},
		{"missing header", "POST", "/v4/Users", `{"email":"jane@example.com"}`, "X-PaperCode"},
		{"wrong type", "POST", "/v4/Users", `{"email":"jane@example.com","verifyEmail":"yes"}`, ""},
		{"metadata value too long", "POST", "/v4/Users", `{"email":"jane@example.com","metadata":{"city":"` + long + `"}}`, ""},
		{"metadata key too long", "POST", "/v4/Users", `{"email":"jane@example.com","metadata":{"` + long + `":"x"}}`, ""},
		{"metadata key not camelCase", "PUT", "/v4/Users/abc", `{"metadata":{"Bad-Key":"x"}}`, ""},
		{"broken JSON", "POST", "/v4/Users", `{"email":`, ""},
		{"two selectors", "GET", "/v4/Users?token=abc&encryptedEmail=abcdefghijklmnopqrstu", "", ""},
		{"malformed encrypted id", "GET", "/v4/Users?encryptedCustomerRegistrationId=***", "", ""},
		{"page size too large", "GET", "/v4/Users?pageSize=1000", "", ""},
		{"authenticate with neither", "POST", "/v4/Users/Authentication", `{}`, ""},
		{"trailing slash form", "GET", "/v4/Users/abc/", "", ""},
		{"unknown path", "GET", "/v4/Customers", "", ""},
		{"body too large", "POST", "/v4/Users", `{"email":"jane@example.com","firstName":"` + strings.Repeat("x", 70<<10) + `"}`, ""},
		{"PascalCase names", "POST", "/v4/Users", `{"Email":"pascal@example.com","Password":"correct-horse","IgnoreProvider":true}`, ""},
		{"PascalCase query", "GET", "/v4/Users?Email=pascal@example.com&IgnoreProvider=true", "", ""},
		{"a name in two spellings", "POST", "/v4/Users", `{"email":"jane@example.com","Email":"john@example.com"}`, ""},
		{"a query name in two spellings", "GET", "/v4/Users?email=jane@example.com&EMAIL=john@example.com", "", ""},
		{"trailing data", "POST", "/v4/Users/Authentication", `{"token":"abc"} {"token":"def"}`, ""},
		{"duplicate key", "POST", "/v4/Users", `{"email":"jane@example.com","email":"john@example.com"}`, ""},
		{"invalid UTF-8", "POST", "/v4/Users", "{\"email\":\"jane@example.com\",\"firstName\":\"J\xffne\"}", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var editors []client.RequestEditorFn
			args := []string{"-method", tt.method, "-url", tt.path,
				"-H", "Authorization: Bearer " + env.Token, "-H", "X-SourceSystem: test",
				"-H", "X-ClientCode: demo", "-H", "X-PaperCode: demo", "-H", "X-ClientGroupCode: demo"}
			if tt.drop != "" {
				editors = append(editors, apitest.Header(tt.drop, ""))
				for i := 0; i < len(args); i++ {
					if args[i] == "-H" && strings.HasPrefix(args[i+1], tt.drop+":") {
						args = append(args[:i], args[i+2:]...)
						break
					}
				}
			}
			if tt.body != "" {
				p := filepath.Join(t.TempDir(), "body.json")
				if err := os.WriteFile(p, []byte(tt.body), 0o600); err != nil {
					t.Fatal(err)
				}
				args = append(args, "-d", "@"+p)
			}
			status, got, _ := env.Do(tt.method, tt.path, tt.body, editors...)
			exit, v := runValidate(t, args...)
			if v.Valid {
				if exit != 0 || (status == http.StatusBadRequest && got.Message.Code == "UsersOrchestrator_E400_00") {
					t.Errorf("validate says valid (exit %d), the server answered %d %s", exit, status, got.Raw)
				}
				return
			}
			if exit != 1 || len(v.Violations) == 0 {
				t.Fatalf("validate exit %d %+v", exit, v)
			}
			first := v.Violations[0]
			if first.Code != got.Message.Code || first.Text != got.Message.Text || first.Status != status {
				t.Errorf("validate: %d %s %q; server: %d %s %q", first.Status, first.Code, first.Text, status, got.Message.Code, got.Message.Text)
			}
		})
	}
}

func TestValidateReadsARawRequestFile(t *testing.T) {
	p := filepath.Join(t.TempDir(), "request.http")
	raw := "POST /v4/Users HTTP/1.1\nHost: example\nAuthorization: Bearer x.y.z\nX-SourceSystem: Web\nX-ClientCode: demo\nX-PaperCode: demo\nX-ClientGroupCode: demo\nContent-Type: application/json\n\n{\"email\":\"jane@example.com\",\"emial\":1}"
	if err := os.WriteFile(p, []byte(raw), 0o600); err != nil {
		t.Fatal(err)
	}
	exit, v := runValidate(t, "-file", p)
	if exit != 1 || len(v.Violations) != 1 || v.Violations[0].Text != "Invalid InputModel - body.emial: is not a known field" {
		t.Errorf("exit %d %+v", exit, v)
	}
	var out bytes.Buffer
	if code := run([]string{"validate", "-file", p}, nil, &out, &out, func(string) string { return "" }); code != 1 || !strings.Contains(out.String(), "400 UsersOrchestrator_E400_00  Invalid InputModel - body.emial: is not a known field") {
		t.Errorf("text output (exit %d): %s", code, out.String())
	}
	if code := run([]string{"validate", "-file", filepath.Join(t.TempDir(), "missing")}, nil, &out, &out, func(string) string { return "" }); code != 2 {
		t.Errorf("a missing file must exit 2, got %d", code)
	}
}

// TestValidateNotesOtherSpellings: a PascalCase name is accepted and the command says which
// contract name it was read as; strict JSON problems are named.
func TestValidateNotesOtherSpellings(t *testing.T) {
	hdr := []string{"-H", "Authorization: Bearer x.y.z", "-H", "X-SourceSystem: Web", "-H", "X-ClientCode: demo", "-H", "X-PaperCode: demo", "-H", "X-ClientGroupCode: demo"}
	var out bytes.Buffer
	args := append([]string{"validate", "-method", "POST", "-url", "/v4/Users?", "-d", `{"Email":"jane@example.com","IgnoreProvider":true}`}, hdr...)
	if code := run(args, nil, &out, &out, func(string) string { return "" }); code != 0 {
		t.Fatalf("exit %d: %s", code, out.String())
	}
	want := "valid: createUser\nnote: body.Email (accepted; the contract spells it email)\nnote: body.IgnoreProvider (accepted; the contract spells it ignoreProvider)\n"
	if out.String() != want {
		t.Errorf("got\n%s\nwant\n%s", out.String(), want)
	}
	tests := []struct{ body, want string }{
		{`{"email":"a@example.com"} {}`, "Invalid InputModel - body: has data after the JSON value"},
		{`{"email":"a@example.com","email":"b@example.com"}`, "Invalid InputModel - body.email: is given twice"},
		{"{\"email\":\"a@example.com\",\"firstName\":\"\xc3\"}", "Invalid InputModel - body: is not valid UTF-8"},
		{`{"email":"a@example.com","EMAIL":"b@example.com"}`, "Invalid InputModel - body.email: is given twice, as EMAIL and email"},
	}
	for _, tt := range tests {
		p := filepath.Join(t.TempDir(), "body.json")
		if err := os.WriteFile(p, []byte(tt.body), 0o600); err != nil {
			t.Fatal(err)
		}
		exit, v := runValidate(t, append([]string{"-method", "POST", "-url", "/v4/Users", "-d", "@" + p}, hdr...)...)
		if exit != 1 || len(v.Violations) == 0 || v.Violations[0].Text != tt.want || v.Violations[0].Code != "UsersOrchestrator_E400_00" {
			t.Errorf("%q: exit %d %+v, want %q", tt.body, exit, v, tt.want)
		}
	}
}

// TestValidateHAR checks every request of a small capture (as a browser exports it, HTTP/2
// pseudo-headers included): one line per request and a summary, or the same as JSON; the exit
// status says whether any request is invalid.
func TestValidateHAR(t *testing.T) {
	capture := filepath.Join("testdata", "capture.har")
	var out bytes.Buffer
	code := run([]string{"validate", "-har", capture}, nil, &out, &out, func(string) string { return "" })
	want := `1 GET /account  skipped: not an API path
2 POST /v4/Users  valid createUser (3 name(s) in another spelling)
3 POST /v4/Users  invalid createUser: 400 UsersOrchestrator_E400_00 Invalid InputModel - body.emial: is not a known field
4 GET /v4/Users  valid getUsers
5 POST /v4/Users/Authentication  invalid authenticate: 400 UsersOrchestrator_E400_00 Invalid InputModel - body: has data after the JSON value
5 request(s): 2 valid, 2 invalid, 1 skipped (not /v4)
`
	if code != 1 || out.String() != want {
		t.Errorf("exit %d, output\n%s\nwant\n%s", code, out.String(), want)
	}

	out.Reset()
	if code := run([]string{"validate", "-har", capture, "-json"}, nil, &out, &out, func(string) string { return "" }); code != 1 {
		t.Errorf("-json exit %d", code)
	}
	var got struct {
		Requests []struct {
			Entry      int    `json:"entry"`
			Path       string `json:"path"`
			Skipped    bool   `json:"skipped"`
			Valid      bool   `json:"valid"`
			Operation  string `json:"operationId"`
			Violations []struct {
				Code string `json:"code"`
				Text string `json:"text"`
			} `json:"violations"`
			Notes []struct {
				Where, Canonical string
			} `json:"notes"`
		} `json:"requests"`
		Summary struct{ Valid, Invalid, Skipped int } `json:"summary"`
	}
	if err := json.Unmarshal(out.Bytes(), &got); err != nil {
		t.Fatalf("%v: %s", err, out.String())
	}
	if len(got.Requests) != 5 || got.Summary.Valid != 2 || got.Summary.Invalid != 2 || got.Summary.Skipped != 1 {
		t.Fatalf("%+v", got)
	}
	if r := got.Requests[1]; !r.Valid || r.Operation != "createUser" || len(r.Notes) != 3 || r.Notes[0].Where != "body.Email" || r.Notes[0].Canonical != "email" {
		t.Errorf("entry 2: %+v", r)
	}
	if r := got.Requests[2]; r.Valid || len(r.Violations) != 1 || r.Violations[0].Code != "UsersOrchestrator_E400_00" {
		t.Errorf("entry 3: %+v", r)
	}
	if r := got.Requests[0]; !r.Skipped || r.Path != "/account" {
		t.Errorf("entry 1: %+v", r)
	}

	// A capture with only valid requests exits 0; a file that is not a capture exits 2.
	p := filepath.Join(t.TempDir(), "ok.har")
	okHAR := `{"log":{"entries":[{"request":{"method":"GET","url":"https://api.example.com/v4/Users/abc","headers":[` +
		`{"name":"Authorization","value":"Bearer x"},{"name":"X-SourceSystem","value":"Web"},{"name":"X-ClientCode","value":"demo"},` +
		`{"name":"X-PaperCode","value":"demo"},{"name":"X-ClientGroupCode","value":"demo"}]}}]}}`
	if err := os.WriteFile(p, []byte(okHAR), 0o600); err != nil {
		t.Fatal(err)
	}
	if code := run([]string{"validate", "-har", p}, nil, &out, &out, func(string) string { return "" }); code != 0 {
		t.Errorf("a valid capture exits %d", code)
	}
	if err := os.WriteFile(p, []byte("not json"), 0o600); err != nil {
		t.Fatal(err)
	}
	if code := run([]string{"validate", "-har", p}, nil, &out, &out, func(string) string { return "" }); code != 2 {
		t.Errorf("a file that is not a capture exits %d", code)
	}
}

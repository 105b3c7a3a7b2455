package contract_test

import (
	"context"
	"encoding/json"
	"io"
	"strings"
	"testing"

	"usersorchestrator/internal/codes"
)

// TestNamesBindWithoutRegardToCase sends, for every operation, the names the contract defines in
// the spellings of the published tables (PascalCase) and others: each is accepted, noted, and
// handed to the handler under the contract's spelling. Metadata keys are data and stay as sent.
func TestNamesBindWithoutRegardToCase(t *testing.T) {
	v := newValidator(t)
	const eid = "abcdefghijklmnopqrstuvwxyz"
	tests := []struct {
		op, method, target, body string
		wantNotes                []string
		wantQuery                map[string]string // canonical name -> value after folding
		wantBody                 map[string]any    // canonical member -> value after folding
	}{
		{"getUsers", "GET", "/v4/Users?Email=jane@example.com&IgnoreProvider=true&PAGESIZE=5", "",
			[]string{"query parameter Email: read as email", "query parameter IgnoreProvider: read as ignoreProvider", "query parameter PAGESIZE: read as pageSize"},
			map[string]string{"email": "jane@example.com", "ignoreProvider": "true", "pageSize": "5"}, nil},
		{"getUsers", "GET", "/v4/Users?EncryptedCustomerRegistrationId=" + eid, "",
			[]string{"query parameter EncryptedCustomerRegistrationId: read as encryptedCustomerRegistrationId"},
			map[string]string{"encryptedCustomerRegistrationId": eid}, nil},
		{"getUserById", "GET", "/v4/Users/abc?IgnoreProvider=true", "",
			[]string{"query parameter IgnoreProvider: read as ignoreProvider"}, map[string]string{"ignoreProvider": "true"}, nil},
		{"createUser", "POST", "/v4/Users", `{"Email":"jane@example.com","Password":"correct-horse","FirstName":"Jane","IgnoreProvider":true,"VerifyEmail":false,"Metadata":{"phoneNumber":"1"}}`,
			[]string{"body.Email: read as email", "body.FirstName: read as firstName", "body.IgnoreProvider: read as ignoreProvider", "body.Metadata: read as metadata", "body.Password: read as password", "body.VerifyEmail: read as verifyEmail"},
			nil, map[string]any{"email": "jane@example.com", "firstName": "Jane", "ignoreProvider": true, "metadata": map[string]any{"phoneNumber": "1"}}},
		{"createUser", "POST", "/v4/Users", `{"email":"jane@example.com","CUSTOMERREGISTRATIONID":"abc","returnurl":"https://www.example.com/x"}`,
			[]string{"body.CUSTOMERREGISTRATIONID: read as customerRegistrationId", "body.returnurl: read as returnUrl"},
			nil, map[string]any{"customerRegistrationId": "abc", "returnUrl": "https://www.example.com/x"}},
		{"updateUser", "PUT", "/v4/Users/abc", `{"LastName":"Doe","RemoveLastLogoutDate":true,"Verified":true,"IgnoreProvider":true}`,
			[]string{"body.IgnoreProvider: read as ignoreProvider", "body.LastName: read as lastName", "body.RemoveLastLogoutDate: read as removeLastLogoutDate", "body.Verified: read as verified"},
			nil, map[string]any{"lastName": "Doe", "removeLastLogoutDate": true, "verified": true, "ignoreProvider": true}},
		{"updatePassword", "PATCH", "/v4/Users/abc/Password", `{"Password":"correct-horse"}`,
			[]string{"body.Password: read as password"}, nil, map[string]any{"password": "correct-horse"}},
		{"updateEmail", "PATCH", "/v4/Users/abc/Email", `{"Email":"new@example.com","IgnoreProvider":true}`,
			[]string{"body.Email: read as email", "body.IgnoreProvider: read as ignoreProvider"}, nil, map[string]any{"email": "new@example.com", "ignoreProvider": true}},
		{"getUserEvents", "GET", "/v4/Users/abc/Events?PageSize=10&PageNumber=2", "",
			[]string{"query parameter PageNumber: read as pageNumber", "query parameter PageSize: read as pageSize"}, map[string]string{"pageSize": "10", "pageNumber": "2"}, nil},
		{"authenticate", "POST", "/v4/Users/Authentication", `{"LoginName":"jane@example.com","Password":"x"}`,
			[]string{"body.LoginName: read as loginName", "body.Password: read as password"}, nil, map[string]any{"loginName": "jane@example.com", "password": "x"}},
		{"startForgotPassword", "POST", "/v4/Users/ForgotPassword", `{"LoginName":"jane@example.com","ReturnUrl":"https://www.example.com/r"}`,
			[]string{"body.LoginName: read as loginName", "body.ReturnUrl: read as returnUrl"}, nil, map[string]any{"loginName": "jane@example.com"}},
		{"validateForgotPassword", "POST", "/v4/Users/ForgotPassword/Validity", `{"EncryptedEventId":"` + eid + `"}`,
			[]string{"body.EncryptedEventId: read as encryptedEventId"}, nil, map[string]any{"encryptedEventId": eid}},
		{"finishForgotPassword", "POST", "/v4/Users/ForgotPassword/Finish", `{"EncryptedEventId":"` + eid + `","PASSWORD":"correct-horse"}`,
			[]string{"body.EncryptedEventId: read as encryptedEventId", "body.PASSWORD: read as password"}, nil, map[string]any{"password": "correct-horse"}},
		{"verifyEmail", "POST", "/v4/Users/Verification", `{"Email":"jane@example.com","VerificationCode":"123456"}`,
			[]string{"body.Email: read as email", "body.VerificationCode: read as verificationCode"}, nil, map[string]any{"verificationCode": "123456"}},
		{"sendVerificationCode", "POST", "/v4/Users/VerificationCode", `{"Email":"jane@example.com"}`,
			[]string{"body.Email: read as email"}, nil, map[string]any{"email": "jane@example.com"}},
	}
	seen := map[string]bool{}
	for _, tt := range tests {
		seen[tt.op] = true
		t.Run(tt.op+" "+tt.target, func(t *testing.T) {
			r := request(tt.method, tt.target, tt.body)
			res := v.Validate(context.Background(), r)
			if res.OperationID != tt.op || len(res.Violations) > 0 {
				t.Fatalf("operation %q violations %v", res.OperationID, res.Violations)
			}
			var notes []string
			for _, n := range res.Notes {
				notes = append(notes, n.String())
			}
			if strings.Join(notes, "\n") != strings.Join(tt.wantNotes, "\n") {
				t.Errorf("notes\n%s\nwant\n%s", strings.Join(notes, "\n"), strings.Join(tt.wantNotes, "\n"))
			}
			q := r.URL.Query()
			for name, want := range tt.wantQuery {
				if got := q.Get(name); got != want {
					t.Errorf("query %s = %q, want %q (query %s)", name, got, want, r.URL.RawQuery)
				}
			}
			if tt.body == "" {
				return
			}
			data, err := io.ReadAll(r.Body)
			if err != nil {
				t.Fatal(err)
			}
			var got map[string]any
			if err := json.Unmarshal(data, &got); err != nil {
				t.Fatalf("body %q: %v", data, err)
			}
			for name, want := range tt.wantBody {
				g, _ := json.Marshal(got[name])
				w, _ := json.Marshal(want)
				if string(g) != string(w) {
					t.Errorf("body.%s = %s, want %s (body %s)", name, g, w, data)
				}
			}
			for name := range got {
				if name != strings.ToLower(name[:1])+name[1:] {
					t.Errorf("body still has %q: %s", name, data)
				}
			}
		})
	}
	for _, op := range []string{"getUsers", "createUser", "getUserById", "updateUser", "updatePassword", "updateEmail", "getUserEvents",
		"authenticate", "startForgotPassword", "validateForgotPassword", "finishForgotPassword", "verifyEmail", "sendVerificationCode"} {
		if !seen[op] {
			t.Errorf("operation %s is not covered", op)
		}
	}
}

// TestNamesThatStayRefused: folding makes no typo pass, keeps metadata keys as data, and a name
// sent in two spellings is refused naming both; the body is read as strict JSON.
func TestNamesThatStayRefused(t *testing.T) {
	v := newValidator(t)
	tests := []struct {
		name, method, target, body string
		wantCode                   codes.Code
		wantText                   string
	}{
		{"typo in PascalCase", "POST", "/v4/Users", `{"Email":"jane@example.com","Emial":"x"}`,
			codes.E400_00, "Invalid InputModel - body.Emial: is not a known field"},
		{"unknown query name", "GET", "/v4/Users?Emial=jane@example.com", "",
			codes.E400_00, "Invalid InputModel - query parameter Emial: is not a known parameter"},
		{"Kelvin sign is not k", "POST", "/v4/Users/Authentication", "{\"loginName\":\"a\",\"password\":\"b\",\"to\u212aen\":\"c\"}",
			codes.E400_00, "Invalid InputModel - body.\"to\u212aen\": is not a known field"},
		{"metadata keys are not folded", "POST", "/v4/Users", `{"email":"jane@example.com","Metadata":{"PhoneNumber":"1"}}`,
			codes.E400_09, "The metadata is invalid."},
		{"body name in two spellings", "POST", "/v4/Users", `{"email":"jane@example.com","Email":"john@example.com"}`,
			codes.E400_00, "Invalid InputModel - body.email: is given twice, as Email and email"},
		{"body name in two spellings, neither canonical", "PATCH", "/v4/Users/abc/Password", `{"PASSWORD":"correct-horse","Password":"correct-horse"}`,
			codes.E400_00, "Invalid InputModel - body.password: is given twice, as PASSWORD and Password"},
		{"canonical spelling sorts first", "POST", "/v4/Users", `{"email":"jane@example.com","ignoreprovider":true,"ignoreProvider":false}`,
			codes.E400_00, "Invalid InputModel - body.ignoreProvider: is given twice, as ignoreProvider and ignoreprovider"},
		{"query name in two spellings", "GET", "/v4/Users?email=jane@example.com&EMAIL=john@example.com", "",
			codes.E400_00, "Invalid InputModel - query parameter email: is given twice, as EMAIL and email"},
		{"same name twice", "POST", "/v4/Users", `{"email":"jane@example.com","email":"john@example.com"}`,
			codes.E400_00, "Invalid InputModel - body.email: is given twice"},
		{"same metadata key twice", "PUT", "/v4/Users/abc", `{"metadata":{"city":"A","city":"B"}}`,
			codes.E400_00, "Invalid InputModel - body.metadata.city: is given twice"},
		{"trailing object", "POST", "/v4/Users/Authentication", `{"token":"abc"} {"token":"def"}`,
			codes.E400_00, "Invalid InputModel - body: has data after the JSON value"},
		{"trailing garbage", "POST", "/v4/Users/Authentication", `{"token":"abc"}x`,
			codes.E400_00, "Invalid InputModel - body: has data after the JSON value"},
		{"invalid UTF-8", "POST", "/v4/Users", "{\"email\":\"jane@example.com\",\"firstName\":\"J\xffne\"}",
			codes.E400_00, "Invalid InputModel - body: is not valid UTF-8"},
		{"a lone surrogate escape", "POST", "/v4/Users", `{"email":"jane@example.com","firstName":"J\ud800ne"}`,
			codes.E400_00, `Invalid InputModel - body: has a \u escape of half a surrogate pair, which is no character`},
		{"a low surrogate alone", "POST", "/v4/Users", `{"email":"jane@example.com","firstName":"\uDC00"}`,
			codes.E400_00, `Invalid InputModel - body: has a \u escape of half a surrogate pair, which is no character`},
		{"broken JSON", "POST", "/v4/Users", `{"email" "jane@example.com"}`,
			codes.E400_00, "Invalid InputModel - body: is not valid JSON"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res := v.Validate(context.Background(), request(tt.method, tt.target, tt.body))
			if len(res.Violations) == 0 {
				t.Fatalf("want %s %q, got valid", tt.wantCode, tt.wantText)
			}
			if first := res.Violations[0]; first.Code != tt.wantCode || first.Text() != tt.wantText {
				t.Errorf("got %s %q, want %s %q (all %v)", first.Code, first.Text(), tt.wantCode, tt.wantText, res.Violations)
			}
		})
	}
	// A surrogate pair is one character, and an escaped backslash before a u is no escape.
	for _, body := range []string{`{"token":"\ud83d\ude00"}`, `{"token":"\\ud800"}`, `{"token":"\u00e9"}`} {
		if res := v.Validate(context.Background(), request("POST", "/v4/Users/Authentication", body)); len(res.Violations) > 0 {
			t.Errorf("%s refused: %v", body, res.Violations)
		}
	}
	// Trailing white space is not data.
	if res := v.Validate(context.Background(), request("POST", "/v4/Users/Authentication", "{\"token\":\"abc\"}\r\n \t")); len(res.Violations) > 0 {
		t.Errorf("trailing white space refused: %v", res.Violations)
	}
}

package contract_test

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"usersorchestrator/internal/codes"
	"usersorchestrator/internal/contract"
)

func newValidator(t testing.TB) *contract.Validator {
	t.Helper()
	doc, err := contract.Load()
	if err != nil {
		t.Fatal(err)
	}
	v, err := contract.New(doc)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

// request builds a request with the five headers set, minus those named in drop.
func request(method, target, body string, drop ...string) *http.Request {
	var r *http.Request
	if body == "" {
		r = httptest.NewRequest(method, target, nil)
	} else {
		r = httptest.NewRequest(method, target, strings.NewReader(body))
		r.Header.Set("Content-Type", "application/json")
	}
	r.Header.Set("Authorization", "Bearer x.y.z")
	r.Header.Set("X-SourceSystem", "Web")
	r.Header.Set("X-ClientCode", "demo")
	r.Header.Set("X-PaperCode", "demo")
	r.Header.Set("X-ClientGroupCode", "demo")
	for _, h := range drop {
		r.Header.Del(h)
	}
	return r
}

// publishedMetadataKeys are the example keys of the published metadata object; all must pass.
var publishedMetadataKeys = []string{"title", "phoneNumber", "gender", "age", "dob", "dobYYYY",
	"acceptsEmailOffers", "acceptsEmailAds", "acceptsEmailPromotions", "address", "city", "country",
	"position", "isOkToEmail", "isOkToPhone", "isOkToMail", "workPhone", "timeZone", "scoreMember",
	"companyName", "postalCode", "cellPhone", "acceptsEENotification", "ebill_flag", "eadvan_flag",
	"eedition_flag", "ee_email_flag", "promo_flag", "feat_flag", "dealdigger_flag", "ads_flag",
	"member_event_flag", "contentEngagement_flag", "subcom_flag", "survey_flag", "accountUpdates_flag",
	"photo", "displayName", "optOutMarketing", "agreeToTerms", "bounceType"}

func publishedMetadataBody() string {
	parts := make([]string, 0, len(publishedMetadataKeys))
	for _, k := range publishedMetadataKeys {
		parts = append(parts, `"`+k+`":""`)
	}
	return `{"email":"jane@example.com","metadata":{` + strings.Join(parts, ",") + `}}`
}

func TestValidate(t *testing.T) {
	v := newValidator(t)
	long := strings.Repeat("a", 101)
	tests := []struct {
		name     string
		req      *http.Request
		wantOp   string
		wantCode codes.Code // empty: valid
		wantText string
	}{
		{"create valid", request("POST", "/v4/Users", `{"email":"jane@example.com","password":"correct-horse","metadata":{"ebill_flag":"true"}}`), "createUser", "", ""},
		{"create passwordless with empty password", request("POST", "/v4/Users", `{"email":"jane@example.com","password":""}`), "createUser", "", ""},
		{"published metadata keys pass", request("POST", "/v4/Users", publishedMetadataBody()), "createUser", "", ""},
		{"unknown field", request("POST", "/v4/Users", `{"email":"jane@example.com","emial":"x"}`), "createUser",
			codes.E400_00, "Invalid InputModel - body.emial: is not a known field"},
		{"missing header", request("POST", "/v4/Users", `{"email":"jane@example.com"}`, "X-PaperCode"), "createUser",
			codes.E400_00, "Invalid InputModel - header X-PaperCode: is required"},
		{"missing source system on a GET", request("GET", "/v4/Users/abc", "", "X-SourceSystem"), "getUserById",
			codes.E400_00, "Invalid InputModel - header X-SourceSystem: is required"},
		{"missing authorization", request("GET", "/v4/Users/abc", "", "Authorization"), "getUserById",
			codes.E401, "Unauthorized"},
		{"bad tenant code", func() *http.Request {
			r := request("GET", "/v4/Users/abc", "")
			r.Header.Set("X-ClientCode", "de mo")
			return r
		}(), "getUserById", codes.E400_00, "Invalid InputModel - header X-ClientCode: must match the pattern ^[A-Za-z0-9_-]+$"},
		{"wrong type", request("POST", "/v4/Users", `{"email":"jane@example.com","verifyEmail":"yes"}`), "createUser",
			codes.E400_00, "Invalid InputModel - body.verifyEmail: must be true or false"},
		{"body not an object", request("POST", "/v4/Users", `["jane@example.com"]`), "createUser",
			codes.E400_00, "Invalid InputModel - body: must be an object"},
		{"missing email", request("POST", "/v4/Users", `{"firstName":"Jane"}`), "createUser",
			codes.E400_00, "Invalid InputModel - body.email: is required"},
		{"not an email", request("POST", "/v4/Users", `{"email":"jane(at)example.com"}`), "createUser",
			codes.E400_00, "Invalid InputModel - body.email: must be an email address"},
		{"email with display name", request("POST", "/v4/Users", `{"email":"Jane <jane@example.com>"}`), "createUser",
			codes.E400_00, "Invalid InputModel - body.email: must be an email address"},
		// Password length is the tenant's policy, judged by the workflow (E400), not the contract.
		{"short password is the tenant's to judge", request("POST", "/v4/Users", `{"email":"jane@example.com","password":"short"}`), "createUser", "", ""},
		{"short new password is the tenant's to judge", request("PATCH", "/v4/Users/abc/Password", `{"password":"string"}`), "updatePassword", "", ""},
		{"return url not http", request("POST", "/v4/Users", `{"email":"jane@example.com","returnUrl":"javascript:alert(1)"}`), "createUser",
			codes.E400_00, "Invalid InputModel - body.returnUrl: must be an absolute http or https URL"},
		{"metadata value too long", request("POST", "/v4/Users", `{"email":"jane@example.com","metadata":{"city":"`+long+`"}}`), "createUser",
			codes.E400_17, "Metadata Key or Value cannot contain more than 100 characters."},
		{"metadata key too long", request("POST", "/v4/Users", `{"email":"jane@example.com","metadata":{"`+long+`":"x"}}`), "createUser",
			codes.E400_17, "Metadata Key or Value cannot contain more than 100 characters."},
		{"metadata key not camelCase", request("POST", "/v4/Users", `{"email":"jane@example.com","metadata":{"Phone-Number":"1"}}`), "createUser",
			codes.E400_09, "The metadata is invalid."},
		{"metadata value not a string", request("POST", "/v4/Users", `{"email":"jane@example.com","metadata":{"age":42}}`), "createUser",
			codes.E400_09, "The metadata is invalid."},
		{"metadata not an object", request("POST", "/v4/Users", `{"email":"jane@example.com","metadata":"x"}`), "createUser",
			codes.E400_09, "The metadata is invalid."},
		{"metadata null in create", request("POST", "/v4/Users", `{"email":"jane@example.com","metadata":{"city":null}}`), "createUser",
			codes.E400_09, "The metadata is invalid."},
		{"update removes a metadata key with null", request("PUT", "/v4/Users/abc", `{"metadata":{"city":null,"title":"Dr"}}`), "updateUser", "", ""},
		{"update metadata key rule", request("PUT", "/v4/Users/abc", `{"metadata":{"_x":"1"}}`), "updateUser",
			codes.E400_09, "The metadata is invalid."},
		{"update logout date twice", request("PUT", "/v4/Users/abc", `{"lastLogoutDate":"2026-11-23T08:30:00Z","removeLastLogoutDate":true}`), "updateUser",
			codes.E400_00, "Invalid InputModel - body.removeLastLogoutDate: cannot be combined with lastLogoutDate"},
		{"update bad date", request("PUT", "/v4/Users/abc", `{"lastLogoutDate":"yesterday"}`), "updateUser",
			codes.E400_00, "Invalid InputModel - body.lastLogoutDate: must be an RFC 3339 date-time"},
		{"broken json", request("POST", "/v4/Users", `{"email":"jane@example.com",`), "createUser",
			codes.E400_00, "Invalid InputModel - body: is not valid JSON"},
		{"no body", request("POST", "/v4/Users/Authentication", ""), "authenticate",
			codes.E400_00, "Invalid InputModel - body: is required"},
		{"wrong content type", func() *http.Request {
			r := request("POST", "/v4/Users", `{"email":"jane@example.com"}`)
			r.Header.Set("Content-Type", "text/plain")
			return r
		}(), "createUser", codes.E400_00, "Invalid InputModel - header Content-Type: must be application/json"},
		{"encrypted selector malformed", request("GET", "/v4/Users?encryptedEmail=not*base64*at*all*", ""), "getUsers",
			codes.E400_02, "Invalid InputModel"},
		{"encrypted id in body malformed", request("POST", "/v4/Users", `{"email":"jane@example.com","encryptedCustomerRegistrationId":"%%%"}`), "createUser",
			codes.E400_00, "Invalid InputModel - body.encryptedCustomerRegistrationId: must be at least 16 characters"},
		{"page size too large", request("GET", "/v4/Users?pageSize=500", ""), "getUsers",
			codes.E400_00, "Invalid InputModel - query parameter pageSize: must be at most 100"},
		{"page size not a number", request("GET", "/v4/Users?pageSize=ten", ""), "getUsers",
			codes.E400_00, "Invalid InputModel - query parameter pageSize: must be an integer"},
		{"order by unknown", request("GET", "/v4/Users?orderBy=password", ""), "getUsers",
			codes.E400_00, "Invalid InputModel - query parameter orderBy: must be one of customerRegistrationId, email, firstName, lastName, addDate, changeDate"},
		{"malformed query string", request("GET", "/v4/Users?email=nobody%ZZ@example.com", ""), "getUsers",
			codes.E400_00, "Invalid InputModel - query: is not a valid query string"},
		{"semicolon in the query", request("GET", "/v4/Users?email=nobody@example.com;x=1", ""), "getUsers",
			codes.E400_00, "Invalid InputModel - query: is not a valid query string"},
		{"control character in a field name", request("POST", "/v4/Users", `{"email":"jane@example.com","a\u001b[31m":"x"}`), "createUser",
			codes.E400_00, `Invalid InputModel - body."a\x1b[31m": is not a known field`},
		{"unknown query parameter", request("GET", "/v4/Users?emial=jane@example.com", ""), "getUsers",
			codes.E400_00, "Invalid InputModel - query parameter emial: is not a known parameter"},
		{"two selectors", request("GET", "/v4/Users?encryptedEmail=abcdefghijklmnopqrst&token=abc", ""), "getUsers",
			codes.E400_00, "Invalid InputModel - query: send only one of encryptedEmail, token"},
		{"selector with filter", request("GET", "/v4/Users?token=abc&firstName=Ja", ""), "getUsers",
			codes.E400_00, "Invalid InputModel - query parameter token: cannot be combined with the search filters firstName"},
		{"email with filters is a search", request("GET", "/v4/Users?email=jane@example.com&verified=true", ""), "getUsers", "", ""},
		{"path parameter pattern", request("GET", "/v4/Users/a%20b", ""), "getUserById",
			codes.E400_00, "Invalid InputModel - path parameter customerRegistrationId: must match the pattern ^[A-Za-z0-9._~@|:+=-]+$"},
		{"auth0 style id", request("GET", "/v4/Users/auth0%7C65f0c2", ""), "getUserById", "", ""},
		{"authenticate neither", request("POST", "/v4/Users/Authentication", `{}`), "authenticate",
			codes.E400_00, "Invalid InputModel - body: send a token, or loginName and password"},
		{"authenticate all three, as published", request("POST", "/v4/Users/Authentication", `{"loginName":"a","password":"b","token":"c"}`), "authenticate", "", ""},
		{"authenticate token and login name", request("POST", "/v4/Users/Authentication", `{"loginName":"a","token":"c"}`), "authenticate", "", ""},
		{"authenticate with an empty token is a password login", request("POST", "/v4/Users/Authentication", `{"loginName":"a","password":"b","token":""}`), "authenticate", "", ""},
		{"authenticate with only an empty token", request("POST", "/v4/Users/Authentication", `{"token":""}`), "authenticate",
			codes.E400_00, "Invalid InputModel - body: send a token, or loginName and password"},
		{"authenticate password missing", request("POST", "/v4/Users/Authentication", `{"loginName":"a"}`), "authenticate",
			codes.E400_00, "Invalid InputModel - body.password: is required with loginName"},
		{"authenticate token", request("POST", "/v4/Users/Authentication", `{"token":"abc"}`), "authenticate", "", ""},
		{"NUL in a name", request("POST", "/v4/Users", `{"email":"jane@example.com","firstName":"Ja\u0000ne"}`), "createUser",
			codes.E400_00, "Invalid InputModel - body.firstName: must not contain NUL characters"},
		{"NUL in a metadata value", request("PUT", "/v4/Users/abc", `{"metadata":{"city":"a\u0000"}}`), "updateUser",
			codes.E400_09, "The metadata is invalid."},
		{"NUL in a query parameter", request("GET", "/v4/Users?firstName=a%00b", ""), "getUsers",
			codes.E400_00, "Invalid InputModel - query parameter firstName: must not contain NUL characters"},
		{"unknown path", request("GET", "/v4/Customers", ""), "", codes.E404, "Not Found"},
		{"unknown method", request("DELETE", "/v4/Users/abc", ""), "", codes.E404, "Not Found"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res := v.Validate(context.Background(), tt.req)
			if res.OperationID != tt.wantOp {
				t.Errorf("operation %q, want %q", res.OperationID, tt.wantOp)
			}
			if tt.wantCode == "" {
				if len(res.Violations) > 0 {
					t.Fatalf("want valid, got %v", res.Violations)
				}
				return
			}
			if len(res.Violations) == 0 {
				t.Fatalf("want %s %q, got valid", tt.wantCode, tt.wantText)
			}
			first := res.Violations[0]
			if first.Code != tt.wantCode || first.Text() != tt.wantText {
				t.Errorf("got %s %q, want %s %q (all: %v)", first.Code, first.Text(), tt.wantCode, tt.wantText, res.Violations)
			}
		})
	}
}

func TestValidateReportsEveryViolationInOrder(t *testing.T) {
	v := newValidator(t)
	r := request("POST", "/v4/Users?x=1", `{"emial":"x","verifyEmail":"yes"}`, "X-PaperCode")
	var got []string
	for _, vi := range v.Validate(context.Background(), r).Violations {
		got = append(got, vi.String())
	}
	want := []string{
		"UsersOrchestrator_E400_00 header X-PaperCode: is required",
		"UsersOrchestrator_E400_00 query parameter x: is not a known parameter",
		"UsersOrchestrator_E400_00 body.email: is required",
		"UsersOrchestrator_E400_00 body.emial: is not a known field",
		"UsersOrchestrator_E400_00 body.verifyEmail: must be true or false",
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("got\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

func TestValidateNeverEchoesValues(t *testing.T) {
	v := newValidator(t)
	secret := "hunter2-secret-value"
	r := request("POST", "/v4/Users/ForgotPassword/Finish", `{"encryptedEventId":"`+secret+`!","password":"`+secret+strings.Repeat("x", 200)+`"}`)
	for _, vi := range v.Validate(context.Background(), r).Violations {
		if strings.Contains(vi.Text(), secret) || strings.Contains(vi.Detail(), secret) {
			t.Errorf("violation repeats the submitted value: %s", vi.Detail())
		}
	}
}

func TestValidateKeepsBodyForTheHandler(t *testing.T) {
	v := newValidator(t)
	r := request("POST", "/v4/Users", `{"email":"jane@example.com"}`)
	if res := v.Validate(context.Background(), r); len(res.Violations) > 0 {
		t.Fatal(res.Violations)
	}
	vb, ok := r.Body.(interface{ ValidatedValue() any })
	if !ok {
		t.Fatal("body does not carry the validated value")
	}
	m, _ := vb.ValidatedValue().(map[string]any)
	if m["email"] != "jane@example.com" {
		t.Errorf("validated value %v: want the email", m)
	}
	data, err := io.ReadAll(r.Body)
	if err != nil || !strings.Contains(string(data), "jane@example.com") {
		t.Errorf("body not readable again: %q %v", data, err)
	}
}

func TestValidateBodyLimit(t *testing.T) {
	v := newValidator(t)
	r := request("POST", "/v4/Users", `{"email":"jane@example.com","firstName":"`+strings.Repeat("a", 5000)+`"}`)
	r.Body = http.MaxBytesReader(httptest.NewRecorder(), r.Body, 1024)
	res := v.Validate(context.Background(), r)
	if len(res.Violations) == 0 || res.Violations[0].Code != codes.E413 {
		t.Fatalf("want E413, got %v", res.Violations)
	}
}

func TestCheckMetadataKeys(t *testing.T) {
	tests := []struct {
		key  string
		want codes.Code
	}{
		{"phoneNumber", ""},
		{"ebill_flag", ""},
		{"dobYYYY", ""},
		{"a", ""},
		{strings.Repeat("k", 100), ""},
		{strings.Repeat("k", 101), codes.E400_17},
		{"PhoneNumber", codes.E400_09},
		{"_flag", codes.E400_09},
		{"1st", codes.E400_09},
		{"phone-number", codes.E400_09},
		{"phone number", codes.E400_09},
		{"", codes.E400_09},
		{"čity", codes.E400_09},
	}
	for _, tt := range tests {
		got := contract.CheckMetadataKeys(map[string]string{tt.key: "v"})
		switch {
		case tt.want == "" && len(got) > 0:
			t.Errorf("key %q: want valid, got %v", tt.key, got)
		case tt.want != "" && (len(got) != 1 || got[0].Code != tt.want):
			t.Errorf("key %q: want %s, got %v", tt.key, tt.want, got)
		}
	}
}

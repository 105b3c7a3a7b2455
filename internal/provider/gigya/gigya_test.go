package gigya

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"reflect"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"usersorchestrator/internal/provider"
	"usersorchestrator/internal/provider/httpx"
)

const (
	testAPIKey  = "3_test-api-key"
	testUserKey = "ABCuserkey"
	testSecret  = "s3cr3t-never-shown"
)

// answer is one canned Gigya response.
type answer struct {
	status int // 0 means 200
	body   string
	delay  time.Duration
}

// ok is a success body: the envelope plus the given JSON members ("" for none).
func ok(members string) answer { return gigya(0, members) }

// fail is an error body as Gigya sends it: HTTP 200, errorCode and the HTTP-like statusCode.
func fail(code int, members string) answer { return gigya(code, members) }

func gigya(code int, members string) answer {
	status, reason, msg := 200, "OK", ""
	if code != 0 {
		status, reason, msg = code/1000, "Error", fmt.Sprintf(`"errorMessage":"label %d","errorDetails":"details may quote jo@example.com",`, code)
	}
	if members != "" {
		members += ","
	}
	return answer{body: fmt.Sprintf(`{%s%s"callId":"c0ffee","errorCode":%d,"apiVersion":2,"statusCode":%d,"statusReason":%q,"time":"2025-01-01T00:00:00.000Z"}`,
		members, msg, code, status, reason)}
}

// recorded is one request the fake Gigya received.
type recorded struct {
	httpMethod  string
	path        string
	rawQuery    string
	contentType string
	form        url.Values
}

// fakeGigya answers each accounts.* path with its queue of answers (the last one repeats) and
// records every request.
type fakeGigya struct {
	t       *testing.T
	mu      sync.Mutex
	answers map[string][]answer
	calls   []recorded
}

func (f *fakeGigya) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	form, err := url.ParseQuery(string(body))
	if err != nil {
		f.t.Errorf("body is not form-encoded: %v", err)
	}
	f.mu.Lock()
	f.calls = append(f.calls, recorded{r.Method, r.URL.Path, r.URL.RawQuery, r.Header.Get("Content-Type"), form})
	queue := f.answers[r.URL.Path]
	var a answer
	switch {
	case len(queue) == 0:
		f.mu.Unlock()
		f.t.Errorf("unexpected call %s", r.URL.Path)
		http.NotFound(w, r)
		return
	case len(queue) == 1:
		a = queue[0]
	default:
		a, f.answers[r.URL.Path] = queue[0], queue[1:]
	}
	f.mu.Unlock()
	if a.delay > 0 {
		select {
		case <-time.After(a.delay):
		case <-r.Context().Done():
			return
		}
	}
	w.Header().Set("Content-Type", "application/json;charset=utf-8")
	if a.status != 0 {
		w.WriteHeader(a.status)
	}
	_, _ = io.WriteString(w, a.body)
}

// newFake starts a fake Gigya answering answers (keyed by method name without "accounts.").
func newFake(t *testing.T, answers map[string][]answer, cfg httpx.Config) (*Client, *fakeGigya) {
	t.Helper()
	f := &fakeGigya{t: t, answers: map[string][]answer{}}
	for m, a := range answers {
		f.answers["/accounts."+m] = a
	}
	srv := httptest.NewServer(f)
	t.Cleanup(srv.Close)
	c, err := New(Config{BaseURL: srv.URL, APIKey: testAPIKey, UserKey: testUserKey, Secret: testSecret, HTTP: cfg})
	if err != nil {
		t.Fatal(err)
	}
	c.sleep = func(context.Context, time.Duration) error { return nil } // body-level retries without waiting
	return c, f
}

// want is an expected request: the Gigya method and the form fields besides the credentials.
// Fields holding JSON (profile, data) are compared as JSON.
type want struct {
	method string
	form   map[string]string
}

func (f *fakeGigya) check(t *testing.T, wants []want, session ...bool) {
	t.Helper()
	f.mu.Lock()
	defer f.mu.Unlock()
	if len(f.calls) != len(wants) {
		var got []string
		for _, c := range f.calls {
			got = append(got, c.path)
		}
		t.Fatalf("%d calls %v, want %d %v", len(f.calls), got, len(wants), wants)
	}
	for i, w := range wants {
		c := f.calls[i]
		if c.httpMethod != http.MethodPost || c.path != "/accounts."+w.method {
			t.Errorf("call %d: %s %s, want POST /accounts.%s", i, c.httpMethod, c.path, w.method)
		}
		if c.rawQuery != "" {
			t.Errorf("call %d: query string %q: nothing may travel in the URL", i, c.rawQuery)
		}
		if c.contentType != "application/x-www-form-urlencoded" {
			t.Errorf("call %d: content type %q", i, c.contentType)
		}
		expect := map[string]string{"apiKey": testAPIKey, "userKey": testUserKey, "secret": testSecret}
		if i < len(session) && session[i] {
			delete(expect, "userKey")
			delete(expect, "secret")
		}
		for k, v := range w.form {
			expect[k] = v
		}
		gotKeys, wantKeys := keys(c.form), keysOf(expect)
		if !reflect.DeepEqual(gotKeys, wantKeys) {
			t.Errorf("call %d (%s): fields %v, want %v", i, w.method, gotKeys, wantKeys)
			continue
		}
		for k, v := range expect {
			got := c.form.Get(k)
			if len(c.form[k]) != 1 {
				t.Errorf("call %d: field %s sent %d times", i, k, len(c.form[k]))
			}
			if k == "profile" || k == "data" {
				if !jsonEqual(got, v) {
					t.Errorf("call %d: %s = %s, want %s", i, k, got, v)
				}
				continue
			}
			if got != v {
				t.Errorf("call %d: %s = %q, want %q", i, k, got, v)
			}
		}
	}
}

func keys(v url.Values) []string {
	var out []string
	for k := range v {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

func keysOf(m map[string]string) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

func jsonEqual(a, b string) bool {
	var x, y any
	if json.Unmarshal([]byte(a), &x) != nil || json.Unmarshal([]byte(b), &y) != nil {
		return false
	}
	return reflect.DeepEqual(x, y)
}

// checkErr asserts the error kind (nil for success) and that no secret leaked into the message.
func checkErr(t *testing.T, err, kind error) {
	t.Helper()
	switch {
	case kind == nil && err != nil:
		t.Fatalf("unexpected error: %v", err)
	case kind != nil && !errors.Is(err, kind):
		t.Fatalf("error %v, want kind %v", err, kind)
	}
	if err != nil {
		var pe *provider.Error
		if !errors.As(err, &pe) || pe.Provider != "Gigya" {
			t.Errorf("error %v is not a *provider.Error of Gigya", err)
		}
		for _, secret := range []string{testSecret, testUserKey, "Passw0rd!", "jo@example.com", "st2.token"} {
			if strings.Contains(err.Error(), secret) {
				t.Errorf("error %q quotes %q", err, secret)
			}
		}
	}
}

const joAccount = `"UID":"uid-jo","profile":{"email":"jo@example.com","firstName":"Jo","lastName":"Smith"},` +
	`"data":{"plan":"gold","age":42,"news":true,"prefs":{"a":1},"gone":null},` +
	`"isVerified":true,"isActive":true,"isLockedOut":false,` +
	`"loginIDs":{"emails":["jo@example.com"],"unverifiedEmails":[]},"emails":{"verified":["jo@example.com"],"unverified":[]},` +
	`"created":"2024-01-02T03:04:05.678Z","createdTimestamp":1704164645678,"lastUpdated":"2024-02-03T04:05:06Z","lastUpdatedTimestamp":1706933106000`

var joUser = provider.User{
	ID: "uid-jo", Email: "jo@example.com", EmailVerified: true, FirstName: "Jo", LastName: "Smith",
	Metadata:  map[string]string{"plan": "gold", "age": "42", "news": "true", "prefs": `{"a":1}`},
	CreatedAt: time.Date(2024, 1, 2, 3, 4, 5, 678e6, time.UTC),
	UpdatedAt: time.Date(2024, 2, 3, 4, 5, 6, 0, time.UTC),
}

var getJo = want{"getAccountInfo", map[string]string{"UID": "uid-jo", "include": include}}

func TestGetUser(t *testing.T) {
	tests := []struct {
		name    string
		answers []answer
		cfg     httpx.Config
		calls   int
		kind    error
	}{
		{"found", []answer{ok(joAccount)}, httpx.Config{}, 1, nil},
		{"unknown UID 403005", []answer{fail(403005, "")}, httpx.Config{}, 1, provider.ErrNotFound},
		{"UID not found 404003", []answer{fail(404003, "")}, httpx.Config{}, 1, provider.ErrNotFound},
		{"server error in a 200 body is retried", []answer{fail(500001, ""), ok(joAccount)}, httpx.Config{}, 2, nil},
		{"server error persists: unavailable after 2 retries", []answer{fail(500001, "")}, httpx.Config{}, 3, provider.ErrUnavailable},
		{"body retries off with MaxRetries<0", []answer{fail(500028, "")}, httpx.Config{MaxRetries: -1}, 1, provider.ErrUnavailable},
		{"request timeout 504002 is retried", []answer{fail(504002, ""), ok(joAccount)}, httpx.Config{}, 2, nil},
		{"rate limit is not retried", []answer{fail(403048, "")}, httpx.Config{}, 1, provider.ErrUnavailable},
		{"invalid secret is a configuration problem", []answer{fail(403010, "")}, httpx.Config{}, 1, provider.ErrUnavailable},
		{"HTTP 503 is unavailable (retried by httpx)", []answer{{status: 503, body: "<html>busy</html>"}}, httpx.Config{MaxRetryWait: time.Millisecond}, 3, provider.ErrUnavailable},
		{"malformed body", []answer{{body: `{"UID":`}}, httpx.Config{}, 1, provider.ErrProtocol},
		{"JSON without errorCode", []answer{{body: `{"UID":"uid-jo"}`}}, httpx.Config{}, 1, provider.ErrProtocol},
		{"HTML 404 from a proxy", []answer{{status: 404, body: "<html>no</html>"}}, httpx.Config{}, 1, provider.ErrProtocol},
		{"success without UID", []answer{ok(`"profile":{}`)}, httpx.Config{}, 1, provider.ErrProtocol},
		{"unknown 7xxxxx code", []answer{fail(700001, "")}, httpx.Config{}, 1, provider.ErrProtocol},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, f := newFake(t, map[string][]answer{"getAccountInfo": tt.answers}, tt.cfg)
			u, err := c.GetUser(context.Background(), "uid-jo")
			checkErr(t, err, tt.kind)
			wants := make([]want, tt.calls)
			for i := range wants {
				wants[i] = getJo
			}
			f.check(t, wants)
			if tt.kind == nil && !reflect.DeepEqual(u, joUser) {
				t.Errorf("user\n%+v, want\n%+v", u, joUser)
			}
		})
	}
}

func TestUserMapping(t *testing.T) {
	future := time.Now().Add(time.Hour).UTC().Format(time.RFC3339)
	tests := []struct {
		name string
		acc  string
		want provider.User
	}{
		{"inactive account is blocked", `"UID":"u","isActive":false,"profile":{"email":"a@b.c"}`,
			provider.User{ID: "u", Email: "a@b.c", Blocked: true}},
		{"locked out is blocked", `"UID":"u","isLockedOut":true`, provider.User{ID: "u", Blocked: true}},
		{"lockedUntil in the future is blocked", `"UID":"u","lockedUntil":"` + future + `"`, provider.User{ID: "u", Blocked: true}},
		{"lockedUntil in the past is not", `"UID":"u","lockedUntil":"2001-01-01T00:00:00Z"`, provider.User{ID: "u"}},
		{"email from the login ids, timestamps when ISO is missing",
			`"UID":"u","loginIDs":{"unverifiedEmails":["x@y.z"]},"createdTimestamp":1000,"lastUpdatedTimestamp":2000`,
			provider.User{ID: "u", Email: "x@y.z", CreatedAt: time.UnixMilli(1000).UTC(), UpdatedAt: time.UnixMilli(2000).UTC()}},
		{"UpdatedAt falls back to CreatedAt", `"UID":"u","created":"2024-01-01T00:00:00Z"`,
			provider.User{ID: "u", CreatedAt: time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC), UpdatedAt: time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)}},
		{"only null data is no metadata", `"UID":"u","data":{"x":null}`, provider.User{ID: "u"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, _ := newFake(t, map[string][]answer{"getAccountInfo": {ok(tt.acc)}}, httpx.Config{})
			u, err := c.GetUser(context.Background(), "u")
			checkErr(t, err, nil)
			if !reflect.DeepEqual(u, tt.want) {
				t.Errorf("user\n%+v, want\n%+v", u, tt.want)
			}
		})
	}
}

func TestFindByEmail(t *testing.T) {
	query := `SELECT * FROM accounts WHERE profile.email CONTAINS "jo@example.com" LIMIT 10`
	tests := []struct {
		name    string
		email   string
		query   string
		answers []answer
		calls   int
		kind    error
	}{
		{"found", "jo@example.com", query, []answer{ok(`"results":[{` + joAccount + `}],"objectsCount":1,"totalCount":1`)}, 1, nil},
		{"found ignoring case", "JO@example.com", `SELECT * FROM accounts WHERE profile.email CONTAINS "JO@example.com" LIMIT 10`,
			[]answer{ok(`"results":[{` + joAccount + `}]`)}, 1, nil},
		{"no results", "jo@example.com", query, []answer{ok(`"results":[],"objectsCount":0,"totalCount":0`)}, 1, provider.ErrNotFound},
		{"a looser match is not the user", "jo@example.com", query,
			[]answer{ok(`"results":[{"UID":"other","profile":{"email":"xjo@example.com"}}]`)}, 1, provider.ErrNotFound},
		{"quotes and backslashes are escaped", `a"b\c@example.com`, `SELECT * FROM accounts WHERE profile.email CONTAINS "a\"b\\c@example.com" LIMIT 10`,
			[]answer{ok(`"results":[]`)}, 1, provider.ErrNotFound},
		{"control characters are refused before any call", "a\nb@example.com", "", nil, 0, provider.ErrRejected},
		{"server error retried then unavailable", "jo@example.com", query, []answer{fail(500001, "")}, 3, provider.ErrUnavailable},
		{"search failure", "jo@example.com", query, []answer{fail(400006, "")}, 1, provider.ErrRejected},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, f := newFake(t, map[string][]answer{"search": tt.answers}, httpx.Config{})
			u, err := c.FindByEmail(context.Background(), tt.email)
			checkErr(t, err, tt.kind)
			wants := make([]want, tt.calls)
			for i := range wants {
				wants[i] = want{"search", map[string]string{"query": tt.query}}
			}
			f.check(t, wants)
			if tt.kind == nil && !reflect.DeepEqual(u, joUser) {
				t.Errorf("user %+v", u)
			}
		})
	}
}

func TestSearch(t *testing.T) {
	two := `"results":[{` + joAccount + `},{"UID":"uid-2","profile":{"email":"jo2@example.com","firstName":"Joanna"}}]`
	tests := []struct {
		name    string
		q       provider.Query
		query   string
		answers []answer
		ids     []string
		kind    error
	}{
		{"names and limit", provider.Query{FirstName: "Jo", LastName: `O"Neil`, Limit: 5},
			`SELECT * FROM accounts WHERE profile.firstName CONTAINS "Jo" AND profile.lastName CONTAINS "O\"Neil" LIMIT 5`,
			[]answer{ok(two)}, []string{"uid-jo", "uid-2"}, nil},
		{"email filters the results exactly", provider.Query{Email: "jo@example.com", FirstName: "Jo"},
			`SELECT * FROM accounts WHERE profile.email CONTAINS "jo@example.com" AND profile.firstName CONTAINS "Jo" LIMIT 300`,
			[]answer{ok(two)}, []string{"uid-jo"}, nil},
		{"no filter: batches of Gigya's default 300", provider.Query{}, `SELECT * FROM accounts LIMIT 300`, []answer{ok(`"results":[]`)}, []string{}, nil},
		{"a limit beyond the bound is the bound, in batches", provider.Query{Limit: 100000}, `SELECT * FROM accounts LIMIT 300`,
			[]answer{fail(400006, "")}, nil, provider.ErrRejected},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, f := newFake(t, map[string][]answer{"search": tt.answers}, httpx.Config{})
			users, err := c.Search(context.Background(), tt.q)
			checkErr(t, err, tt.kind)
			f.check(t, []want{{"search", map[string]string{"query": tt.query, "openCursor": "true"}}})
			if tt.kind != nil {
				return
			}
			ids := []string{}
			for _, u := range users {
				ids = append(ids, u.ID)
			}
			if !reflect.DeepEqual(ids, tt.ids) {
				t.Errorf("ids %v, want %v", ids, tt.ids)
			}
		})
	}
}

// batch is an accounts.search answer of n accounts from first, with the cursor of the next batch
// ("" for the last one), shaped as SAP documents it (results, objectsCount, totalCount,
// nextCursorId).
func batch(first, n, total int, next string) answer {
	var b strings.Builder
	b.WriteString(`"results":[`)
	for i := range n {
		if i > 0 {
			b.WriteString(",")
		}
		fmt.Fprintf(&b, `{"UID":"%032x","profile":{"email":"u%d@example.com","lastName":"Smith"},"isVerified":true}`, first+i, first+i)
	}
	fmt.Fprintf(&b, `],"objectsCount":%d,"totalCount":%d`, n, total)
	if next != "" {
		fmt.Fprintf(&b, `,"nextCursorId":%q`, next)
	}
	return ok(b.String())
}

func TestSearchCursor(t *testing.T) {
	first := want{"search", map[string]string{"query": `SELECT * FROM accounts WHERE profile.lastName CONTAINS "Smith" LIMIT 300`, "openCursor": "true"}}
	next := func(id string) want { return want{"search", map[string]string{"cursorId": id}} }
	endless := make([]answer, 0, 4)
	for i := range 4 {
		endless = append(endless, batch(i*300, 300, 5000, fmt.Sprintf("cur-%d", i+1)))
	}
	// A cursor that hands out one account a batch and never ends.
	var trickle []answer
	trickleWants := []want{first}
	for i := range 25 {
		trickle = append(trickle, batch(i, 1, 5000, fmt.Sprintf("cur-%d", i+1)))
		if i < 19 {
			trickleWants = append(trickleWants, next(fmt.Sprintf("cur-%d", i+1)))
		}
	}
	tests := []struct {
		name    string
		limit   int
		answers []answer
		wants   []want
		users   int
	}{
		{"one batch without a cursor is the end", 0, []answer{batch(0, 12, 12, "")}, []want{first}, 12},
		{"read to the end of the cursor", 0, []answer{batch(0, 300, 450, "cur-1"), batch(300, 150, 450, "")}, []want{first, next("cur-1")}, 450},
		{"an empty batch ends even with a cursor", 0, []answer{batch(0, 300, 300, "cur-1"), batch(300, 0, 300, "cur-2")}, []want{first, next("cur-1")}, 300},
		{"bounded at 1000 accounts", 0, endless, []want{first, next("cur-1"), next("cur-2"), next("cur-3")}, 1000},
		{"bounded at 20 batches", 0, trickle, trickleWants, 20},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, f := newFake(t, map[string][]answer{"search": tt.answers}, httpx.Config{})
			users, err := c.Search(context.Background(), provider.Query{LastName: "Smith", Limit: tt.limit})
			checkErr(t, err, nil)
			f.check(t, tt.wants)
			if len(users) != tt.users {
				t.Fatalf("%d users, want %d", len(users), tt.users)
			}
			seen := map[string]bool{}
			for _, u := range users {
				if seen[u.ID] {
					t.Fatalf("%s twice", u.ID)
				}
				seen[u.ID] = true
			}
		})
	}
}

func TestCreate(t *testing.T) {
	input := provider.NewUser{Email: "jo@example.com", Password: "Passw0rd!", FirstName: "Jo", LastName: "Smith",
		Metadata: map[string]string{"plan": "gold"}}
	verified := input
	verified.EmailVerified = true
	noNames := provider.NewUser{Email: "jo@example.com", Password: "Passw0rd!"}

	initReg := want{"initRegistration", nil}
	register := want{"register", map[string]string{
		"regToken": "RT1_abc", "email": "jo@example.com", "password": "Passw0rd!",
		"profile":              `{"email":"jo@example.com","firstName":"Jo","lastName":"Smith"}`,
		"data":                 `{"plan":"gold"}`,
		"finalizeRegistration": "true", "include": include,
	}}
	registerNoNames := want{"register", map[string]string{
		"regToken": "RT1_abc", "email": "jo@example.com", "password": "Passw0rd!",
		"profile": `{"email":"jo@example.com"}`, "finalizeRegistration": "true", "include": include,
	}}
	setVerified := want{"setAccountInfo", map[string]string{"UID": "uid-new", "isVerified": "true"}}
	deleteNew := want{"deleteAccount", map[string]string{"UID": "uid-new"}}
	byRegToken := want{"getAccountInfo", map[string]string{"regToken": "RT1_pending", "include": include}}

	regOK := ok(`"UID":"uid-new","isVerified":false,"profile":{"email":"jo@example.com","firstName":"Jo","lastName":"Smith"},"data":{"plan":"gold"},"created":"2025-01-01T00:00:00Z"`)
	initOK := ok(`"regToken":"RT1_abc"`)

	tests := []struct {
		name     string
		in       provider.NewUser
		answers  map[string][]answer
		wants    []want
		kind     error
		verified bool
	}{
		{"registered", input, map[string][]answer{"initRegistration": {initOK}, "register": {regOK}}, []want{initReg, register}, nil, false},
		{"without names or metadata; the answer lacks the profile", noNames, map[string][]answer{"initRegistration": {initOK}, "register": {ok(`"UID":"uid-new"`)}},
			[]want{initReg, registerNoNames}, nil, false},
		{"email verified: setAccountInfo isVerified", verified,
			map[string][]answer{"initRegistration": {initOK}, "register": {regOK}, "setAccountInfo": {ok("")}},
			[]want{initReg, register, setVerified}, nil, true},
		{"verification fails: the account is deleted again", verified,
			map[string][]answer{"initRegistration": {initOK}, "register": {regOK}, "setAccountInfo": {fail(400006, "")}, "deleteAccount": {ok("")}},
			[]want{initReg, register, setVerified, deleteNew}, provider.ErrRejected, false},
		{"pending verification 206002 with the account", input,
			map[string][]answer{"initRegistration": {initOK}, "register": {fail(206002, `"UID":"uid-new","regToken":"RT1_pending","isVerified":false`)}},
			[]want{initReg, register}, nil, false},
		{"pending verification 206002 without the account: read by regToken", input,
			map[string][]answer{"initRegistration": {initOK}, "register": {fail(206002, `"regToken":"RT1_pending"`)},
				"getAccountInfo": {ok(`"UID":"uid-new","profile":{"email":"jo@example.com"}`)}},
			[]want{initReg, register, byRegToken}, nil, false},
		{"pending registration 206001: half-made account deleted", input,
			map[string][]answer{"initRegistration": {initOK}, "register": {fail(206001, `"regToken":"RT1_pending"`)},
				"getAccountInfo": {ok(`"UID":"uid-new"`)}, "deleteAccount": {ok("")}},
			[]want{initReg, register, byRegToken, deleteNew}, provider.ErrRejected, false},
		{"email taken: 400009 with 400003", input,
			map[string][]answer{"initRegistration": {initOK}, "register": {fail(400009, `"validationErrors":[{"errorCode":400003,"message":"email already exists","fieldName":"email"}]`)}},
			[]want{initReg, register}, provider.ErrUserExists, false},
		{"login identifier exists 403043", input,
			map[string][]answer{"initRegistration": {initOK}, "register": {fail(403043, "")}},
			[]want{initReg, register}, provider.ErrUserExists, false},
		{"password policy: 400009", input,
			map[string][]answer{"initRegistration": {initOK}, "register": {fail(400009, `"validationErrors":[{"errorCode":400009,"message":"Password does not meet complexity requirements","fieldName":"password"}]`)}},
			[]want{initReg, register}, provider.ErrRejected, false},
		{"register server error is never retried", input,
			map[string][]answer{"initRegistration": {initOK}, "register": {fail(500001, "")}},
			[]want{initReg, register}, provider.ErrUnavailable, false},
		{"register over HTTP 503 is never retried", input,
			map[string][]answer{"initRegistration": {initOK}, "register": {{status: 503, body: "busy"}}},
			[]want{initReg, register}, provider.ErrUnavailable, false},
		{"initRegistration is retried", input,
			map[string][]answer{"initRegistration": {fail(500001, ""), initOK}, "register": {regOK}},
			[]want{initReg, initReg, register}, nil, false},
		{"initRegistration without regToken", input, map[string][]answer{"initRegistration": {ok("")}}, []want{initReg}, provider.ErrProtocol, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, f := newFake(t, tt.answers, httpx.Config{MaxRetryWait: time.Millisecond})
			u, err := c.Create(context.Background(), tt.in)
			checkErr(t, err, tt.kind)
			f.check(t, tt.wants)
			if tt.kind != nil {
				return
			}
			want := provider.User{ID: "uid-new", Email: tt.in.Email, EmailVerified: tt.verified,
				FirstName: tt.in.FirstName, LastName: tt.in.LastName, Metadata: tt.in.Metadata}
			if tt.answers["register"][0].body == regOK.body {
				want.CreatedAt = time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
				want.UpdatedAt = want.CreatedAt
			}
			if !reflect.DeepEqual(u, want) {
				t.Errorf("user\n%+v, want\n%+v", u, want)
			}
		})
	}
}

func TestUpdate(t *testing.T) {
	str := func(s string) *string { return &s }
	yes := true
	tests := []struct {
		name    string
		in      provider.Update
		answers map[string][]answer
		wants   []want
		kind    error
	}{
		{"profile, data with a removed key, verified", provider.Update{FirstName: str("Joe"), Metadata: map[string]*string{"plan": str("gold"), "old": nil}, EmailVerified: &yes},
			map[string][]answer{"setAccountInfo": {ok("")}, "getAccountInfo": {ok(joAccount)}},
			[]want{{"setAccountInfo", map[string]string{"UID": "uid-jo", "profile": `{"firstName":"Joe"}`, "data": `{"plan":"gold","old":null}`, "isVerified": "true"}}, getJo}, nil},
		{"an empty last name is sent", provider.Update{LastName: str("")},
			map[string][]answer{"setAccountInfo": {ok("")}, "getAccountInfo": {ok(joAccount)}},
			[]want{{"setAccountInfo", map[string]string{"UID": "uid-jo", "profile": `{"lastName":""}`}}, getJo}, nil},
		{"nothing to change: only read", provider.Update{},
			map[string][]answer{"getAccountInfo": {ok(joAccount)}}, []want{getJo}, nil},
		{"unknown UID", provider.Update{FirstName: str("Joe")},
			map[string][]answer{"setAccountInfo": {fail(403005, "")}},
			[]want{{"setAccountInfo", map[string]string{"UID": "uid-jo", "profile": `{"firstName":"Joe"}`}}}, provider.ErrNotFound},
		{"refused value", provider.Update{FirstName: str("Joe")},
			map[string][]answer{"setAccountInfo": {fail(400006, "")}},
			[]want{{"setAccountInfo", map[string]string{"UID": "uid-jo", "profile": `{"firstName":"Joe"}`}}}, provider.ErrRejected},
		{"setting values is retried", provider.Update{FirstName: str("Joe")},
			map[string][]answer{"setAccountInfo": {fail(500028, ""), ok("")}, "getAccountInfo": {ok(joAccount)}},
			[]want{{"setAccountInfo", map[string]string{"UID": "uid-jo", "profile": `{"firstName":"Joe"}`}},
				{"setAccountInfo", map[string]string{"UID": "uid-jo", "profile": `{"firstName":"Joe"}`}}, getJo}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, f := newFake(t, tt.answers, httpx.Config{})
			u, err := c.Update(context.Background(), "uid-jo", tt.in)
			checkErr(t, err, tt.kind)
			f.check(t, tt.wants)
			if tt.kind == nil && !reflect.DeepEqual(u, joUser) {
				t.Errorf("user %+v", u)
			}
		})
	}
}

func TestDelete(t *testing.T) {
	del := want{"deleteAccount", map[string]string{"UID": "uid-jo"}}
	tests := []struct {
		name    string
		answers []answer
		wants   []want
		kind    error
	}{
		{"deleted", []answer{ok("")}, []want{del}, nil},
		{"already gone 403005", []answer{fail(403005, "")}, []want{del}, nil},
		{"already gone 404003", []answer{fail(404003, "")}, []want{del}, nil},
		{"server error retried", []answer{fail(500001, ""), ok("")}, []want{del, del}, nil},
		{"permission denied", []answer{fail(403007, "")}, []want{del}, provider.ErrUnavailable},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, f := newFake(t, map[string][]answer{"deleteAccount": tt.answers}, httpx.Config{})
			checkErr(t, c.Delete(context.Background(), "uid-jo"), tt.kind)
			f.check(t, tt.wants)
		})
	}
}

func TestLogin(t *testing.T) {
	login := want{"login", map[string]string{"loginID": "jo@example.com", "password": "Passw0rd!", "include": include}}
	tests := []struct {
		name     string
		password string
		answers  []answer
		wants    []want
		kind     error
		session  provider.Session
	}{
		{"logged in", "Passw0rd!", []answer{ok(joAccount + `,"sessionInfo":{"cookieName":"glt_3_test-api-key","cookieValue":"st2.token"}`)}, []want{login}, nil,
			provider.Session{UserID: "uid-jo", Tokens: []provider.Token{{Name: "glt_3_test-api-key", Content: "st2.token"}}}},
		{"cookie without a name", "Passw0rd!", []answer{ok(`"UID":"uid-jo","sessionInfo":{"cookieValue":"st2.token"}`)}, []want{login}, nil,
			provider.Session{UserID: "uid-jo", Tokens: []provider.Token{{Name: TokenName, Content: "st2.token"}}}},
		{"wrong password 403042", "Passw0rd!", []answer{fail(403042, "")}, []want{login}, provider.ErrInvalidCredentials, provider.Session{}},
		{"old password 401030", "Passw0rd!", []answer{fail(401030, "")}, []want{login}, provider.ErrInvalidCredentials, provider.Session{}},
		{"unknown login id 403047", "Passw0rd!", []answer{fail(403047, "")}, []want{login}, provider.ErrInvalidCredentials, provider.Session{}},
		{"pending verification 206002", "Passw0rd!", []answer{fail(206002, `"regToken":"RT1_x"`)}, []want{login}, provider.ErrNotVerified, provider.Session{}},
		{"disabled 403041", "Passw0rd!", []answer{fail(403041, "")}, []want{login}, provider.ErrBlocked, provider.Session{}},
		// A site that requires a verified email refuses the login of an unverified account.
		{"unverified user 403013", "Passw0rd!", []answer{{body: `{"callId":"9c3bd1d7a2b34e1f8d0c6a5b4e3f2a1d","errorCode":403013,"errorDetails":"Unverified user","errorMessage":"Unverified user","apiVersion":2,"statusCode":403,"statusReason":"Forbidden","time":"2025-03-04T10:11:12.131Z"}`}},
			[]want{login}, provider.ErrNotVerified, provider.Session{}},
		{"locked out 403120", "Passw0rd!", []answer{fail(403120, "")}, []want{login}, provider.ErrBlocked, provider.Session{}},
		{"captcha required 401020", "Passw0rd!", []answer{fail(401020, "")}, []want{login}, provider.ErrBlocked, provider.Session{}},
		{"server error: never retried", "Passw0rd!", []answer{fail(500001, "")}, []want{login}, provider.ErrUnavailable, provider.Session{}},
		{"rate limited", "Passw0rd!", []answer{fail(403048, "")}, []want{login}, provider.ErrUnavailable, provider.Session{}},
		{"success without UID", "Passw0rd!", []answer{ok("")}, []want{login}, provider.ErrProtocol, provider.Session{}},
		{"empty password: no call", "", nil, nil, provider.ErrInvalidCredentials, provider.Session{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, f := newFake(t, map[string][]answer{"login": tt.answers}, httpx.Config{})
			s, err := c.Login(context.Background(), "jo@example.com", tt.password)
			checkErr(t, err, tt.kind)
			f.check(t, tt.wants)
			if tt.kind == nil && !reflect.DeepEqual(s, tt.session) {
				t.Errorf("session %+v, want %+v", s, tt.session)
			}
		})
	}
}

func TestUserForToken(t *testing.T) {
	get := want{"getAccountInfo", map[string]string{"login_token": "st2.token", "include": include}}
	tests := []struct {
		name    string
		token   string
		answers []answer
		wants   []want
		kind    error
	}{
		{"resolved", "st2.token", []answer{ok(joAccount)}, []want{get}, nil},
		{"unknown 403005", "st2.token", []answer{fail(403005, "")}, []want{get}, provider.ErrInvalidToken},
		{"expired session 403011", "st2.token", []answer{fail(403011, "")}, []want{get}, provider.ErrInvalidToken},
		{"no valid session 403012", "st2.token", []answer{fail(403012, "")}, []want{get}, provider.ErrInvalidToken},
		{"malformed token 400006", "st2.token", []answer{fail(400006, "")}, []want{get}, provider.ErrInvalidToken},
		{"server error stays unavailable", "st2.token", []answer{fail(500001, "")}, []want{get, get, get}, provider.ErrUnavailable},
		{"empty token: no call", "", nil, nil, provider.ErrInvalidToken},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, f := newFake(t, map[string][]answer{"getAccountInfo": tt.answers}, httpx.Config{})
			u, err := c.UserForToken(context.Background(), tt.token)
			checkErr(t, err, tt.kind)
			session := make([]bool, len(tt.wants))
			for i := range session {
				session[i] = true // no userKey, no secret
			}
			f.check(t, tt.wants, session...)
			if tt.kind == nil && !reflect.DeepEqual(u, joUser) {
				t.Errorf("user %+v", u)
			}
		})
	}
}

func TestChangePassword(t *testing.T) {
	set := want{"setAccountInfo", map[string]string{"UID": "uid-jo", "newPassword": "Passw0rd!", "securityOverride": "true"}}
	tests := []struct {
		name    string
		answers []answer
		kind    error
	}{
		{"changed", []answer{ok("")}, nil},
		{"policy 400009", []answer{fail(400009, `"validationErrors":[{"errorCode":400009,"fieldName":"password"}]`)}, provider.ErrRejected},
		{"history 401030", []answer{fail(401030, "")}, provider.ErrRejected},
		{"unknown UID", []answer{fail(403005, "")}, provider.ErrNotFound},
		{"server error: never retried", []answer{fail(500001, "")}, provider.ErrUnavailable},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, f := newFake(t, map[string][]answer{"setAccountInfo": tt.answers}, httpx.Config{})
			checkErr(t, c.ChangePassword(context.Background(), "uid-jo", "Passw0rd!"), tt.kind)
			f.check(t, []want{set})
		})
	}
}

func TestChangeEmail(t *testing.T) {
	set := want{"setAccountInfo", map[string]string{"UID": "uid-jo", "profile": `{"email":"new@example.com"}`,
		"addLoginEmails": "new@example.com", "removeLoginEmails": "jo@example.com"}}
	tests := []struct {
		name    string
		email   string
		answers map[string][]answer
		wants   []want
		kind    error
	}{
		{"changed", "new@example.com", map[string][]answer{"getAccountInfo": {ok(joAccount)}, "setAccountInfo": {ok("")}},
			[]want{getJo, set}, nil},
		{"case only: no login id change", "JO@example.com", map[string][]answer{"getAccountInfo": {ok(joAccount)}, "setAccountInfo": {ok("")}},
			[]want{getJo, {"setAccountInfo", map[string]string{"UID": "uid-jo", "profile": `{"email":"JO@example.com"}`}}}, nil},
		{"same email: nothing to do", "jo@example.com", map[string][]answer{"getAccountInfo": {ok(joAccount)}}, []want{getJo}, nil},
		{"taken 403043", "new@example.com", map[string][]answer{"getAccountInfo": {ok(joAccount)}, "setAccountInfo": {fail(403043, "")}},
			[]want{getJo, set}, provider.ErrUserExists},
		{"taken 400009/400003", "new@example.com", map[string][]answer{"getAccountInfo": {ok(joAccount)},
			"setAccountInfo": {fail(400009, `"validationErrors":[{"errorCode":400003,"fieldName":"email"}]`)}},
			[]want{getJo, set}, provider.ErrUserExists},
		{"unknown UID", "new@example.com", map[string][]answer{"getAccountInfo": {fail(403005, "")}}, []want{getJo}, provider.ErrNotFound},
		{"server error on the change: never retried", "new@example.com", map[string][]answer{"getAccountInfo": {ok(joAccount)}, "setAccountInfo": {fail(500001, "")}},
			[]want{getJo, set}, provider.ErrUnavailable},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, f := newFake(t, tt.answers, httpx.Config{})
			u, err := c.ChangeEmail(context.Background(), "uid-jo", tt.email)
			checkErr(t, err, tt.kind)
			f.check(t, tt.wants)
			if tt.kind == nil {
				want := joUser
				want.Email = tt.email
				if !reflect.DeepEqual(u, want) {
					t.Errorf("user %+v, want %+v", u, want)
				}
			}
		})
	}
}

func TestPasswordChangeURL(t *testing.T) {
	reset := want{"resetPassword", map[string]string{"loginID": "jo@example.com", "sendEmail": "false"}}
	tests := []struct {
		name      string
		returnURL string
		answers   map[string][]answer
		wants     []want
		kind      error
		url       string
	}{
		{"link", "https://news.example.com/reset?lang=en#top",
			map[string][]answer{"getAccountInfo": {ok(joAccount)}, "resetPassword": {ok(`"passwordResetToken":"tok+/=","emails":{"verified":["jo@example.com"]}`)}},
			[]want{getJo, reset}, nil, "https://news.example.com/reset?lang=en&pwrt=tok%2B%2F%3D#top"},
		{"unknown login id 403047", "https://news.example.com/reset",
			map[string][]answer{"getAccountInfo": {ok(joAccount)}, "resetPassword": {fail(403047, "")}},
			[]want{getJo, reset}, provider.ErrNotFound, ""},
		{"no token in the answer", "https://news.example.com/reset",
			map[string][]answer{"getAccountInfo": {ok(joAccount)}, "resetPassword": {ok("")}},
			[]want{getJo, reset}, provider.ErrProtocol, ""},
		{"unknown UID", "https://news.example.com/reset",
			map[string][]answer{"getAccountInfo": {fail(403005, "")}}, []want{getJo}, provider.ErrNotFound, ""},
		{"relative return URL: no call", "/reset", nil, nil, provider.ErrRejected, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, f := newFake(t, tt.answers, httpx.Config{})
			got, err := c.PasswordChangeURL(context.Background(), "uid-jo", tt.returnURL)
			checkErr(t, err, tt.kind)
			f.check(t, tt.wants)
			if got != tt.url {
				t.Errorf("url %q, want %q", got, tt.url)
			}
		})
	}
}

func TestTimeout(t *testing.T) {
	c, f := newFake(t, map[string][]answer{"getAccountInfo": {{body: `{}`, delay: 2 * time.Second}}},
		httpx.Config{Timeout: 50 * time.Millisecond, MaxRetries: -1})
	start := time.Now()
	_, err := c.GetUser(context.Background(), "uid-jo")
	checkErr(t, err, provider.ErrUnavailable)
	if time.Since(start) > time.Second {
		t.Errorf("the timeout did not cut the call short")
	}
	f.check(t, []want{getJo})
}

func TestBodyRetryHonoursContext(t *testing.T) {
	c, _ := newFake(t, map[string][]answer{"getAccountInfo": {fail(500001, "")}}, httpx.Config{})
	c.sleep = sleepCtx
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err := c.GetUser(ctx, "uid-jo")
	checkErr(t, err, provider.ErrUnavailable)
}

func TestNew(t *testing.T) {
	good := Config{BaseURL: "https://accounts.eu1.gigya.com", APIKey: "k", UserKey: "u", Secret: "s"}
	tests := []struct {
		name   string
		change func(*Config)
		ok     bool
	}{
		{"https data center", func(*Config) {}, true},
		{"http on loopback (tests)", func(c *Config) { c.BaseURL = "http://127.0.0.1:18082" }, true},
		{"http on localhost", func(c *Config) { c.BaseURL = "http://localhost:18082" }, true},
		{"http elsewhere: the secret would travel in clear", func(c *Config) { c.BaseURL = "http://accounts.eu1.gigya.com" }, false},
		{"no base URL", func(c *Config) { c.BaseURL = "" }, false},
		{"not absolute", func(c *Config) { c.BaseURL = "accounts.eu1.gigya.com" }, false},
		{"no secret", func(c *Config) { c.Secret = "" }, false},
		{"no API key", func(c *Config) { c.APIKey = "" }, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := good
			tt.change(&cfg)
			c, err := New(cfg)
			if (err == nil) != tt.ok {
				t.Fatalf("err %v, want ok=%v", err, tt.ok)
			}
			if err != nil && strings.Contains(err.Error(), "s3cr3t") {
				t.Errorf("error quotes the secret")
			}
			if err == nil && c.Name() != "Gigya" {
				t.Errorf("name %q", c.Name())
			}
		})
	}
}

// JSON form fields travel as written: Go's default HTML escaping would send "<" as \u003c.
func TestJSONFieldsAreNotHTMLEscaped(t *testing.T) {
	c, f := newFake(t, map[string][]answer{"setAccountInfo": {ok("")}, "getAccountInfo": {ok(joAccount)}}, httpx.Config{})
	name := "a<b>&c"
	if _, err := c.Update(context.Background(), "uid-jo", provider.Update{FirstName: &name}); err != nil {
		t.Fatal(err)
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if got := f.calls[0].form.Get("profile"); got != `{"firstName":"a<b>&c"}` {
		t.Errorf("profile %s", got)
	}
}

// TestIncludeHoldsOnlyDocumentedValues pins what include asks for against SAP's lists of the
// values getAccountInfo, accounts.login and accounts.register accept. isLockedOut is deprecated
// (lockedUntil replaces it and comes without being asked for), so it is not sent.
func TestIncludeHoldsOnlyDocumentedValues(t *testing.T) {
	documented := map[string][]string{
		"accounts.getAccountInfo": {"identities-active", "identities-all", "identities-global", "loginIDs", "emails", "profile", "data",
			"memberships", "password", "lastLoginLocation", "regSource", "irank", "rba", "subscriptions", "userInfo", "preferences", "groups", "internal", "customIdentifiers"},
		"accounts.login":    {"identities-active", "identities-all", "loginIDs", "emails", "profile", "data", "missing-required-fields", "preferences", "subscriptions", "groups", "id_token"},
		"accounts.register": {"identities-active", "identities-all", "loginIDs", "emails", "profile", "data", "missing-required-fields", "preferences", "subscriptions", "groups", "id_token"},
	}
	if include != "profile,data,loginIDs,emails" {
		t.Errorf("include = %q", include)
	}
	for method, values := range documented {
		for _, v := range strings.Split(include, ",") {
			found := false
			for _, d := range values {
				found = found || d == v
			}
			if !found {
				t.Errorf("%s: include value %q is not documented", method, v)
			}
		}
	}
}

// TestClientContextCarriesTheEndUserIP: accounts.login and accounts.register send the end user's
// IP as clientContext {"clientIP":…}, so Gigya's lockout and RBA rules count per user; the other
// calls are the service's own and send none.
func TestClientContextCarriesTheEndUserIP(t *testing.T) {
	login := func(ctxJSON string) want {
		w := want{"login", map[string]string{"loginID": "jo@example.com", "password": "Passw0rd!", "include": include}}
		if ctxJSON != "" {
			w.form["clientContext"] = ctxJSON
		}
		return w
	}
	for _, tt := range []struct{ ip, want string }{
		{"203.0.113.7", `{"clientIP":"203.0.113.7"}`},
		{"2001:db8::7", `{"clientIP":"2001:db8::7"}`},
		{"", ""},
		{`1.2.3.4","x":"y`, ""}, // not an address: never reaches the JSON
	} {
		c, f := newFake(t, map[string][]answer{"login": {ok(`"UID":"uid-jo"`)}}, httpx.Config{})
		if _, err := c.Login(provider.WithEndUserIP(context.Background(), tt.ip), "jo@example.com", "Passw0rd!"); err != nil {
			t.Fatal(err)
		}
		f.check(t, []want{login(tt.want)})
	}

	c, f := newFake(t, map[string][]answer{
		"initRegistration": {ok(`"regToken":"RT1_abc"`)},
		"register":         {ok(`"UID":"uid-new","profile":{"email":"jo@example.com"}`)},
	}, httpx.Config{})
	if _, err := c.Create(provider.WithEndUserIP(context.Background(), "203.0.113.7"), provider.NewUser{Email: "jo@example.com", Password: "Passw0rd!"}); err != nil {
		t.Fatal(err)
	}
	f.check(t, []want{{"initRegistration", nil}, {"register", map[string]string{
		"regToken": "RT1_abc", "email": "jo@example.com", "password": "Passw0rd!",
		"profile": `{"email":"jo@example.com"}`, "finalizeRegistration": "true", "include": include,
		"clientContext": `{"clientIP":"203.0.113.7"}`,
	}}})
}

package contract

import (
	"context"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"reflect"
	"regexp"
	"strings"
	"testing"
)

// twoValidators are the validator as served (parameters checked natively where it can) and the
// same contract checked by openapi3filter alone, the behaviour before the native checks.
func twoValidators(t testing.TB) (fast, slow *Validator) {
	t.Helper()
	mk := func() *Validator {
		doc, err := Load()
		if err != nil {
			t.Fatal(err)
		}
		v, err := New(doc)
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	fast, slow = mk(), mk()
	slow.params = map[string]*paramChecks{}
	return fast, slow
}

// The native checks cover the read operations the bench measures; if the contract changes their
// parameters into a shape the checks do not handle, they would silently fall back to the slow path.
func TestParamChecksCoverTheReads(t *testing.T) {
	fast, _ := twoValidators(t)
	for _, op := range []string{"getUserById", "getUsers", "getUserEvents"} {
		if fast.params[op] == nil {
			t.Errorf("%s: no native parameter checks", op)
		}
	}
	if fast.params["createUser"] != nil {
		t.Error("createUser has a body: its parameters must go through openapi3filter with it")
	}
}

type paramCase struct {
	name, target string
	header       http.Header
}

// paramCases are requests to the body-less operations, valid and broken in every way a
// parameter can be: missing, empty, repeated, too long or short, off its pattern, enum, format or
// range, in another spelling.
func paramCases() []paramCase {
	good := func() http.Header {
		return http.Header{
			"Authorization":     {"Bearer x.y.z"},
			"X-Sourcesystem":    {"Bench"},
			"X-Clientcode":      {"demo"},
			"X-Papercode":       {"demo"},
			"X-Clientgroupcode": {"demo"},
		}
	}
	with := func(name string, values ...string) http.Header {
		h := good()
		if values == nil {
			h.Del(name)
		} else {
			h[http.CanonicalHeaderKey(name)] = values
		}
		return h
	}
	const id = "/v4/Users/3f6f8b1e-2c4d-4f3a-9d7e-1a2b3c4d5e6f"
	cases := []paramCase{
		{"valid", id, good()},
		{"valid auth0 id", "/v4/Users/auth0%7C5f1a", good()},
		{"id with a space", "/v4/Users/a%20b", good()},
		{"id escaped twice", "/v4/Users/a%2541", good()},
		{"id too long", "/v4/Users/" + strings.Repeat("a", 129), good()},
		{"id at its longest", "/v4/Users/" + strings.Repeat("a", 128), good()},
		{"id non-ASCII", "/v4/Users/%C3%A9t%C3%A9", good()},
		{"ignoreProvider true", id + "?ignoreProvider=true", good()},
		{"ignoreProvider True", id + "?ignoreProvider=True", good()},
		{"ignoreProvider 1", id + "?ignoreProvider=1", good()},
		{"ignoreProvider empty", id + "?ignoreProvider=", good()},
		{"ignoreProvider twice", id + "?ignoreProvider=true&ignoreProvider=false", good()},
		{"ignoreProvider other case", id + "?IgnoreProvider=true", good()},
		{"unknown query", id + "?emial=x", good()},
		{"events", id + "/Events", good()},
		{"events paged", id + "/Events?pageSize=5&pageNumber=2", good()},
		{"events page 0", id + "/Events?pageSize=0", good()},
		{"events leading zero", id + "/Events?pageSize=05", good()},
		{"events plus sign", id + "/Events?pageSize=%2B5", good()},
		{"events huge", id + "/Events?pageNumber=99999999999999999999", good()},
		{"no source system", id, with("X-SourceSystem")},
		{"empty source system", id, with("X-SourceSystem", "")},
		{"two source systems", id, with("X-SourceSystem", "a", "b")},
		{"source system at its longest", id, with("X-SourceSystem", strings.Repeat("é", 100))},
		{"source system too long", id, with("X-SourceSystem", strings.Repeat("é", 101))},
		{"client code off pattern", id, with("X-ClientCode", "de mo")},
		{"client code too long", id, with("X-ClientCode", strings.Repeat("a", 33))},
		{"client code missing", id, with("X-ClientCode")},
		{"no authorization", id, with("Authorization")},
		{"end-user ip", "/v4/Users?email=a%40b.example", with("X-End-User-IP", "203.0.113.9")},
		{"end-user ip empty", "/v4/Users?email=a%40b.example", with("X-End-User-IP", "")},
		{"by email", "/v4/Users?email=reader-00042%40bench.example", good()},
		{"by email, other case", "/v4/Users?Email=reader-00042%40bench.example", good()},
		{"by email, both cases", "/v4/Users?Email=a%40b.example&email=c%40d.example", good()},
		{"by email, not an email", "/v4/Users?email=reader", good()},
		{"by email, display name", "/v4/Users?email=Ada+%3Ca%40b.example%3E", good()},
		{"by email, empty", "/v4/Users?email=", good()},
		{"by email, too long", "/v4/Users?email=" + strings.Repeat("a", 250) + "%40b.example", good()},
		{"list", "/v4/Users", good()},
		{"list paged", "/v4/Users?pageSize=100&pageNumber=100000&orderBy=email&orderByType=desc", good()},
		{"list page too big", "/v4/Users?pageSize=101", good()},
		{"list page number too big", "/v4/Users?pageNumber=100001", good()},
		{"list negative", "/v4/Users?pageSize=-1", good()},
		{"list bad order", "/v4/Users?orderBy=password", good()},
		{"list bad order type", "/v4/Users?orderByType=DESC", good()},
		{"state", "/v4/Users?state=Lite&verified=false", good()},
		{"state off enum", "/v4/Users?state=lite", good()},
		{"encrypted email short", "/v4/Users?encryptedEmail=abc", good()},
		{"encrypted email", "/v4/Users?encryptedEmail=" + strings.Repeat("A-_z", 8), good()},
		{"encrypted email off pattern", "/v4/Users?encryptedEmail=" + strings.Repeat("A+/=", 8), good()},
		{"names", "/v4/Users?firstName=Ada&lastName=Lovelace", good()},
		{"bad query", "/v4/Users?email=nobody%ZZ", good()},
		{"unknown path", "/v4/Nope", good()},
	}
	return cases
}

// The native checks change nothing a caller sees: for every request, valid or not, the result
// (operation, path parameters, every violation with its code and text, the notes) and the query
// handed to the handlers are those of openapi3filter alone.
func TestParamChecksAgreeWithOpenapi3filter(t *testing.T) {
	fast, slow := twoValidators(t)
	for _, c := range paramCases() {
		t.Run(c.name, func(t *testing.T) {
			compare(t, fast, slow, c.target, c.header)
		})
	}
}

// The same on random mixes of good and broken values.
func TestParamChecksAgreeOnRandomRequests(t *testing.T) {
	fast, slow := twoValidators(t)
	rng := rand.New(rand.NewPCG(1, 2))
	values := []string{"", "a", "0", "1", "5", "20", "100", "101", "true", "false", "TRUE", "Lite", "asc", "desc", "email",
		"a%40b.example", "%C3%A9", "a+b", "-1", "007", strings.Repeat("x", 130), "auth0%7Cabc", strings.Repeat("A", 20)}
	names := []string{"email", "Email", "pageSize", "pageNumber", "orderBy", "orderByType", "state", "verified",
		"ignoreProvider", "firstName", "customerRegistrationId", "encryptedEmail", "token", "nope"}
	headers := []string{"Authorization", "X-SourceSystem", "X-ClientCode", "X-PaperCode", "X-ClientGroupCode", "X-End-User-IP"}
	paths := []string{"/v4/Users", "/v4/Users/abc", "/v4/Users/abc/Events", "/v4/Users/a%20c"}
	for i := range 3000 {
		var q []string
		for range rng.IntN(4) {
			q = append(q, names[rng.IntN(len(names))]+"="+values[rng.IntN(len(values))])
		}
		target := paths[rng.IntN(len(paths))]
		if len(q) > 0 {
			target += "?" + strings.Join(q, "&")
		}
		h := http.Header{}
		for _, name := range headers {
			switch rng.IntN(8) {
			case 0: // absent
			case 1:
				h.Set(name, strings.ReplaceAll(values[rng.IntN(len(values))], "%", ""))
			default:
				h.Set(name, "demo")
			}
		}
		t.Run(strings.ReplaceAll(target, "/", "_")+"#"+string(rune('a'+i%26)), func(t *testing.T) {
			compare(t, fast, slow, target, h)
		})
	}
}

func compare(t *testing.T, fast, slow *Validator, target string, h http.Header) {
	t.Helper()
	mk := func() *http.Request {
		r := httptest.NewRequest(http.MethodGet, "http://x"+target, nil)
		r.Header = h.Clone()
		return r
	}
	rf, rs := mk(), mk()
	got, want := fast.Validate(context.Background(), rf), slow.Validate(context.Background(), rs)
	if !reflect.DeepEqual(got, want) {
		t.Errorf("%s %v:\nnative checks:   %+v\nopenapi3filter:  %+v", target, h, got, want)
	}
	if rf.URL.RawQuery != rs.URL.RawQuery {
		t.Errorf("%s: query handed on %q, openapi3filter's %q", target, rf.URL.RawQuery, rs.URL.RawQuery)
	}
}

// charClass reads a pattern's set exactly: on any string, the byte check and the regular
// expression agree.
func TestCharClass(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	for _, pattern := range []string{`^[A-Za-z0-9._~@|:+=-]+$`, `^[A-Za-z0-9_-]+$`, `^[a-c]+$`} {
		re := regexp.MustCompile(pattern)
		set := charClass(pattern, re)
		if set == nil {
			t.Fatalf("%s: not read as a class", pattern)
		}
		for range 20000 {
			b := make([]byte, rng.IntN(6))
			for i := range b {
				if rng.IntN(4) == 0 {
					b[i] = byte(rng.IntN(256))
				} else {
					b[i] = byte(32 + rng.IntN(95))
				}
			}
			s := string(b)
			byBytes := len(s) > 0
			for i := 0; i < len(s); i++ {
				byBytes = byBytes && set[s[i]]
			}
			if byBytes != re.MatchString(s) {
				t.Fatalf("%s on %q: bytes say %v, the expression %v", pattern, s, byBytes, !byBytes)
			}
		}
	}
	for _, pattern := range []string{`^[^a]+$`, `^[\w]+$`, `^[a]*$`, `^a+$`, `[a]+`, `^[é]+$`} {
		if charClass(pattern, regexp.MustCompile(pattern)) != nil {
			t.Errorf("%s read as a plain class", pattern)
		}
	}
}

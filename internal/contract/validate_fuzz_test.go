package contract_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"sort"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/getkin/kin-openapi/openapi3"

	"usersorchestrator/internal/codes"
	"usersorchestrator/internal/contract"
)

// validatorCodes are the codes Validate can answer: the 400 family of the contract's own checks,
// 401 for the Authorization header, 404 for a path or method the contract does not have and 413
// for a body over the cap. Anything else coming out of the validator is a mistake.
var validatorCodes = map[codes.Code]bool{
	codes.E400_00: true, codes.E400_02: true, codes.E400_09: true, codes.E400_17: true,
	codes.E401: true, codes.E404: true, codes.E413: true,
}

// Bounds on the fuzzed inputs: large enough for the secret to overflow every maxLength of the
// contract (the longest is 8192, Authorization), small enough to keep an execution cheap.
const (
	fuzzMaxPath   = 512
	fuzzMaxQuery  = 2048
	fuzzMaxHeader = 10 << 10
	fuzzMaxBody   = 16 << 10
	fuzzMaxSecret = 9 << 10
	// fuzzBodyCap stands in for the server's 64 KiB cap so that E413 is reachable within fuzzMaxBody.
	fuzzBodyCap = 8 << 10
)

// fuzzRoute is one operation of the contract as the fuzzer addresses it: its method and path
// template, and the names a secret can be planted under.
type fuzzRoute struct {
	method, path string
	query        []string // the operation's query parameters
	fields       []string // the properties of its request body
}

// fuzzRoutes lists the operations of openapi.yaml in a stable order, so that a corpus entry's route
// byte means the same operation on every run.
func fuzzRoutes(t testing.TB) []fuzzRoute {
	t.Helper()
	doc, err := contract.Load()
	if err != nil {
		t.Fatal(err)
	}
	var out []fuzzRoute
	for path, item := range doc.Paths.Map() {
		for method, op := range item.Operations() {
			r := fuzzRoute{method: method, path: path}
			for _, p := range append(item.Parameters, op.Parameters...) {
				if p.Value.In == openapi3.ParameterInQuery {
					r.query = append(r.query, p.Value.Name)
				}
			}
			if op.RequestBody != nil {
				if mt := op.RequestBody.Value.Content.Get("application/json"); mt != nil && mt.Schema != nil {
					for name := range mt.Schema.Value.Properties {
						r.fields = append(r.fields, name)
					}
				}
			}
			// An undeclared name too: the validator must not echo the value of a field it refuses.
			r.query = append(r.query, "unknownParam")
			r.fields = append(r.fields, "unknownField")
			sort.Strings(r.query)
			sort.Strings(r.fields)
			out = append(out, r)
		}
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].path != out[j].path {
			return out[i].path < out[j].path
		}
		return out[i].method < out[j].method
	})
	return out
}

// fuzzHeaders are the five headers every call sends, the ones a secret can be planted in.
var fuzzHeaders = []string{"Authorization", "X-SourceSystem", "X-ClientCode", "X-PaperCode", "X-ClientGroupCode"}

// Where a secret is planted; spot%spotCount picks the place and spot/spotCount the name.
const (
	spotHeader = iota
	spotQuery
	spotPath
	spotBody
	spotMetadata
	spotCount
)

// fuzzInput is one fuzzed request, before the secret is planted.
type fuzzInput struct {
	route                              fuzzRoute
	routed                             bool // route is an operation of the contract
	method, path, query, headers, body string
	spot                               uint8
}

// build makes the request with secret planted; nil when the input does not make a request.
func (in fuzzInput) build(secret string) *http.Request {
	method, target := in.method, in.path
	pathValue := in.path
	if in.spot%spotCount == spotPath {
		pathValue = secret
	}
	if in.routed {
		method = in.route.method
		target = in.route.path
		if i, j := strings.IndexByte(target, '{'), strings.IndexByte(target, '}'); i >= 0 && j > i {
			target = target[:i] + url.PathEscape(pathValue) + target[j+1:]
		}
	}
	if method == "" || strings.ContainsAny(method, " \t\r\n") {
		method = http.MethodGet
	}
	if !strings.HasPrefix(target, "/") {
		target = "/" + target
	}
	u, err := url.ParseRequestURI(target)
	if err != nil {
		return nil
	}
	query := in.query
	if in.spot%spotCount == spotQuery {
		name := in.route.query[int(in.spot/spotCount)%len(in.route.query)]
		query += "&" + url.QueryEscape(name) + "=" + url.QueryEscape(secret)
	}
	if u.RawQuery != "" {
		query = u.RawQuery + "&" + query
	}
	u.RawQuery = strings.TrimPrefix(query, "&")

	body := in.body
	switch in.spot % spotCount {
	case spotBody:
		body = plantInBody(body, in.route.fields[int(in.spot/spotCount)%len(in.route.fields)], secret)
	case spotMetadata:
		body = plantInBody(body, "metadata", map[string]any{"city": secret})
	}
	r := httptest.NewRequest(http.MethodGet, "/", nil)
	r.Method, r.URL, r.RequestURI = method, u, u.RequestURI()
	if body != "" {
		r.Body = http.MaxBytesReader(httptest.NewRecorder(), io.NopCloser(strings.NewReader(body)), fuzzBodyCap)
		r.ContentLength = int64(len(body))
		r.Header.Set("Content-Type", "application/json")
	}
	r.Header.Set("Authorization", "Bearer x.y.z")
	r.Header.Set("X-SourceSystem", "Web")
	r.Header.Set("X-ClientCode", "demo")
	r.Header.Set("X-PaperCode", "demo")
	r.Header.Set("X-ClientGroupCode", "demo")
	// Extra headers, one "Name: value" a line; an empty value removes the header.
	for line := range strings.Lines(in.headers) {
		name, value, _ := strings.Cut(strings.TrimRight(line, "\r\n"), ":")
		if name = strings.TrimSpace(name); name == "" {
			continue
		}
		if value = strings.TrimSpace(value); value == "" {
			r.Header.Del(name)
		} else {
			r.Header.Set(name, value)
		}
	}
	if in.spot%spotCount == spotHeader {
		r.Header.Set(fuzzHeaders[int(in.spot/spotCount)%len(fuzzHeaders)], secret)
	}
	return r
}

// plantInBody sets field to value in body when body is a JSON object (merging into an object
// already there, for metadata), or makes an object holding just that field.
func plantInBody(body, field string, value any) string {
	var m map[string]any
	if json.Unmarshal([]byte(body), &m) != nil || m == nil {
		m = map[string]any{}
	}
	if add, ok := value.(map[string]any); ok {
		if old, ok := m[field].(map[string]any); ok {
			for k, v := range add {
				old[k] = v
			}
			value = old
		}
	}
	m[field] = value
	out, _ := json.Marshal(m)
	return string(out)
}

// rotate maps each ASCII letter and digit to the next one of its kind (z to a, 9 to 0) and keeps
// everything else: a value of the same length and character classes as s, so that it passes or
// breaks the contract's patterns and lengths as s does, but is a different string.
func rotate(s string) string {
	b := []byte(s)
	for i, c := range b {
		switch {
		case c >= 'a' && c <= 'z':
			b[i] = 'a' + (c-'a'+1)%26
		case c >= 'A' && c <= 'Z':
			b[i] = 'A' + (c-'A'+1)%26
		case c >= '0' && c <= '9':
			b[i] = '0' + (c-'0'+1)%10
		}
	}
	return string(b)
}

// secretLooking is a value long enough to be a password or token and with a letter or digit, so
// that rotate changes it.
func secretLooking(s string) bool { return len(s) >= 8 && rotate(s) != s }

// answerTexts are what a violation list makes the server say, and what the validate command
// prints: each text and detail. The detail of E404 names the request line (method and path) and is
// never answered (its text has no {Message}); the path is logged by the access log anyway.
func answerTexts(vs []contract.Violation) []string {
	var out []string
	for _, v := range vs {
		out = append(out, v.Text())
		if v.Code != codes.E404 {
			out = append(out, v.Detail())
		}
	}
	return out
}

func anyContains(texts []string, s string) bool {
	return slices.ContainsFunc(texts, func(t string) bool { return strings.Contains(t, s) })
}

// FuzzValidate sends Validate requests built from fuzzed parts: an operation of the contract (or
// a fuzzed method and path), a raw query, extra headers, a body, and a secret planted in a header,
// query parameter, path parameter, body field or metadata value. It checks that Validate never
// panics, answers only catalogued codes of the validator's families (400, 401, 404, 413), gives the
// same violations for the same request, routes consistently, and never repeats the secret.
//
// "Never repeats" is checked against a second request with the secret replaced by rotate(secret):
// a text holding the secret only when the secret was sent is an echo; a text holding it either way
// (the secret happens to be part of a pattern, an enum or another fuzzed name) is not.
func FuzzValidate(f *testing.F) {
	v := newValidator(f)
	routes := fuzzRoutes(f)
	f.Add(uint8(0), "GET", "/v4/Users", "email=jane@example.com", "", "", "hunter2-secret", uint8(spotQuery))
	f.Add(uint8(255), "DELETE", "/v4/Customers", "", "", "", "hunter2-secret", uint8(spotHeader))
	f.Fuzz(func(t *testing.T, route uint8, method, path, query, headers, body, secret string, spot uint8) {
		if len(path) > fuzzMaxPath || len(query) > fuzzMaxQuery || len(headers) > fuzzMaxHeader ||
			len(body) > fuzzMaxBody || len(secret) > fuzzMaxSecret || len(method) > 32 {
			return
		}
		in := fuzzInput{method: method, path: path, query: query, headers: headers, body: body, spot: spot}
		if int(route) < len(routes) {
			in.route, in.routed = routes[route], true
		} else {
			// A fuzzed path still gets names to plant the secret under.
			in.route = fuzzRoute{query: []string{"unknownParam"}, fields: []string{"unknownField"}}
		}
		r := in.build(secret)
		if r == nil {
			return
		}
		// Validate rewrites the query (it fills in defaults): keep what was sent for the reports.
		sent := r.Method + " " + r.URL.String()
		_, queryErr := url.ParseQuery(r.URL.RawQuery)
		res := v.Validate(context.Background(), r)
		for _, vi := range res.Violations {
			if _, ok := codes.Lookup(vi.Code); !ok || !validatorCodes[vi.Code] {
				t.Fatalf("%s: code %s is not one the validator answers (%v)", sent, vi.Code, res.Violations)
			}
			if text := vi.Text(); !utf8.ValidString(text) || hasNonPrintable(text) {
				t.Fatalf("%s: answered text %q is not printable UTF-8", sent, text)
			}
		}
		is404 := slices.ContainsFunc(res.Violations, func(vi contract.Violation) bool { return vi.Code == codes.E404 })
		switch {
		case res.OperationID == "" && (len(res.Violations) != 1 || !is404):
			t.Fatalf("%s matched no operation but answered %v", sent, res.Violations)
		case res.OperationID != "" && is404:
			t.Fatalf("%s matched %s but answered %v", sent, res.OperationID, res.Violations)
		}

		// A query string url.ParseQuery rejects (a bad percent-escape, a ';') must be refused: its
		// dropped pairs would otherwise turn a Get By Email into a listing of every user.
		if queryErr != nil && res.OperationID != "" && len(res.Violations) == 0 {
			t.Fatalf("%s: the query is malformed (%v) but the request passed", sent, queryErr)
		}

		// The same request again: the same answer, whatever map or goroutine order is inside.
		if again := v.Validate(context.Background(), in.build(secret)); again.OperationID != res.OperationID || !slices.Equal(again.Violations, res.Violations) {
			t.Fatalf("%s: Validate is not deterministic:\n%v\n%v", sent, res.Violations, again.Violations)
		}

		if !secretLooking(secret) {
			return
		}
		texts := answerTexts(res.Violations)
		if !anyContains(texts, secret) {
			return
		}
		other := in.build(rotate(secret))
		if other == nil || !anyContains(answerTexts(v.Validate(context.Background(), other).Violations), secret) {
			t.Fatalf("%s: a violation repeats the submitted value %q: %q", sent, secret, texts)
		}
	})
}

package schemafuzz_test

import (
	"encoding/json"
	"fmt"
	"math"
	"math/rand/v2"
	"regexp"
	"regexp/syntax"
	"slices"
	"sort"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/getkin/kin-openapi/openapi3"

	"usersorchestrator/internal/contract"
)

// The generator knows the contract only through openapi.yaml: the operations, their parameters'
// schemas and their request body's schema. A field or parameter added to the contract is covered
// without touching this file. What it knows beyond the schema is generic: how to make a value of a
// format (email, uri, date-time), and the names of the vendor extensions openapi.yaml uses for the
// rules OpenAPI 3.0 cannot state (x-key-pattern, x-key-max-length on metadata objects).

// operation is one operation of the contract, as the generator uses it.
type operation struct {
	id, method, path string
	params           []*openapi3.Parameter
	body             *openapi3.Schema // nil when the operation takes no body
	// codes are the message codes the contract documents for the operation: the names of its
	// response examples and the codes inside them.
	codes map[string]bool
}

func operations(doc *openapi3.T) []*operation {
	var out []*operation
	for path, item := range doc.Paths.Map() {
		for method, op := range item.Operations() {
			o := &operation{id: op.OperationID, method: method, path: path, codes: map[string]bool{}}
			for _, p := range append(slices.Clone(item.Parameters), op.Parameters...) {
				o.params = append(o.params, p.Value)
			}
			if op.RequestBody != nil {
				if mt := op.RequestBody.Value.Content.Get("application/json"); mt != nil && mt.Schema != nil {
					o.body = mt.Schema.Value
				}
			}
			for _, resp := range op.Responses.Map() {
				for _, mt := range resp.Value.Content {
					for name, ex := range mt.Examples {
						if strings.Contains(name, "_") {
							o.codes[name] = true
						}
						if ex.Value == nil {
							continue
						}
						if m, ok := ex.Value.Value.(map[string]any); ok {
							if msg, ok := m["message"].(map[string]any); ok {
								if code, ok := msg["code"].(string); ok {
									o.codes[code] = true
								}
							}
						}
					}
				}
			}
			out = append(out, o)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].id < out[j].id })
	return out
}

// request is one generated request. Header values nil in headers are removed.
type request struct {
	op          *operation // nil for a path or method the contract does not have
	method      string
	path        string
	query       []string // raw "name=value" pairs, already escaped
	headers     map[string]*string
	body        []byte
	hasBody     bool
	contentType string
	chunked     bool     // send the body without Content-Length
	mutations   []string // what was made wrong, for the report
}

func (r *request) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s %s", r.method, r.path)
	if len(r.query) > 0 {
		b.WriteString("?" + strings.Join(r.query, "&"))
	}
	for _, name := range sortedKeys(r.headers) {
		if v := r.headers[name]; v == nil {
			fmt.Fprintf(&b, "\n  -%s", name)
		} else {
			fmt.Fprintf(&b, "\n  %s: %.200q", name, *v)
		}
	}
	if r.hasBody {
		fmt.Fprintf(&b, "\n  Content-Type: %s chunked=%v\n  body (%d bytes): %.1000q", r.contentType, r.chunked, len(r.body), r.body)
	}
	if len(r.mutations) > 0 {
		fmt.Fprintf(&b, "\n  mutations: %s", strings.Join(r.mutations, "; "))
	}
	return b.String()
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// generator makes requests from the contract with one seeded source of randomness, so that a seed
// gives the same sequence of requests. learned holds string values the service answered with, by
// field name (customerRegistrationId, encryptedCustomerRegistrationId, encryptedEventId...): a
// parameter or field of the same name sometimes takes one, so that requests reach past "not
// found" into the workflows.
type generator struct {
	rnd     *rand.Rand
	ops     []*operation
	learned map[string][]string
	// everything is every learned value, in the order learned: a value handed out under one
	// name is sometimes tried under another (an email address as a loginName).
	everything []string
	emails     []string
	queryNames []string // every query parameter of the contract
	now        time.Time
}

// maxLearned bounds each pool of learned values, so that picking stays cheap.
const maxLearned = 100

func newGenerator(seed uint64, ops []*operation, now time.Time) *generator {
	g := &generator{rnd: rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15)), ops: ops, learned: map[string][]string{}, now: now}
	// A handful of addresses, so that creates collide (E400_08, E400_07) and reads find someone.
	for i := range 6 {
		g.emails = append(g.emails, fmt.Sprintf("user%d@example.com", i))
	}
	for _, op := range ops {
		for _, p := range op.params {
			if p.In == openapi3.ParameterInQuery && !slices.Contains(g.queryNames, p.Name) {
				g.queryNames = append(g.queryNames, p.Name)
			}
		}
	}
	return g
}

func (g *generator) chance(p float64) bool { return g.rnd.Float64() < p }

func pick[T any](g *generator, xs []T) T { return xs[g.rnd.IntN(len(xs))] }

// learn records the string values of a response body by field name.
func (g *generator) learn(body []byte) {
	var v any
	if json.Unmarshal(body, &v) != nil {
		return
	}
	var walk func(name string, v any)
	walk = func(name string, v any) {
		switch x := v.(type) {
		case map[string]any:
			for _, k := range sortedKeys(x) {
				walk(k, x[k])
			}
		case []any:
			for _, e := range x {
				walk(name, e)
			}
		case string:
			if name != "text" && name != "code" && name != "type" {
				g.learnValue(name, x)
			}
		}
	}
	walk("", v)
}

// learnValue records one value handed out under name (a field of an answer, a parameter of an
// emailed link).
func (g *generator) learnValue(name, value string) {
	if name == "" || value == "" || slices.Contains(g.learned[name], value) {
		return
	}
	add := func(pool []string) []string {
		if len(pool) < maxLearned {
			return append(pool, value)
		}
		pool[len(value)%maxLearned] = value // no randomness: the seed's sequence stays the same
		return pool
	}
	g.learned[name] = add(g.learned[name])
	g.everything = add(g.everything)
}

// reuse answers a learned value that s accepts: with chance 0.6 one learned under name, with
// chance 0.15 one learned under any name. It draws the same random numbers whatever has been
// learned (which depends on the service's own random ids and on when emails arrive), so the
// sequence of decisions stays a function of the seed.
func (g *generator) reuse(name string, s *openapi3.Schema) (string, bool) {
	p, i := g.rnd.Float64(), g.rnd.Uint64()
	var pool []string
	switch {
	case p < 0.6:
		pool = g.learned[name]
	case p < 0.75:
		pool = g.everything
	}
	var fits []string
	for _, v := range pool {
		if s.VisitJSON(v, schemaOptions...) == nil {
			fits = append(fits, v)
		}
	}
	if len(fits) == 0 {
		return "", false
	}
	return fits[i%uint64(len(fits))], true
}

// schemaOptions check formats as the service does, so that a reused value is valid for it.
var schemaOptions = append(contract.FormatOptions(), openapi3.DisableSchemaErrorDetails())

// next makes one request: mostly an operation of the contract with a valid request mutated in
// one to three ways, sometimes a valid request as it is, rarely a path or method the contract
// does not have.
func (g *generator) next() *request {
	if g.chance(0.03) {
		return g.unknownRoute()
	}
	op := pick(g, g.ops)
	r := &request{op: op, method: strings.ToUpper(op.method), path: op.path, headers: map[string]*string{}}
	for _, p := range op.params {
		switch p.In {
		case openapi3.ParameterInPath:
			r.path = strings.Replace(r.path, "{"+p.Name+"}", escapePath(g.validFor(p.Name, p.Schema.Value)), 1)
		case openapi3.ParameterInQuery:
			if p.Required || g.chance(0.25) {
				r.query = append(r.query, queryPair(p.Name, g.validFor(p.Name, p.Schema.Value)))
			}
		}
		// Headers are set to valid values by the test (the token and the tenant); mutations
		// change them.
	}
	if op.body != nil {
		r.setJSON(g.validObject(op.body))
	}
	if g.chance(0.05) {
		r.path += "/" // the published trailing-slash forms are served as the canonical paths
	}
	if g.chance(0.2) {
		return r
	}
	// Mostly one mutation, so that the code answered is the one the mutation calls for (the
	// service answers the first violation only); sometimes more, to see them combined.
	n := 1
	if p := g.rnd.Float64(); p > 0.85 {
		n = 3
	} else if p > 0.6 {
		n = 2
	}
	for range n {
		g.mutate(r)
	}
	return r
}

func (r *request) setJSON(v any) {
	r.body, _ = json.Marshal(v)
	r.hasBody, r.contentType = true, "application/json"
}

func queryPair(name, value string) string {
	return escapeQuery(name) + "=" + escapeQuery(value)
}

// pathParams matches the parameters of a path template.
var pathParams = regexp.MustCompile(`\{[^}]*\}`)

func (g *generator) unknownRoute() *request {
	r := &request{headers: map[string]*string{}}
	r.mutations = append(r.mutations, "unknown route")
	op := pick(g, g.ops)
	path := pathParams.ReplaceAllString(op.path, "abc")
	switch g.rnd.IntN(3) {
	case 0: // a method the path does not have
		var methods []string
		for _, m := range []string{"DELETE", "OPTIONS", "PATCH", "PUT", "POST", "GET", "TRACE"} {
			if !slices.ContainsFunc(g.ops, func(o *operation) bool { return o.path == op.path && strings.EqualFold(o.method, m) }) {
				methods = append(methods, m)
			}
		}
		r.method, r.path = pick(g, methods), path
	case 1: // a path the contract does not have
		r.method = "GET"
		r.path = pick(g, []string{"/v4/Customers", "/v3/Users", "/v4/users", "/", "/v4", "/v4/Users/abc/Unknown"})
	default: // a path the contract has, with more after it
		r.method, r.path = strings.ToUpper(op.method), path+"/x/y/z"
	}
	return r
}

// mutate makes r wrong in one way, chosen among the ways that apply to its operation.
func (g *generator) mutate(r *request) {
	op := r.op
	var ways []func()
	for _, p := range op.params {
		ways = append(ways, func() { g.mutateParam(r, p) })
	}
	ways = append(ways,
		func() {
			// A parameter of another operation, a typo of one, or any name at all.
			name := pick(g, g.queryNames)
			switch g.rnd.IntN(3) {
			case 0:
				name = typo(g, name)
			case 1:
				name = pick(g, []string{g.randomString(1, 12), g.anyString(1, 8)})
			}
			r.query = append(r.query, queryPair(name, g.anyString(0, 20)))
			r.mutations = append(r.mutations, "extra query parameter "+name)
		},
		func() {
			r.query = append(r.query, pick(g, []string{"%zz", "=", "&&", "a=%00", "pageSize=1&pageSize=2", "email=%E0%A4%A", ";", "token"}))
			r.mutations = append(r.mutations, "raw query")
		},
	)
	if op.body != nil {
		ways = append(ways,
			// A field more often than the body as a whole: there are more ways to get one wrong.
			func() { g.mutateBodyField(r) },
			func() { g.mutateBodyField(r) },
			func() { g.mutateBodyField(r) },
			func() { g.mutateBody(r) },
		)
	} else {
		ways = append(ways, func() {
			size := g.rnd.IntN(20)
			if g.chance(0.2) { // over the cap: 413 on every operation, GETs included
				size = 65<<10 + 1
			}
			r.setJSON(map[string]any{"x": strings.Repeat("a", size)})
			r.chunked = g.chance(0.5)
			r.mutations = append(r.mutations, fmt.Sprintf("a body of %d bytes on an operation without one", len(r.body)))
		})
	}
	pick(g, ways)()
}

func (g *generator) mutateParam(r *request, p *openapi3.Parameter) {
	s := p.Schema.Value
	switch p.In {
	case openapi3.ParameterInHeader:
		if g.chance(0.3) {
			r.headers[p.Name] = nil
			r.mutations = append(r.mutations, "header "+p.Name+" removed")
			return
		}
		v, what := g.invalidString(p.Name, s)
		if g.chance(0.3) {
			// A value the schema accepts but the service does not know (another tenant, a
			// token that is not a JWT).
			v, what = g.validFor(p.Name, s), "valid but unknown"
		}
		// A header value cannot hold control characters on the wire.
		v = strings.Map(func(r rune) rune {
			if r < 0x20 || r == 0x7f {
				return -1
			}
			return r
		}, v)
		r.headers[p.Name] = &v
		r.mutations = append(r.mutations, "header "+p.Name+": "+what)
	case openapi3.ParameterInPath:
		v, what := g.invalidString(p.Name, s)
		if v == "" {
			v = " " // an empty segment would make another path (the trailing-slash form)
		}
		if g.chance(0.3) {
			v, what = g.validFor(p.Name, s), "valid, probably unknown"
		}
		r.path = strings.Replace(r.op.path, "{"+p.Name+"}", escapePath(v), 1)
		r.mutations = append(r.mutations, "path parameter "+p.Name+": "+what)
	case openapi3.ParameterInQuery:
		var v, what string
		if s.Type.Is(openapi3.TypeString) {
			v, what = g.invalidString(p.Name, s)
		} else {
			val, w := g.invalid(p.Name, s)
			v, what = fmt.Sprint(val), w
			if val == nil {
				v = ""
			}
		}
		r.query = append(r.query, queryPair(p.Name, v))
		r.mutations = append(r.mutations, "query parameter "+p.Name+": "+what)
	}
}

// mutateBodyField breaks one field of the body: a value against its schema, a required field
// left out, an unknown field added, a null.
func (g *generator) mutateBodyField(r *request) {
	var m map[string]any
	if json.Unmarshal(r.body, &m) != nil || m == nil {
		return // the body is already broken
	}
	s := r.op.body
	names := sortedKeys(s.Properties)
	var objects []string // nested objects (metadata) have the most ways to be wrong
	for _, name := range names {
		if s.Properties[name].Value.Type.Is(openapi3.TypeObject) {
			objects = append(objects, name)
		}
	}
	switch k := g.rnd.IntN(10); {
	case k < 6:
		name := pick(g, names)
		if len(objects) > 0 && g.chance(0.3) {
			name = pick(g, objects)
		}
		v, what := g.invalid(name, s.Properties[name].Value)
		m[name] = v
		r.mutations = append(r.mutations, "body."+name+": "+what)
	case k < 7 && len(s.Required) > 0:
		name := pick(g, s.Required)
		delete(m, name)
		r.mutations = append(r.mutations, "body."+name+" left out")
	case k < 8:
		name := pick(g, []string{typo(g, pick(g, names)), strings.ToUpper(pick(g, names)), "__proto__", g.randomString(1, 10), g.anyString(1, 6)})
		m[name] = g.anyValue()
		r.mutations = append(r.mutations, fmt.Sprintf("unknown field %q", name))
	case k < 9:
		name := pick(g, names)
		m[name] = nil
		r.mutations = append(r.mutations, "body."+name+": null")
	default:
		// A valid value of another field's schema in this one: a type mix-up.
		name, other := pick(g, names), pick(g, names)
		m[name] = g.valid(other, s.Properties[other].Value)
		r.mutations = append(r.mutations, "body."+name+": a value of "+other)
	}
	r.setJSON(m)
}

// mutateBody breaks the body as a whole.
func (g *generator) mutateBody(r *request) {
	what := ""
	switch g.rnd.IntN(11) {
	case 0:
		if len(r.body) > 1 {
			r.body = r.body[:g.rnd.IntN(len(r.body)-1)+1]
		}
		what = "truncated JSON"
	case 1:
		r.body = append(r.body, pick(g, []string{"}", ",", " x", "{}", "\x00"})...)
		what = "trailing garbage"
	case 2:
		r.body = []byte(pick(g, []string{"", " ", "null", "[]", "[{}]", "42", `"x"`, "true", "{", "\ufeff{}"}))
		what = "not an object"
	case 3:
		r.contentType = pick(g, []string{"text/plain", "application/xml", "", "application/x-www-form-urlencoded", "application/json; charset=latin1", "multipart/form-data"})
		what = "content type " + r.contentType
	case 4:
		r.hasBody, r.body = false, nil
		what = "no body"
	case 5:
		// Over the 64 KiB cap: with a Content-Length the cap answers before reading; chunked, the
		// validator meets it while reading.
		var m map[string]any
		_ = json.Unmarshal(r.body, &m)
		if m == nil {
			m = map[string]any{}
		}
		m["padding"] = strings.Repeat("a", 65<<10+g.rnd.IntN(4096))
		r.setJSON(m)
		r.chunked = g.chance(0.5)
		what = fmt.Sprintf("over the body cap (chunked=%v)", r.chunked)
	case 6:
		r.body = []byte(strings.Repeat("[", 10000))
		what = "deeply nested"
	case 7:
		r.body = append([]byte{0xff, 0xfe}, r.body...)
		what = "not UTF-8"
	case 8:
		r.body = []byte(strings.Replace(string(r.body), ":", ":"+strings.Repeat(" ", 3)+"\n", 1))
		what = "whitespace"
	case 9:
		// A field twice: the decoders keep the last, and validator and handler must agree.
		name := pick(g, sortedKeys(r.op.body.Properties))
		first, _ := json.Marshal(map[string]any{name: g.anyValue()})
		if len(r.body) > 2 && r.body[0] == '{' {
			r.body = append(append(first[:len(first)-1:len(first)-1], ','), r.body[1:]...)
		}
		what = "duplicate field " + name
	default:
		r.body = []byte(g.anyString(1, 200))
		what = "random text"
	}
	r.mutations = append(r.mutations, "body: "+what)
}

// validObject makes an object that keeps s: its required properties and some of the others.
func (g *generator) validObject(s *openapi3.Schema) map[string]any {
	m := map[string]any{}
	for _, name := range sortedKeys(s.Properties) {
		if slices.Contains(s.Required, name) || g.chance(0.4) {
			m[name] = g.valid(name, s.Properties[name].Value)
		}
	}
	return m
}

// validFor is valid(name, s) as a string, for parameters.
func (g *generator) validFor(name string, s *openapi3.Schema) string {
	switch v := g.valid(name, s).(type) {
	case string:
		return v
	case float64:
		return fmt.Sprint(int64(v))
	default:
		return fmt.Sprint(v)
	}
}

// valid makes a value that keeps s.
func (g *generator) valid(name string, s *openapi3.Schema) any {
	if len(s.Enum) > 0 {
		return pick(g, s.Enum)
	}
	switch {
	case s.Type.Is(openapi3.TypeBoolean):
		return g.chance(0.5)
	case s.Type.Is(openapi3.TypeInteger), s.Type.Is(openapi3.TypeNumber):
		lo, hi := bounds(s)
		return float64(lo + g.rnd.Int64N(hi-lo+1))
	case s.Type.Is(openapi3.TypeObject):
		if s.AdditionalProperties.Schema != nil {
			return g.validMap(s)
		}
		return g.validObject(s)
	case s.Type.Is(openapi3.TypeString):
		return g.validString(name, s)
	}
	return nil
}

func bounds(s *openapi3.Schema) (int64, int64) {
	lo, hi := int64(-1000), int64(1000)
	if s.Min != nil {
		lo = int64(*s.Min)
	}
	if s.Max != nil {
		hi = int64(*s.Max)
	}
	if hi-lo > 1000 {
		hi = lo + 1000 // pageNumber goes to 100000; the low pages are the interesting ones
	}
	return lo, hi
}

// validMap makes a metadata-like object: keys from x-key-pattern within x-key-max-length, values
// that keep additionalProperties, no more than maxProperties.
func (g *generator) validMap(s *openapi3.Schema) map[string]any {
	m := map[string]any{}
	n := g.rnd.IntN(6)
	if g.chance(0.05) && s.MaxProps != nil {
		n = int(*s.MaxProps) // at the limit
	}
	keyRule, keyMax := keyRules(s)
	for range n {
		key := g.fromPattern(keyRule, 1, keyMax)
		if g.chance(0.05) {
			key = g.atLength(keyRule, keyMax) // the longest key allowed
		}
		m[key] = g.valid(key, s.AdditionalProperties.Schema.Value)
	}
	return m
}

func keyRules(s *openapi3.Schema) (*regexp.Regexp, int) {
	pattern, _ := s.Extensions["x-key-pattern"].(string)
	if pattern == "" {
		pattern = `^[a-z][A-Za-z0-9_]*$`
	}
	maxLen := 100
	if v, ok := s.Extensions["x-key-max-length"].(float64); ok {
		maxLen = int(v)
	}
	return regexp.MustCompile(pattern), maxLen
}

func strBounds(s *openapi3.Schema) (int, int) {
	lo, hi := int(s.MinLength), 64
	if s.MaxLength != nil {
		hi = int(*s.MaxLength)
	}
	return lo, hi
}

// validString makes a string that keeps s: its format, pattern and length.
func (g *generator) validString(name string, s *openapi3.Schema) string {
	if v, ok := g.reuse(name, s); ok {
		return v
	}
	lo, hi := strBounds(s)
	switch s.Format {
	case "email":
		// Mostly a handful of addresses, so that creates collide (E400_08, E400_07) and reads
		// find someone; sometimes a new one, so that creates succeed.
		if g.chance(0.6) {
			return pick(g, g.emails)
		}
		return fmt.Sprintf("u%d@example.com", g.rnd.IntN(1_000_000))
	case "uri":
		return pick(g, []string{"http://localhost:3000/account", "https://localhost/welcome?x=1", "http://127.0.0.1:8080/reset#top"})
	case "date-time":
		return g.now.Add(time.Duration(g.rnd.Int64N(int64(365*24*time.Hour))) - 180*24*time.Hour).Format(pick(g, []string{time.RFC3339, time.RFC3339Nano}))
	}
	if s.Pattern != "" {
		if re, err := regexp.Compile(s.Pattern); err == nil {
			if g.chance(0.1) {
				if v := g.atLength(re, hi); v != "" {
					return v
				}
			}
			return g.fromPattern(re, lo, min(hi, lo+40))
		}
	}
	if g.chance(0.1) {
		return strings.Repeat("x", hi) // the longest allowed
	}
	// Any characters but NUL, which the service refuses in every field (a rule openapi.yaml
	// states in prose); NUL comes with the invalid values.
	return strings.ReplaceAll(g.anyString(max(lo, 1), min(hi, lo+30)), "\x00", "_")
}

// atLength makes a string of exactly n characters that matches re, or "".
func (g *generator) atLength(re *regexp.Regexp, n int) string {
	for range 20 {
		v := g.fromPattern(re, 1, n)
		for utf8.RuneCountInString(v) < n && v != "" {
			v += v
		}
		if r := []rune(v); len(r) >= n {
			v = string(r[:n])
		}
		if re.MatchString(v) && utf8.RuneCountInString(v) == n {
			return v
		}
	}
	return ""
}

// fromPattern makes a string that matches re with lo to hi characters, by walking re's syntax
// tree; it falls back to the shortest match it can find.
func (g *generator) fromPattern(re *regexp.Regexp, lo, hi int) string {
	tree, err := syntax.Parse(re.String(), syntax.Perl)
	if err != nil {
		return ""
	}
	tree = tree.Simplify()
	for range 50 {
		target := lo + g.rnd.IntN(max(hi-lo, 0)+1)
		var b strings.Builder
		g.walkRegexp(&b, tree, target)
		v := b.String()
		if n := utf8.RuneCountInString(v); n >= lo && n <= hi && re.MatchString(v) {
			return v
		}
	}
	return ""
}

func (g *generator) walkRegexp(b *strings.Builder, re *syntax.Regexp, target int) {
	switch re.Op {
	case syntax.OpLiteral:
		b.WriteString(string(re.Rune))
	case syntax.OpCharClass:
		b.WriteRune(g.fromClass(re.Rune))
	case syntax.OpAnyChar, syntax.OpAnyCharNotNL:
		b.WriteRune(rune(pick(g, []rune("abcXYZ019 .-_é"))))
	case syntax.OpCapture:
		g.walkRegexp(b, re.Sub[0], target)
	case syntax.OpConcat:
		for _, sub := range re.Sub {
			g.walkRegexp(b, sub, max(target-len(re.Sub)+1, 1))
		}
	case syntax.OpAlternate:
		g.walkRegexp(b, pick(g, re.Sub), target)
	case syntax.OpStar, syntax.OpPlus, syntax.OpQuest, syntax.OpRepeat:
		lo, hi := 0, target
		switch re.Op {
		case syntax.OpPlus:
			lo = 1
		case syntax.OpQuest:
			hi = 1
		case syntax.OpRepeat:
			lo = re.Min
			if hi = re.Max; hi < 0 {
				hi = max(lo, target)
			}
		}
		hi = max(hi, lo)
		n := lo + g.rnd.IntN(hi-lo+1)
		if re.Op != syntax.OpQuest && g.chance(0.7) {
			n = max(lo, min(hi, target)) // aim at the length wanted
		}
		for range n {
			g.walkRegexp(b, re.Sub[0], 1)
		}
	}
	// Anchors and empty matches write nothing.
}

// fromClass picks a rune of a character class, preferring printable ASCII so that values look like
// what clients send.
func (g *generator) fromClass(ranges []rune) rune {
	var ascii []rune
	for i := 0; i+1 < len(ranges); i += 2 {
		for r := max(ranges[i], 0x21); r <= min(ranges[i+1], 0x7e); r++ {
			ascii = append(ascii, r)
		}
	}
	if len(ascii) > 0 && g.chance(0.95) {
		return pick(g, ascii)
	}
	i := g.rnd.IntN(len(ranges)/2) * 2
	lo, hi := ranges[i], min(ranges[i+1], 0x10ffff)
	r := lo + g.rnd.Int32N(hi-lo+1)
	if !utf8.ValidRune(r) {
		return lo
	}
	return r
}

// valueWay is one way of making a value that breaks a schema.
type valueWay struct {
	what string
	v    func() any
}

// invalid makes a value that breaks s, and says how.
func (g *generator) invalid(name string, s *openapi3.Schema) (any, string) {
	type way = valueWay
	ways := []way{{"wrong type", func() any { return g.wrongType(s) }}}
	if !s.Nullable {
		ways = append(ways, way{"null", func() any { return nil }})
	}
	switch {
	case s.Type.Is(openapi3.TypeString):
		v, what := g.invalidString(name, s)
		ways = append(ways, way{what, func() any { return v }}, way{what, func() any { return v }})
	case s.Type.Is(openapi3.TypeInteger), s.Type.Is(openapi3.TypeNumber):
		if s.Min != nil {
			ways = append(ways, way{"below minimum", func() any { return *s.Min - 1 }})
		}
		if s.Max != nil {
			ways = append(ways, way{"above maximum", func() any { return *s.Max + 1 }})
		}
		ways = append(ways, way{"not an integer", func() any { return 1.5 }}, way{"huge", func() any { return math.MaxFloat64 }})
	case s.Type.Is(openapi3.TypeBoolean):
		ways = append(ways, way{"boolean as a string", func() any { return pick(g, []string{"true", "false", "yes", "1", ""}) }})
	case s.Type.Is(openapi3.TypeObject) && s.AdditionalProperties.Schema != nil:
		ways = append(ways, g.invalidMapWays(s)...)
	}
	w := pick(g, ways)
	return w.v(), w.what
}

func (g *generator) invalidMapWays(s *openapi3.Schema) []valueWay {
	keyRule, keyMax := keyRules(s)
	vs := s.AdditionalProperties.Schema.Value
	base := func() map[string]any { return g.validMap(s) }
	with := func(k string, v any) func() any {
		return func() any { m := base(); m[k] = v; return m }
	}
	type way = valueWay
	ways := []way{
		{"metadata key too long", with(g.atLength(keyRule, keyMax)+"x", "v")},
		{"metadata key of the longest length", with(g.atLength(keyRule, keyMax), "v")},
		{"metadata key against the key pattern", with(pick(g, []string{"", "PhoneNumber", "_flag", "1st", "phone-number", "phone number", "čity", "a.b", "ａ", "a\u0000", "a\nb", "😀"}), "v")},
		{"metadata value of another type", with("city", pick(g, []any{42.0, true, []any{"a"}, map[string]any{"a": "b"}}))},
		{"metadata value null", with("city", nil)},
		{"metadata random unicode key", with(g.anyString(1, 20), "v")},
	}
	if vs.MaxLength != nil {
		ways = append(ways,
			way{"metadata value too long", with("city", strings.Repeat("é", int(*vs.MaxLength)+1))},
			way{"metadata value of the longest length", with("city", strings.Repeat("é", int(*vs.MaxLength)))},
		)
	}
	if s.MaxProps != nil {
		ways = append(ways, way{"too many metadata keys", func() any {
			m := map[string]any{}
			for i := range int(*s.MaxProps) + 1 {
				m[fmt.Sprintf("k%d", i)] = "v"
			}
			return m
		}})
	}
	return ways
}

// invalidString makes a string that breaks s (or, for a schema no string breaks, a hostile one).
func (g *generator) invalidString(name string, s *openapi3.Schema) (string, string) {
	lo, hi := strBounds(s)
	type way struct {
		what string
		v    func() string
	}
	ways := []way{{"random unicode", func() string { return g.anyString(0, 40) }}}
	if s.MaxLength != nil {
		ways = append(ways, way{"too long", func() string { return strings.Repeat(pick(g, []string{"a", "é", "😀"}), hi+1+g.rnd.IntN(10)) }})
	}
	if lo > 0 {
		ways = append(ways, way{"too short", func() string { return strings.Repeat("a", lo-1) }})
	}
	if len(s.Enum) > 0 {
		ways = append(ways, way{"not in the enum", func() string { return strings.ToLower(fmt.Sprint(pick(g, s.Enum))) + "x" }})
	}
	if s.Pattern != "" {
		if re, err := regexp.Compile(s.Pattern); err == nil {
			ways = append(ways, way{"against the pattern", func() string {
				base := g.fromPattern(re, max(lo, 1), min(hi, 20))
				for range 10 {
					c := pick(g, []string{" ", "*", "/", "é", "\x00", "😀", "\n", "%", "#", "?", "\u202e"})
					r := []rune(base)
					i := g.rnd.IntN(len(r) + 1)
					v := string(r[:i]) + c + string(r[i:])
					if !re.MatchString(v) {
						return v
					}
				}
				return " "
			}})
		}
	}
	switch s.Format {
	case "email":
		ways = append(ways, way{"not an email", func() string {
			return pick(g, []string{"jane", "jane@", "@example.com", "jane@example", "Jane <jane@example.com>", "jane@@example.com", "jane@.example.com", "jane@example.com.", "jane doe@example.com", "jane@exa mple.com", "\"j\"@example.com x"})
		}})
	case "uri":
		ways = append(ways, way{"not an absolute http URL", func() string {
			return pick(g, []string{"javascript:alert(1)", "ftp://example.com/", "/relative", "http://", "https://user:pw@localhost/", "localhost:3000", "http://[::1", "://x"})
		}}, way{"a host the tenant does not allow", func() string { return "https://evil.example.net/phish" }})
	case "date-time":
		ways = append(ways, way{"not a date-time", func() string {
			return pick(g, []string{"yesterday", "2026-13-45T99:00:00Z", "2026-11-23", "2026-11-23 08:30:00", "0", "2026-11-23T08:30:00", "9999-99-99T99:99:99Z"})
		}})
	}
	// A valid value (often one the service handed out) with one bit flipped: an id that no
	// longer decrypts, an email that is no longer registered, a broken pattern.
	ways = append(ways, way{"tampered valid value", func() string {
		v := []byte(g.validString(name, s))
		if len(v) > 0 {
			v[g.rnd.IntN(len(v))] ^= 1
		}
		return string(v)
	}})
	w := pick(g, ways)
	return w.v(), w.what
}

// wrongType is a value of another JSON type than s's.
func (g *generator) wrongType(s *openapi3.Schema) any {
	all := []any{"text", 42.0, -1.0, true, []any{}, []any{"a"}, map[string]any{}, map[string]any{"a": 1.0}}
	for {
		v := pick(g, all)
		switch v.(type) {
		case string:
			if s.Type.Is(openapi3.TypeString) {
				continue
			}
		case float64:
			if s.Type.Is(openapi3.TypeInteger) || s.Type.Is(openapi3.TypeNumber) {
				continue
			}
		case bool:
			if s.Type.Is(openapi3.TypeBoolean) {
				continue
			}
		case []any:
			if s.Type.Is(openapi3.TypeArray) {
				continue
			}
		case map[string]any:
			if s.Type.Is(openapi3.TypeObject) {
				continue
			}
		}
		return v
	}
}

// anyValue is a value of any JSON type.
func (g *generator) anyValue() any {
	return pick(g, []any{g.anyString(0, 10), 1.0, false, nil, []any{1.0}, map[string]any{"k": "v"}})
}

// anyString is a string of lo to hi runes from everywhere: ASCII, Latin, CJK, emoji, controls,
// NUL, bidi overrides, unpaired surrogates' replacement.
func (g *generator) anyString(lo, hi int) string {
	n := lo + g.rnd.IntN(max(hi-lo, 0)+1)
	pools := [][]rune{
		[]rune("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"),
		[]rune(" !\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~"),
		[]rune("éüçñßøÅЖж中文日本語한국어"),
		[]rune("😀🎉👍🏽"),
		{0, '\t', '\n', '\r', 0x1b, 0x7f, 0x85, 0x200b, 0x200e, 0x202e, 0xfeff, 0xfffd, 0xfffe},
	}
	var b strings.Builder
	for range n {
		b.WriteRune(pick(g, pick(g, pools)))
	}
	return b.String()
}

// typo swaps two neighbouring letters of name (email becomes emial), the mistake a strict
// contract must refuse rather than ignore.
func typo(g *generator, name string) string {
	if len(name) < 2 {
		return name + "x"
	}
	b := []byte(name)
	i := g.rnd.IntN(len(b) - 1)
	b[i], b[i+1] = b[i+1], b[i]
	return string(b)
}

func (g *generator) randomString(lo, hi int) string {
	n := lo + g.rnd.IntN(hi-lo+1)
	const letters = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ_"
	b := make([]byte, n)
	for i := range b {
		b[i] = letters[g.rnd.IntN(len(letters))]
	}
	return string(b)
}

// escapePath escapes a path segment; a value with a '/' stays one segment.
func escapePath(s string) string {
	var b strings.Builder
	for _, c := range []byte(s) {
		if c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || strings.IndexByte("-._~@:+=", c) >= 0 {
			b.WriteByte(c)
		} else {
			fmt.Fprintf(&b, "%%%02X", c)
		}
	}
	return b.String()
}

func escapeQuery(s string) string {
	var b strings.Builder
	for _, c := range []byte(s) {
		if c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || strings.IndexByte("-._~", c) >= 0 {
			b.WriteByte(c)
		} else {
			fmt.Fprintf(&b, "%%%02X", c)
		}
	}
	return b.String()
}

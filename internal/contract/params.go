package contract

import (
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/routers"
)

// paramChecks are the parameter checks of one operation without a request body, compiled from
// the contract so that a valid request is accepted without openapi3filter. openapi3filter decodes
// each parameter through a generic decoder (parsing the whole query string again for each query
// parameter) and walks each schema: about a fifth of a Get By Email's CPU in the service.
//
// They only ever accept: a request they cannot vouch for (a value missing, empty, repeated, out
// of range, or of a shape they do not handle) goes through openapi3filter as before, which finds
// and words the violation. So the codes and texts answered stay openapi3filter's, and a request
// is accepted only when every value passes the same rules openapi3filter applies to it.
type paramChecks struct {
	params []paramCheck
	// defaults are the query parameters with a default in the contract, which openapi3filter
	// writes into the request's query when they are absent (the generated handlers bind them).
	defaults []queryDefault
}

type queryDefault struct{ name, value string }

type paramKind int

const (
	kindString paramKind = iota
	kindBoolean
	kindInteger
)

// paramCheck is one parameter's rules.
type paramCheck struct {
	in       string
	name     string // for headers, the canonical key
	required bool
	kind     paramKind
	// strings
	minLen, maxLen int // maxLen < 0: none
	pattern        *regexp.Regexp
	// allowed, when not nil, is the pattern's character set: a pattern of the form ^[class]+$
	// (checked byte by byte, without running the regular expression).
	allowed *[256]bool
	format  func(string) error
	enum    []string
	// integers
	hasMin, hasMax bool
	min, max       int64
}

// formatCheckers are the string formats FormatOptions registers, by name: the fast path checks
// a value with the same function openapi3filter calls.
var formatCheckers = map[string]func(string) error{
	"email": validateEmail,
	"uri":   validateAbsoluteURL,
}

// compileParams compiles the checks of route's operation, or returns nil when the operation has
// a request body or a parameter of a shape the checks do not handle (openapi3filter then checks
// every request of it).
func compileParams(route *routers.Route) *paramChecks {
	op := route.Operation
	if op.RequestBody != nil {
		return nil
	}
	// The parameters openapi3filter.ValidateRequest checks: the path item's, unless the operation
	// overrides them, then the operation's.
	var params []*openapi3.Parameter
	for _, ref := range route.PathItem.Parameters {
		p := ref.Value
		if p == nil {
			return nil
		}
		if op.Parameters != nil && op.Parameters.GetByInAndName(p.In, p.Name) != nil {
			continue
		}
		params = append(params, p)
	}
	for _, ref := range op.Parameters {
		if ref.Value == nil {
			return nil
		}
		params = append(params, ref.Value)
	}
	pc := &paramChecks{}
	for _, p := range params {
		c, def, ok := compileParam(p)
		if !ok {
			return nil
		}
		pc.params = append(pc.params, c)
		if def != nil {
			pc.defaults = append(pc.defaults, queryDefault{name: p.Name, value: *def})
		}
	}
	return pc
}

// compileParam compiles one parameter; ok is false when its shape is not handled. def is the
// default written into the query when the parameter is absent.
func compileParam(p *openapi3.Parameter) (c paramCheck, def *string, ok bool) {
	if p.Content != nil || p.Schema == nil || p.Schema.Value == nil || p.AllowEmptyValue || p.Explode != nil {
		return c, nil, false
	}
	switch {
	case p.In == openapi3.ParameterInPath && (p.Style == "" || p.Style == openapi3.SerializationSimple):
	case p.In == openapi3.ParameterInHeader && (p.Style == "" || p.Style == openapi3.SerializationSimple):
	case p.In == openapi3.ParameterInQuery && (p.Style == "" || p.Style == openapi3.SerializationForm):
	default:
		return c, nil, false
	}
	s := p.Schema.Value
	if !plainSchema(s) {
		return c, nil, false
	}
	c = paramCheck{in: p.In, name: p.Name, required: p.Required, maxLen: -1}
	if p.In == openapi3.ParameterInHeader {
		c.name = http.CanonicalHeaderKey(p.Name)
	}
	switch {
	case s.Type.Is(openapi3.TypeString):
		c.kind = kindString
		c.minLen = int(s.MinLength)
		if s.MaxLength != nil {
			c.maxLen = int(*s.MaxLength)
		}
		if s.Pattern != "" {
			// openapi3 rewrites \u escapes for Go before compiling; other patterns it compiles as
			// they are.
			if strings.Contains(s.Pattern, `\u`) {
				return c, nil, false
			}
			re, err := regexp.Compile(s.Pattern)
			if err != nil {
				return c, nil, false
			}
			c.pattern, c.allowed = re, charClass(s.Pattern, re)
		}
		if s.Format != "" {
			if c.format = formatCheckers[s.Format]; c.format == nil {
				return c, nil, false
			}
		}
		for _, e := range s.Enum {
			v, isString := e.(string)
			if !isString {
				return c, nil, false
			}
			c.enum = append(c.enum, v)
		}
	case s.Type.Is(openapi3.TypeBoolean):
		if s.Format != "" || s.Pattern != "" || s.Enum != nil || s.MinLength != 0 || s.MaxLength != nil || s.Min != nil || s.Max != nil {
			return c, nil, false
		}
		c.kind = kindBoolean
	case s.Type.Is(openapi3.TypeInteger):
		if s.Format != "" || s.Pattern != "" || s.Enum != nil || s.MinLength != 0 || s.MaxLength != nil {
			return c, nil, false
		}
		c.kind = kindInteger
		if s.Min != nil {
			c.hasMin, c.min = true, int64(*s.Min)
			if float64(c.min) != *s.Min {
				return c, nil, false
			}
		}
		if s.Max != nil {
			c.hasMax, c.max = true, int64(*s.Max)
			if float64(c.max) != *s.Max {
				return c, nil, false
			}
		}
	default:
		return c, nil, false
	}
	if s.Default != nil {
		// openapi3filter writes a query parameter's default into the query (fmt.Sprint of it);
		// defaults elsewhere are not handled here.
		if p.In != openapi3.ParameterInQuery {
			return c, nil, false
		}
		switch d := s.Default.(type) {
		case string, bool, float64, int, int64:
			v := fmt.Sprint(d)
			def = &v
		default:
			return c, nil, false
		}
	}
	return c, def, true
}

// plainSchema reports whether s uses no keyword beyond a type, string length, pattern, format,
// enum, integer bounds and a default (its description and extensions aside): the keywords the
// checks apply.
func plainSchema(s *openapi3.Schema) bool {
	return s.Type != nil && len(s.Type.Slice()) == 1 &&
		len(s.OneOf) == 0 && len(s.AnyOf) == 0 && len(s.AllOf) == 0 && s.Not == nil &&
		!s.Nullable && !s.ExclusiveMin.IsSet() && !s.ExclusiveMax.IsSet() &&
		s.MultipleOf == nil && s.Items == nil && len(s.Properties) == 0 && s.Const == nil &&
		len(s.PrefixItems) == 0 && s.If == nil && s.Then == nil && s.Else == nil
}

// charClass is the byte set of a pattern of the form ^[class]+$ without escapes or negation,
// read off the compiled expression one byte at a time; nil for any other pattern. A string
// matches such a pattern exactly when it is not empty and each of its bytes is in the set:
// the class holds only ASCII characters, and the one-byte probes cover them all.
func charClass(pattern string, re *regexp.Regexp) *[256]bool {
	if len(pattern) < 5 || pattern[:2] != "^[" || pattern[len(pattern)-3:] != "]+$" {
		return nil
	}
	class := pattern[2 : len(pattern)-3]
	if class == "" || class[0] == '^' {
		return nil
	}
	for i := 0; i < len(class); i++ {
		if b := class[i]; b == '\\' || b == '[' || b == ']' || b >= utf8.RuneSelf {
			return nil
		}
	}
	var set [256]bool
	for b := range utf8.RuneSelf {
		set[b] = re.MatchString(string(rune(b)))
	}
	// A non-ASCII byte is part of a rune outside the class (or of no rune at all).
	return &set
}

// accept reports whether every parameter of the request surely passes openapi3filter, and if so
// writes the absent query parameters' defaults into r's query as openapi3filter would.
func (pc *paramChecks) accept(r *http.Request, pathParams map[string]string, query url.Values) bool {
	for i := range pc.params {
		c := &pc.params[i]
		var value string
		switch c.in {
		case openapi3.ParameterInPath:
			v, ok := pathParams[c.name]
			if !ok {
				return false
			}
			value = v
		case openapi3.ParameterInHeader, openapi3.ParameterInQuery:
			values := map[string][]string(query)
			if c.in == openapi3.ParameterInHeader {
				values = r.Header
			}
			vs, ok := values[c.name]
			if !ok {
				if c.required {
					return false
				}
				continue
			}
			if len(vs) != 1 {
				return false
			}
			value = vs[0]
		}
		if value == "" || !c.valid(value) {
			return false
		}
	}
	missing := false
	for _, d := range pc.defaults {
		if _, ok := query[d.name]; !ok {
			missing = true
			break
		}
	}
	if missing {
		q := make(url.Values, len(query)+len(pc.defaults))
		for k, v := range query {
			q[k] = slices.Clone(v)
		}
		for _, d := range pc.defaults {
			if _, ok := q[d.name]; !ok {
				q[d.name] = []string{d.value}
			}
		}
		r.URL.RawQuery = q.Encode()
	}
	return true
}

// valid reports whether a value that is present and not empty passes the parameter's rules.
func (c *paramCheck) valid(v string) bool {
	switch c.kind {
	case kindBoolean:
		return v == "true" || v == "false"
	case kindInteger:
		// Plain decimal digits only (no sign, no leading zero): what strconv.ParseInt accepts
		// and the generated binder reads alike.
		if len(v) > 18 || (v[0] == '0' && len(v) > 1) {
			return false
		}
		for i := 0; i < len(v); i++ {
			if v[i] < '0' || v[i] > '9' {
				return false
			}
		}
		n, err := strconv.ParseInt(v, 10, 64)
		return err == nil && (!c.hasMin || n >= c.min) && (!c.hasMax || n <= c.max)
	}
	if n := utf8.RuneCountInString(v); n < c.minLen || (c.maxLen >= 0 && n > c.maxLen) {
		return false
	}
	if c.allowed != nil {
		for i := 0; i < len(v); i++ {
			if !c.allowed[v[i]] {
				return false
			}
		}
	} else if c.pattern != nil && !c.pattern.MatchString(v) {
		return false
	}
	if c.enum != nil && !slices.Contains(c.enum, v) {
		return false
	}
	return c.format == nil || c.format(v) == nil
}

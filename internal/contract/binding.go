package contract

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/url"
	"sort"
	"strings"
	"unicode/utf8"

	"github.com/getkin/kin-openapi/openapi3"

	"usersorchestrator/internal/codes"
)

// The Naviga service is ASP.NET: its JSON and query binding match names without regard to case,
// and the published tables spell body fields in PascalCase (`Email`, `IgnoreProvider`). So the
// names the contract defines — body properties and query parameters — are matched here without
// regard to ASCII case and rewritten to their canonical spelling before the schema checks and the
// generated handlers see the request. Only names the contract defines are folded: metadata keys
// are data and are kept as sent, and unknown names stay unknown (a typo still fails).
//
// The body is also read strictly, which ASP.NET does not need to do but encoding/json does not do
// by itself: one JSON value and nothing after it, no name twice in one object (encoding/json keeps
// the last), and valid UTF-8 (encoding/json stores invalid bytes as U+FFFD).

// Note is a name the validator accepted in a spelling other than the contract's.
type Note struct {
	// Where is the name as sent: "body.Email", "query parameter IgnoreProvider".
	Where string
	// Canonical is the contract's spelling it was read as.
	Canonical string
}

func (n Note) String() string { return n.Where + ": read as " + n.Canonical }

// asciiLower folds ASCII letters only, as the names of the contract are ASCII: a non-ASCII
// character that Unicode folds onto an ASCII letter (the Kelvin sign onto k) must not make a
// name known.
func asciiLower(s string) string {
	for i := 0; i < len(s); i++ {
		if c := s[i]; 'A' <= c && c <= 'Z' {
			b := []byte(s)
			for j := i; j < len(b); j++ {
				if 'A' <= b[j] && b[j] <= 'Z' {
					b[j] += 'a' - 'A'
				}
			}
			return string(b)
		}
	}
	return s
}

// foldIndex maps the lower-cased spelling of each name to its canonical one.
func foldIndex[V any](names map[string]V) map[string]string {
	out := make(map[string]string, len(names))
	for n := range names {
		out[asciiLower(n)] = n
	}
	return out
}

// foldQuery rewrites the query parameters the operation declares to their canonical spelling.
// It reports whether it renamed any, and refuses a parameter given in two spellings.
func foldQuery(known map[string]bool, fold map[string]string, query url.Values) (renamed bool, notes []Note, vs []Violation) {
	var odd []string
	for name := range query {
		if !known[name] {
			if _, ok := fold[asciiLower(name)]; ok {
				odd = append(odd, name)
			}
		}
	}
	if len(odd) == 0 {
		return false, nil, nil
	}
	sort.Strings(odd)
	reported := map[string]bool{}
	for _, name := range odd {
		canonical := fold[asciiLower(name)]
		if spellings := spellingsOf(query, canonical, fold); len(spellings) > 1 {
			if !reported[canonical] { // each clash once
				reported[canonical] = true
				vs = append(vs, Violation{Code: codes.E400_00, Where: "query parameter " + canonical, Problem: "is given twice, as " + strings.Join(spellings, " and ")})
			}
			delete(query, name) // refused above; not also "not a known parameter"
			continue
		}
		query[canonical] = query[name]
		delete(query, name)
		notes = append(notes, Note{Where: "query parameter " + name, Canonical: canonical})
	}
	return len(notes) > 0, notes, vs
}

// spellingsOf lists the names in m that fold onto canonical, sorted.
func spellingsOf[V any](m map[string]V, canonical string, fold map[string]string) []string {
	var out []string
	for name := range m {
		if fold[asciiLower(name)] == canonical {
			out = append(out, safeName(name))
		}
	}
	sort.Strings(out)
	return out
}

// isJSON reports whether r declares a JSON body (parameters such as charset allowed).
func isJSON(r *http.Request) bool {
	mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	return err == nil && mt == "application/json"
}

// prepareBody reads r's JSON body strictly and folds the names of schema's properties onto their
// canonical spelling, leaving the (rewritten) body readable for the schema checks. A violation
// means the body must not be checked further.
func prepareBody(r *http.Request, schema *openapi3.Schema) ([]Note, []Violation) {
	if r.Body == nil || r.Body == http.NoBody {
		return nil, nil
	}
	data, err := io.ReadAll(r.Body)
	_ = r.Body.Close()
	if err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return nil, []Violation{{Code: codes.E413, Where: "body", Problem: fmt.Sprintf("is larger than %d bytes", mbe.Limit)}}
		}
		return nil, []Violation{{Code: codes.E400_00, Where: "body", Problem: "could not be read"}}
	}
	setBody(r, data)
	if len(bytes.TrimSpace(data)) == 0 {
		return nil, nil // the schema checks say whether a body is required
	}
	value, v := decodeStrict(data)
	if v != nil {
		return nil, []Violation{*v}
	}
	var notes []Note
	var vs []Violation
	if foldBody(value, schema, nil, &notes, &vs); len(vs) > 0 {
		return nil, vs
	}
	if len(notes) > 0 {
		var buf bytes.Buffer
		enc := json.NewEncoder(&buf)
		enc.SetEscapeHTML(false)
		if err := enc.Encode(value); err != nil {
			return nil, []Violation{{Code: codes.E400_00, Where: "body", Problem: "is not valid JSON"}}
		}
		setBody(r, buf.Bytes())
	}
	return notes, nil
}

func setBody(r *http.Request, data []byte) {
	r.ContentLength = int64(len(data))
	r.GetBody = func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(data)), nil }
	r.Body, _ = r.GetBody()
}

// decodeStrict parses data as exactly one JSON value with no name twice in an object.
func decodeStrict(data []byte) (any, *Violation) {
	if !utf8.Valid(data) {
		return nil, &Violation{Code: codes.E400_00, Where: "body", Problem: "is not valid UTF-8"}
	}
	if hasLoneSurrogate(data) {
		return nil, &Violation{Code: codes.E400_00, Where: "body", Problem: `has a \u escape of half a surrogate pair, which is no character`}
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	value, v := decodeValue(dec, nil)
	if v != nil {
		return nil, v
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, &Violation{Code: codes.E400_00, Where: "body", Problem: "has data after the JSON value"}
	}
	return value, nil
}

var errNotJSON = &Violation{Code: codes.E400_00, Where: "body", Problem: "is not valid JSON"}

func decodeValue(dec *json.Decoder, path []string) (any, *Violation) {
	tok, err := dec.Token()
	if err != nil {
		return nil, errNotJSON
	}
	switch tok {
	case json.Delim('{'):
		obj := map[string]any{}
		for dec.More() {
			tok, err := dec.Token()
			if err != nil {
				return nil, errNotJSON
			}
			name, _ := tok.(string)
			inner := append(append([]string(nil), path...), name)
			if _, dup := obj[name]; dup {
				return nil, &Violation{Code: codes.E400_00, Where: bodyWhere(inner), Problem: "is given twice"}
			}
			val, v := decodeValue(dec, inner)
			if v != nil {
				return nil, v
			}
			obj[name] = val
		}
		if _, err := dec.Token(); err != nil {
			return nil, errNotJSON
		}
		return obj, nil
	case json.Delim('['):
		arr := []any{}
		for i := 0; dec.More(); i++ {
			val, v := decodeValue(dec, append(append([]string(nil), path...), fmt.Sprint(i)))
			if v != nil {
				return nil, v
			}
			arr = append(arr, val)
		}
		if _, err := dec.Token(); err != nil {
			return nil, errNotJSON
		}
		return arr, nil
	}
	return tok, nil
}

// foldBody renames, in value, the members that spell one of schema's properties in another case,
// and recurses into properties that are objects with properties of their own. Objects without
// declared properties (metadata) keep their keys as sent.
func foldBody(value any, schema *openapi3.Schema, path []string, notes *[]Note, vs *[]Violation) {
	obj, ok := value.(map[string]any)
	if !ok || schema == nil || len(schema.Properties) == 0 {
		return
	}
	fold := foldIndex(schema.Properties)
	var odd []string
	for name := range obj {
		if _, ok := schema.Properties[name]; !ok {
			if _, ok := fold[asciiLower(name)]; ok {
				odd = append(odd, name)
			}
		}
	}
	sort.Strings(odd)
	reported := map[string]bool{}
	for _, name := range odd {
		canonical := fold[asciiLower(name)]
		if spellings := spellingsOf(obj, canonical, fold); len(spellings) > 1 {
			if !reported[canonical] { // each clash once
				reported[canonical] = true
				*vs = append(*vs, Violation{Code: codes.E400_00, Where: bodyWhere(append(append([]string(nil), path...), canonical)), Problem: "is given twice, as " + strings.Join(spellings, " and ")})
			}
			continue
		}
		obj[canonical] = obj[name]
		delete(obj, name)
		*notes = append(*notes, Note{Where: bodyWhere(append(append([]string(nil), path...), name)), Canonical: canonical})
	}
	for name, prop := range schema.Properties {
		if prop != nil && prop.Value != nil && len(prop.Value.Properties) > 0 {
			foldBody(obj[name], prop.Value, append(append([]string(nil), path...), name), notes, vs)
		}
	}
}

// hasLoneSurrogate reports whether a JSON text escapes half of a UTF-16 surrogate pair without the
// other half (`"\ud800"`): encoding/json stores it as U+FFFD, as it stores invalid UTF-8.
// Backslashes occur only inside strings, so the text is scanned as a whole.
func hasLoneSurrogate(data []byte) bool {
	for i := 0; i < len(data); i++ {
		if data[i] != '\\' {
			continue
		}
		i++ // the escaped character: a second backslash is skipped with it
		if i >= len(data) || data[i] != 'u' {
			continue
		}
		r, ok := hex4(data[i+1:])
		if !ok {
			continue // the decoder reports the syntax error
		}
		i += 4
		switch {
		case 0xDC00 <= r && r <= 0xDFFF:
			return true
		case 0xD800 <= r && r <= 0xDBFF:
			if i+2 < len(data) && data[i+1] == '\\' && data[i+2] == 'u' {
				if low, ok := hex4(data[i+3:]); ok && 0xDC00 <= low && low <= 0xDFFF {
					i += 6
					continue
				}
			}
			return true
		}
	}
	return false
}

func hex4(b []byte) (rune, bool) {
	if len(b) < 4 {
		return 0, false
	}
	var r rune
	for _, c := range b[:4] {
		switch {
		case '0' <= c && c <= '9':
			r = r<<4 | rune(c-'0')
		case 'a' <= c && c <= 'f':
			r = r<<4 | rune(c-'a'+10)
		case 'A' <= c && c <= 'F':
			r = r<<4 | rune(c-'A'+10)
		default:
			return 0, false
		}
	}
	return r, true
}

package contract

import (
	"errors"
	"fmt"
	"net/http"
	"regexp"
	"sort"
	"strconv"
	"strings"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"

	"usersorchestrator/internal/codes"
	"usersorchestrator/internal/emailaddr"
)

// Violation is one way a request breaks the contract, with the code the server answers for it.
type Violation struct {
	Code codes.Code
	// Where names the header, parameter or body field: "header X-PaperCode",
	// "query parameter pageSize", "body.metadata.city", "body".
	Where string
	// Problem says what is wrong, without repeating the submitted value.
	Problem string
}

// Detail is "<where>: <problem>", the {Message} of UsersOrchestrator_E400_00.
func (v Violation) Detail() string { return v.Where + ": " + v.Problem }

// Text is the message text the server answers with.
func (v Violation) Text() string { return v.Code.TextWith(v.Detail()) }

func (v Violation) String() string { return fmt.Sprintf("%s %s", v.Code, v.Detail()) }

// location orders violations the way a reader checks a request: headers, path, query, body.
func (v Violation) location() int {
	switch {
	case strings.HasPrefix(v.Where, "header "):
		return 0
	case strings.HasPrefix(v.Where, "path "):
		return 1
	case strings.HasPrefix(v.Where, "query"):
		return 2
	default:
		return 3
	}
}

func sortViolations(vs []Violation) {
	sort.SliceStable(vs, func(i, j int) bool {
		if li, lj := vs[i].location(), vs[j].location(); li != lj {
			return li < lj
		}
		return vs[i].Where < vs[j].Where
	})
}

// encryptedFields answer UsersOrchestrator_E400_02 ("Invalid InputModel") when malformed, as Naviga
// published for the encrypted selectors, instead of UsersOrchestrator_E400_00.
var encryptedFields = map[string]bool{"encryptedEmail": true, "encryptedCustomerRegistrationId": true}

// fromError turns what openapi3filter reports into violations. It switches on the concrete types:
// errors.As would unwrap a RequestError into the MultiError of its schema errors and lose which
// parameter or body they belong to.
func fromError(err error) []Violation {
	switch e := err.(type) {
	case openapi3.MultiError:
		var out []Violation
		for _, inner := range e {
			out = append(out, fromError(inner)...)
		}
		return out
	case *openapi3filter.RequestError:
		switch {
		case e.Parameter != nil:
			return fromParameterError(e)
		case e.RequestBody != nil:
			return fromBodyError(e)
		}
	case *openapi3filter.SecurityRequirementsError:
		return []Violation{{Code: codes.E401, Where: "header Authorization", Problem: "is required"}}
	}
	return []Violation{{Code: codes.E400_00, Where: "request", Problem: "does not match the contract"}}
}

func parameterWhere(p *openapi3.Parameter) string {
	if p.In == openapi3.ParameterInHeader {
		return "header " + p.Name
	}
	return p.In + " parameter " + p.Name
}

func fromParameterError(re *openapi3filter.RequestError) []Violation {
	p := re.Parameter
	code := codes.E400_00
	switch {
	case p.In == openapi3.ParameterInHeader && strings.EqualFold(p.Name, "Authorization"):
		code = codes.E401
	case encryptedFields[p.Name]:
		code = codes.E400_02
	}
	where := parameterWhere(p)
	var problem string
	var sErr *openapi3.SchemaError
	var pErr *openapi3filter.ParseError
	switch {
	case errors.Is(re.Err, openapi3filter.ErrInvalidRequired):
		problem = "is required"
	case errors.Is(re.Err, openapi3filter.ErrInvalidEmptyValue):
		problem = "must not be empty"
	case errors.As(re.Err, &sErr):
		problem = schemaProblem(sErr)
	case errors.As(re.Err, &pErr) && p.Schema != nil && p.Schema.Value != nil:
		problem = "must be " + typeName(p.Schema.Value)
	default:
		problem = "is invalid"
	}
	return []Violation{{Code: code, Where: where, Problem: problem}}
}

func fromBodyError(re *openapi3filter.RequestError) []Violation {
	var mbe *http.MaxBytesError
	switch {
	case errors.As(re.Err, &mbe):
		return []Violation{{Code: codes.E413, Where: "body", Problem: fmt.Sprintf("is larger than %d bytes", mbe.Limit)}}
	case errors.Is(re.Err, openapi3filter.ErrInvalidRequired):
		return []Violation{{Code: codes.E400_00, Where: "body", Problem: "is required"}}
	case strings.HasPrefix(re.Reason, "header Content-Type"):
		return []Violation{{Code: codes.E400_00, Where: "header Content-Type", Problem: "must be application/json"}}
	case re.Reason == "failed to decode request body":
		return []Violation{{Code: codes.E400_00, Where: "body", Problem: "is not valid JSON"}}
	}
	var out []Violation
	var me openapi3.MultiError
	if errors.As(re.Err, &me) {
		for _, e := range flatten(me) {
			out = append(out, bodySchemaViolation(e))
		}
		return out
	}
	var sErr *openapi3.SchemaError
	if errors.As(re.Err, &sErr) {
		return []Violation{bodySchemaViolation(sErr)}
	}
	return []Violation{{Code: codes.E400_00, Where: "body", Problem: "does not match the contract"}}
}

func flatten(me openapi3.MultiError) []*openapi3.SchemaError {
	var out []*openapi3.SchemaError
	for _, e := range me {
		var nested openapi3.MultiError
		var sErr *openapi3.SchemaError
		switch {
		case errors.As(e, &nested):
			out = append(out, flatten(nested)...)
		case errors.As(e, &sErr):
			out = append(out, sErr)
		}
	}
	return out
}

var unsupportedProperty = regexp.MustCompile(`^property "(.*)" is unsupported$`)

func bodySchemaViolation(e *openapi3.SchemaError) Violation {
	path := e.JSONPointer()
	problem := schemaProblem(e)
	if m := unsupportedProperty.FindStringSubmatch(e.Reason); m != nil {
		// kin-openapi quotes the name with %q; take it back to the name as sent.
		name, err := strconv.Unquote(`"` + m[1] + `"`)
		if err != nil {
			name = m[1]
		}
		path = append(path, name)
		problem = "is not a known field"
	}
	return Violation{Code: bodyCode(path, e.SchemaField), Where: bodyWhere(path), Problem: problem}
}

// bodyCode keeps the published metadata codes: E400_17 for a value over 100 characters, E400_09
// for anything else wrong inside metadata. A malformed encrypted id in a body is E400_00: E400_02
// is published for the GET selectors only, and Create's table does not list it.
func bodyCode(path []string, schemaField string) codes.Code {
	if len(path) == 0 {
		return codes.E400_00
	}
	switch {
	case path[0] == metadataField && len(path) == 2 && schemaField == "maxLength":
		return codes.E400_17
	case path[0] == metadataField:
		return codes.E400_09
	}
	return codes.E400_00
}

func bodyWhere(path []string) string {
	if len(path) == 0 {
		return "body"
	}
	parts := make([]string, len(path))
	for i, p := range path {
		parts[i] = safeName(p)
	}
	return "body." + strings.Join(parts, ".")
}

// schemaProblem words a schema error for a person, never repeating the value, which may be secret.
func schemaProblem(e *openapi3.SchemaError) string {
	s := e.Schema
	switch e.SchemaField {
	case "required":
		return "is required"
	case "type", "nullable":
		if s != nil {
			return "must be " + typeName(s)
		}
	case "format":
		if s != nil && s.Format == "email" {
			// Name the email rule that failed (emailaddr's errors never quote the value).
			if v, ok := e.Value.(string); ok {
				if _, err := emailaddr.Canonical(v); err != nil {
					return err.Error()
				}
			}
		}
		if s != nil {
			return formatProblem(s.Format)
		}
	case "minLength":
		return fmt.Sprintf("must be at least %d characters", s.MinLength)
	case "maxLength":
		return fmt.Sprintf("must be at most %d characters", *s.MaxLength)
	case "pattern":
		return "must match the pattern " + s.Pattern
	case "enum":
		vals := make([]string, 0, len(s.Enum))
		for _, v := range s.Enum {
			vals = append(vals, fmt.Sprint(v))
		}
		return "must be one of " + strings.Join(vals, ", ")
	case "minimum":
		return fmt.Sprintf("must be at least %v", *s.Min)
	case "maximum":
		return fmt.Sprintf("must be at most %v", *s.Max)
	case "maxProperties":
		return fmt.Sprintf("must have at most %d keys", *s.MaxProps)
	}
	if e.Reason != "" {
		return e.Reason
	}
	return "does not match the contract"
}

func typeName(s *openapi3.Schema) string {
	switch {
	case s.Type.Is(openapi3.TypeObject):
		return "an object"
	case s.Type.Is(openapi3.TypeArray):
		return "an array"
	case s.Type.Is(openapi3.TypeInteger):
		return "an integer"
	case s.Type.Is(openapi3.TypeBoolean):
		return "true or false"
	case s.Type.Is(openapi3.TypeNumber):
		return "a number"
	case s.Type.Is(openapi3.TypeString):
		return "a string"
	}
	return "of the documented type"
}

func formatProblem(format string) string {
	switch format {
	case "email":
		return "must be an email address"
	case "uri":
		return "must be an absolute http or https URL"
	case "date-time":
		return "must be an RFC 3339 date-time"
	}
	return "must be a valid " + format
}

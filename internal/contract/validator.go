// Package contract checks HTTP requests against openapi.yaml and says, for each way a request breaks
// it, which code the server answers. The server's middleware and the `validate` command both use it,
// so the two always agree.
package contract

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"sort"
	"strings"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"

	usersorchestrator "usersorchestrator"
	"usersorchestrator/internal/codes"
)

// Load parses openapi.yaml as committed. The server and the validate command build their
// validator from it rather than from gen/api's embedded spec, which oapi-codegen rewrites (it
// capitalises operation ids, for one).
func Load() (*openapi3.T, error) {
	doc, err := openapi3.NewLoader().LoadFromData(usersorchestrator.OpenAPI)
	if err != nil {
		return nil, fmt.Errorf("contract: load openapi.yaml: %w", err)
	}
	return doc, nil
}

// Validator checks requests against one contract. It is safe for concurrent use.
type Validator struct {
	router  *router
	options *openapi3filter.Options
	// noBody is options without the body checks, for a body that is not strict JSON.
	noBody *openapi3filter.Options
	// queryParams lists, per operation, the query parameters it declares; others are refused.
	queryParams map[string]map[string]bool
	// queryFold maps, per operation, each declared query parameter's lower-cased name to its own.
	queryFold map[string]map[string]string
	// bodies holds, per operation, the schema of its JSON body, whose names are folded.
	bodies map[string]*openapi3.Schema
	// params holds, per operation without a body, the checks that accept its valid requests
	// without openapi3filter (see paramChecks); absent for the others.
	params map[string]*paramChecks
}

// New compiles the contract once. It takes doc over: its servers are dropped, so that requests
// match on their path alone whatever host they were sent to, and so are its security requirements:
// the server's auth middleware checks the token (401/403) before validation, and openapi3filter's
// security step would read every body a second time for nothing.
func New(doc *openapi3.T) (*Validator, error) {
	if err := doc.Validate(context.Background()); err != nil {
		return nil, fmt.Errorf("contract: openapi document is invalid: %w", err)
	}
	doc.Servers = nil
	doc.Security = nil
	for _, item := range doc.Paths.Map() {
		for _, op := range item.Operations() {
			op.Security = nil
		}
	}
	router, err := newRouter(doc)
	if err != nil {
		return nil, err
	}
	v := &Validator{
		router: router,
		options: &openapi3filter.Options{
			MultiError:              true,
			KeepValidatedValue:      true,
			SchemaValidationOptions: append(FormatOptions(), openapi3.DisableSchemaErrorDetails()),
		},
		queryParams: map[string]map[string]bool{},
		queryFold:   map[string]map[string]string{},
		bodies:      map[string]*openapi3.Schema{},
		params:      map[string]*paramChecks{},
	}
	noBody := *v.options
	noBody.ExcludeRequestBody = true
	v.noBody = &noBody
	for _, p := range router.paths {
		for _, route := range p.byMethod {
			if pc := compileParams(route); pc != nil {
				v.params[route.Operation.OperationID] = pc
			}
		}
	}
	for _, item := range doc.Paths.Map() {
		for _, op := range item.Operations() {
			names := map[string]bool{}
			for _, p := range append(item.Parameters, op.Parameters...) {
				if p.Value != nil && p.Value.In == openapi3.ParameterInQuery {
					names[p.Value.Name] = true
				}
			}
			v.queryParams[op.OperationID] = names
			v.queryFold[op.OperationID] = foldIndex(names)
			if rb := op.RequestBody; rb != nil && rb.Value != nil {
				if mt := rb.Value.Content.Get("application/json"); mt != nil && mt.Schema != nil {
					v.bodies[op.OperationID] = mt.Schema.Value
				}
			}
		}
	}
	return v, nil
}

// Result is what Validate found out about a request.
type Result struct {
	// OperationID is the operation the request matched; empty when it matched none.
	OperationID string
	// PathParams are the path parameters of the matched route.
	PathParams map[string]string
	// Violations are every way the request breaks the contract, headers first, then path, query
	// and body. The server answers with the first.
	Violations []Violation
	// Notes are the names accepted in another spelling than the contract's (`Email` for `email`).
	Notes []Note
}

// Validate checks r against the contract. It reads r's body and leaves it readable, carrying the
// validated value for the generated handler (so the body is decoded once). Defaults of the contract
// are filled into r's query and body.
func (v *Validator) Validate(ctx context.Context, r *http.Request) Result {
	route, pathParams, err := v.router.find(r)
	if err != nil {
		problem := "no operation has this path and method"
		if errors.Is(err, routers.ErrMethodNotAllowed) {
			problem = "no operation has this method on this path"
		}
		return Result{Violations: []Violation{{Code: codes.E404, Where: "request " + r.Method + " " + r.URL.Path, Problem: problem}}}
	}
	// The router hands path parameters over as they were sent; the contract's patterns apply to
	// their decoded value (an Auth0 id `auth0|abc` arrives as `auth0%7Cabc`).
	for name, raw := range pathParams {
		decoded, err := url.PathUnescape(raw)
		if err != nil {
			return Result{OperationID: route.Operation.OperationID, Violations: []Violation{{Code: codes.E400_00, Where: "path parameter " + name, Problem: "is not validly escaped"}}}
		}
		pathParams[name] = decoded
	}
	res := Result{OperationID: route.Operation.OperationID, PathParams: pathParams}
	// url.Values drops the pairs it cannot parse: `?email=nobody%ZZ@x` would become no filter at
	// all, and a Get By Email would list every user. A query that does not parse is refused.
	query, err := url.ParseQuery(r.URL.RawQuery)
	if err != nil {
		res.Violations = append(res.Violations, Violation{Code: codes.E400_00, Where: "query", Problem: "is not a valid query string"})
		return res
	}
	op := route.Operation.OperationID
	renamed, notes, clashes := foldQuery(v.queryParams[op], v.queryFold[op], query)
	if renamed {
		// The generated handlers bind the query by the contract's names.
		r.URL.RawQuery = query.Encode()
	}
	res.Notes = notes
	res.Violations = append(res.Violations, clashes...)
	res.Violations = append(res.Violations, v.unknownQueryParams(op, query)...)
	options := v.options
	if schema := v.bodies[op]; schema != nil && isJSON(r) {
		notes, vs := prepareBody(r, schema)
		res.Notes = append(res.Notes, notes...)
		if len(vs) > 0 {
			res.Violations = append(res.Violations, vs...)
			options = v.noBody
		}
	}
	// A request with every parameter valid skips openapi3filter (see paramChecks); any other is
	// checked and its violations worded by openapi3filter, as before.
	if pc := v.params[op]; pc == nil || len(res.Violations) > 0 || !pc.accept(r, pathParams, query) {
		input := &openapi3filter.RequestValidationInput{
			Request:    r,
			PathParams: pathParams,
			Route:      route,
			Options:    options,
		}
		if err := openapi3filter.ValidateRequest(ctx, input); err != nil {
			res.Violations = append(res.Violations, fromError(err)...)
		}
	}
	if len(res.Violations) == 0 {
		res.Violations = append(res.Violations, operationRules(res.OperationID, r)...)
	}
	sortViolations(res.Violations)
	return res
}

// unknownQueryParams refuses query parameters the operation does not declare, so that a typo such
// as `emial=` is not silently turned into "list every user".
func (v *Validator) unknownQueryParams(operationID string, query url.Values) []Violation {
	known := v.queryParams[operationID]
	var names []string
	for name := range query {
		if !known[name] {
			names = append(names, name)
		}
	}
	if len(names) == 0 {
		return nil
	}
	sort.Strings(names)
	out := make([]Violation, 0, len(names))
	for _, name := range names {
		out = append(out, Violation{Code: codes.E400_00, Where: "query parameter " + safeName(name), Problem: "is not a known parameter"})
	}
	return out
}

func safeName(name string) string {
	if printable.MatchString(name) && !strings.ContainsAny(name, `"\`) {
		return name
	}
	return fmt.Sprintf("%q", truncate(name, 40))
}

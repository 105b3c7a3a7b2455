package contract

import (
	"fmt"
	"net/http"
	"strings"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/routers"
)

// router finds the operation a request is for. It matches as kin-openapi's gorillamux router
// does (the escaped path; paths tried in openapi3's matching order, literal ones first; the first
// path that matches decides, so a wrong method on it is "method not allowed"), without its cost:
// gorillamux tries one regular expression per path in turn and allocated a route per request,
// about a sixth of the service's CPU on a GET by id. The contract's paths need no regular
// expression: every parameter is a whole segment.
type router struct {
	paths []pathRoute
}

type pathRoute struct {
	// segments of the template after the leading slash; "" where a parameter is.
	segments []string
	// params names the parameter at each segment ("" for literal segments).
	params []string
	// byMethod holds the route of each operation of the path, built once.
	byMethod map[string]*routers.Route
}

func newRouter(doc *openapi3.T) (*router, error) {
	r := &router{}
	for _, path := range doc.Paths.InMatchingOrder() {
		item := doc.Paths.Value(path)
		if !strings.HasPrefix(path, "/") {
			return nil, fmt.Errorf("contract: path %q does not start with /", path)
		}
		p := pathRoute{byMethod: map[string]*routers.Route{}}
		for _, seg := range strings.Split(path[1:], "/") {
			name, isParam := strings.CutPrefix(seg, "{")
			if isParam {
				name, isParam = strings.CutSuffix(name, "}")
			}
			switch {
			case isParam && name != "" && !strings.ContainsAny(name, "{}"):
				p.segments = append(p.segments, "")
				p.params = append(p.params, name)
			case strings.ContainsAny(seg, "{}") || seg == "":
				// A parameter inside a segment (`/a{b}`) would need a regular expression.
				return nil, fmt.Errorf("contract: path %q: segment %q is neither literal nor one whole parameter", path, seg)
			default:
				p.segments = append(p.segments, seg)
				p.params = append(p.params, "")
			}
		}
		for method, op := range item.Operations() {
			p.byMethod[method] = &routers.Route{Spec: doc, Path: path, PathItem: item, Method: method, Operation: op}
		}
		r.paths = append(r.paths, p)
	}
	return r, nil
}

// find returns the route of r's method and path and its path parameters, as sent (escaped).
// The route is shared: callers must not change it.
func (rt *router) find(r *http.Request) (*routers.Route, map[string]string, error) {
	path := r.URL.EscapedPath()
	if !strings.HasPrefix(path, "/") {
		return nil, nil, routers.ErrPathNotFound
	}
	rest := path[1:]
	n := strings.Count(rest, "/") + 1
	for i := range rt.paths {
		p := &rt.paths[i]
		if len(p.segments) != n || !p.matches(rest) {
			continue
		}
		route, ok := p.byMethod[r.Method]
		if !ok {
			return nil, nil, routers.ErrMethodNotAllowed
		}
		params := make(map[string]string, len(p.params))
		seg := rest
		for _, name := range p.params {
			value, next, _ := strings.Cut(seg, "/")
			if name != "" {
				params[name] = value
			}
			seg = next
		}
		return route, params, nil
	}
	return nil, nil, routers.ErrPathNotFound
}

// matches reports whether rest (the escaped path after its leading slash, with as many segments
// as p) fits p: literal segments equal, parameter segments not empty.
func (p *pathRoute) matches(rest string) bool {
	for _, want := range p.segments {
		seg, next, _ := strings.Cut(rest, "/")
		if want == "" {
			if seg == "" {
				return false
			}
		} else if seg != want {
			return false
		}
		rest = next
	}
	return true
}

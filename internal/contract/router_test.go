package contract

import (
	"errors"
	"maps"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/routers"
	"github.com/getkin/kin-openapi/routers/gorillamux"
)

func loadRouter(t *testing.T) (*openapi3.T, *router) {
	t.Helper()
	doc, err := Load()
	if err != nil {
		t.Fatal(err)
	}
	doc.Servers = nil
	r, err := newRouter(doc)
	if err != nil {
		t.Fatal(err)
	}
	return doc, r
}

func TestRouterFindsTheOperation(t *testing.T) {
	_, rt := loadRouter(t)
	const id = "3f6f8b1e-2c4d-4f3a-9d7e-1a2b3c4d5e6f"
	cases := []struct {
		method, target string
		operation      string // "" when err is set
		params         map[string]string
		err            error
	}{
		{http.MethodGet, "/v4/Users/" + id, "getUserById", map[string]string{"customerRegistrationId": id}, nil},
		{http.MethodPut, "/v4/Users/" + id, "updateUser", map[string]string{"customerRegistrationId": id}, nil},
		{http.MethodGet, "/v4/Users?email=a%40b.example", "getUsers", map[string]string{}, nil},
		{http.MethodPost, "/v4/Users", "createUser", map[string]string{}, nil},
		{http.MethodPatch, "/v4/Users/" + id + "/Password", "updatePassword", map[string]string{"customerRegistrationId": id}, nil},
		{http.MethodGet, "/v4/Users/" + id + "/Events", "getUserEvents", map[string]string{"customerRegistrationId": id}, nil},
		// A literal path wins over the parameter one, whatever the method.
		{http.MethodPost, "/v4/Users/Authentication", "authenticate", map[string]string{}, nil},
		{http.MethodGet, "/v4/Users/Authentication", "", nil, routers.ErrMethodNotAllowed},
		{http.MethodPost, "/v4/Users/ForgotPassword/Finish", "finishForgotPassword", map[string]string{}, nil},
		// Parameters come as sent; the validator decodes them.
		{http.MethodGet, "/v4/Users/auth0%7Cabc", "getUserById", map[string]string{"customerRegistrationId": "auth0%7Cabc"}, nil},
		{http.MethodDelete, "/v4/Users/" + id, "", nil, routers.ErrMethodNotAllowed},
		{http.MethodGet, "/v4/Users/", "", nil, routers.ErrPathNotFound},
		{http.MethodGet, "/v4/Users//Events", "", nil, routers.ErrPathNotFound},
		{http.MethodGet, "/v4/users/" + id, "", nil, routers.ErrPathNotFound},
		{http.MethodGet, "/v4/Users/a/b/c", "", nil, routers.ErrPathNotFound},
		{http.MethodGet, "/", "", nil, routers.ErrPathNotFound},
	}
	for _, c := range cases {
		t.Run(c.method+" "+c.target, func(t *testing.T) {
			route, params, err := rt.find(httptest.NewRequest(c.method, c.target, nil))
			if !errors.Is(err, c.err) || (c.err == nil) != (err == nil) {
				t.Fatalf("error %v, want %v", err, c.err)
			}
			if c.err != nil {
				return
			}
			if route.Operation.OperationID != c.operation || route.Method != c.method {
				t.Errorf("operation %s %s, want %s %s", route.Method, route.Operation.OperationID, c.method, c.operation)
			}
			if !maps.Equal(params, c.params) {
				t.Errorf("params %v, want %v", params, c.params)
			}
		})
	}
}

// TestRouterAgreesWithGorillamux checks the router against the kin-openapi router it replaced, on
// every path of the contract and on paths near them, with every method.
func TestRouterAgreesWithGorillamux(t *testing.T) {
	doc, rt := loadRouter(t)
	oracle, err := gorillamux.NewRouter(doc)
	if err != nil {
		t.Fatal(err)
	}
	fill := []string{"x", "Authentication", "auth0%7Cabc", "%2F", "a.b", "Users", "ForgotPassword"}
	var targets []string
	for _, path := range doc.Paths.InMatchingOrder() {
		for _, v := range fill {
			targets = append(targets, replaceParams(path, v), replaceParams(path, v)+"/", replaceParams(path, v)+"/"+v)
		}
	}
	targets = append(targets, "/", "/v4", "/v4/", "/v4/Users/", "/v4/Users//", "/V4/Users", "/v4/Users/x/Password/x")
	methods := []string{http.MethodGet, http.MethodPost, http.MethodPut, http.MethodPatch, http.MethodDelete, http.MethodHead, http.MethodOptions}
	for _, target := range targets {
		for _, method := range methods {
			r := httptest.NewRequest(method, target, nil)
			gotRoute, gotParams, gotErr := rt.find(r)
			wantRoute, wantParams, wantErr := oracle.FindRoute(r)
			if !errors.Is(gotErr, wantErr) && gotErr != wantErr {
				t.Errorf("%s %s: error %v, gorillamux %v", method, target, gotErr, wantErr)
				continue
			}
			if wantErr != nil {
				continue
			}
			if gotRoute.Operation != wantRoute.Operation || gotRoute.Path != wantRoute.Path || gotRoute.Method != wantRoute.Method {
				t.Errorf("%s %s: route %s %s, gorillamux %s %s", method, target, gotRoute.Method, gotRoute.Path, wantRoute.Method, wantRoute.Path)
			}
			if !maps.Equal(gotParams, wantParams) {
				t.Errorf("%s %s: params %v, gorillamux %v", method, target, gotParams, wantParams)
			}
		}
	}
}

func replaceParams(path, value string) string {
	out := []byte{}
	for i := 0; i < len(path); i++ {
		if path[i] == '{' {
			for i < len(path) && path[i] != '}' {
				i++
			}
			out = append(out, value...)
			continue
		}
		out = append(out, path[i])
	}
	return string(out)
}

func TestNewRouterRefusesPathsItCannotMatch(t *testing.T) {
	for _, path := range []string{"/v4/a{b}", "/v4//x", "/v4/{}", "v4/x"} {
		doc := &openapi3.T{Paths: openapi3.NewPaths(openapi3.WithPath(path, &openapi3.PathItem{Get: &openapi3.Operation{}}))}
		if _, err := newRouter(doc); err == nil {
			t.Errorf("%q: no error", path)
		}
	}
}

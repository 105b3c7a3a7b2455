package contract

import (
	"net/http"
	"net/url"
	"strings"

	"usersorchestrator/internal/codes"
)

// The rules openapi.yaml states in prose because OpenAPI 3.0 cannot express them, by operation.
// They run on requests that passed the schema checks, on the validated body.

// Operation ids the rules are attached to; contract_test.go checks they exist in openapi.yaml.
const (
	opGetUsers     = "getUsers"
	opCreateUser   = "createUser"
	opUpdateUser   = "updateUser"
	opAuthenticate = "authenticate"
)

func operationRules(operationID string, r *http.Request) []Violation {
	body, _ := validatedBody(r)
	if vs := nulRules(r, body); len(vs) > 0 {
		return vs
	}
	switch operationID {
	case opGetUsers:
		return getUsersRules(r)
	case opCreateUser:
		return metadataRules(body)
	case opUpdateUser:
		return append(metadataRules(body), updateUserRules(body)...)
	case opAuthenticate:
		return authenticateRules(body)
	}
	return nil
}

func validatedBody(r *http.Request) (map[string]any, bool) {
	vb, ok := r.Body.(interface{ ValidatedValue() any })
	if !ok {
		return nil, false
	}
	m, ok := vb.ValidatedValue().(map[string]any)
	return m, ok
}

func metadataRules(body map[string]any) []Violation {
	md, ok := body[metadataField].(map[string]any)
	if !ok {
		return nil
	}
	return CheckMetadataKeys(md)
}

// Selectors of GET /v4/Users that find one user. `email` alone is a selector too, but it doubles as
// a search filter, so it may be combined with the other filters.
var (
	userSelectors = []string{"encryptedEmail", "encryptedCustomerRegistrationId", "token"}
	searchFilters = []string{"customerRegistrationId", "email", "firstName", "lastName", "verified", "state"}
)

func getUsersRules(r *http.Request) []Violation {
	q := r.URL.Query()
	present := func(names []string) []string {
		var out []string
		for _, n := range names {
			if q.Has(n) {
				out = append(out, n)
			}
		}
		return out
	}
	selectors, filters := present(userSelectors), present(searchFilters)
	switch {
	case len(selectors) > 1:
		return []Violation{{Code: codes.E400_00, Where: "query", Problem: "send only one of " + strings.Join(selectors, ", ")}}
	case len(selectors) == 1 && len(filters) > 0:
		return []Violation{{Code: codes.E400_00, Where: "query parameter " + selectors[0], Problem: "cannot be combined with the search filters " + strings.Join(filters, ", ")}}
	}
	return nil
}

func updateUserRules(body map[string]any) []Violation {
	if remove, _ := body["removeLastLogoutDate"].(bool); remove {
		if _, ok := body["lastLogoutDate"]; ok {
			return []Violation{{Code: codes.E400_00, Where: "body.removeLastLogoutDate", Problem: "cannot be combined with lastLogoutDate"}}
		}
	}
	return nil
}

// authenticateRules: a token, or loginName and password, or all three as the published example
// sends them (the token then takes precedence: the workflow checks it and ignores the others).
// An empty token is no token: a form that sends every field of the published model sends one.
func authenticateRules(body map[string]any) []Violation {
	_, login := body["loginName"]
	_, password := body["password"]
	token := body["token"] != nil && body["token"] != ""
	switch {
	case token, login && password:
		return nil
	case login:
		return []Violation{{Code: codes.E400_00, Where: "body.password", Problem: "is required with loginName"}}
	case password:
		return []Violation{{Code: codes.E400_00, Where: "body.loginName", Problem: "is required with password"}}
	}
	return []Violation{{Code: codes.E400_00, Where: "body", Problem: "send a token, or loginName and password"}}
}

// nulRules refuses NUL characters anywhere in the query or the body: no field has a use for them,
// and PostgreSQL cannot store them (SQLite can), so they would otherwise fail on one backend only.
// queryOf parses a raw query as URL.Query does (the pairs that do not parse dropped); empty for "".
func queryOf(raw string) url.Values {
	if raw == "" {
		return nil
	}
	q, _ := url.ParseQuery(raw)
	return q
}

func nulRules(r *http.Request, body map[string]any) []Violation {
	var out []Violation
	// A NUL reaches a value only as %00 (a raw one does not get through the URL parser): a query
	// without it is not parsed again.
	raw := r.URL.RawQuery
	if !strings.Contains(raw, "%00") && !strings.ContainsRune(raw, 0) {
		raw = ""
	}
	for name, vals := range queryOf(raw) {
		for _, v := range vals {
			if strings.ContainsRune(v, 0) {
				out = append(out, Violation{Code: codes.E400_00, Where: "query parameter " + safeName(name), Problem: "must not contain NUL characters"})
			}
		}
	}
	var walk func(path []string, v any)
	walk = func(path []string, v any) {
		switch x := v.(type) {
		case string:
			if strings.ContainsRune(x, 0) {
				out = append(out, Violation{Code: bodyCode(path, ""), Where: bodyWhere(path), Problem: "must not contain NUL characters"})
			}
		case map[string]any:
			for k, inner := range x {
				if strings.ContainsRune(k, 0) {
					out = append(out, Violation{Code: bodyCode(append(path, ""), ""), Where: bodyWhere(path), Problem: "a key must not contain NUL characters"})
					continue
				}
				walk(append(append([]string(nil), path...), k), inner)
			}
		}
	}
	walk(nil, body)
	return out
}

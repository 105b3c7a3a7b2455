//go:build e2e

package e2e

import (
	"maps"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"usersorchestrator/internal/codes"
	"usersorchestrator/internal/config"
)

// apiUser is the User of the contract, decoded loosely.
type apiUser struct {
	CustomerRegistrationID          string            `json:"customerRegistrationId"`
	EncryptedCustomerRegistrationID string            `json:"encryptedCustomerRegistrationId"`
	Email                           string            `json:"email"`
	FirstName                       *string           `json:"firstName"`
	LastName                        *string           `json:"lastName"`
	Metadata                        map[string]string `json:"metadata"`
	State                           string            `json:"state"`
	Verified                        bool              `json:"verified"`
	AddSource                       *string           `json:"addSource"`
	ChangeSource                    *string           `json:"changeSource"`
	LastLogoutDate                  *time.Time        `json:"lastLogoutDate"`
}

type userList struct {
	Users []apiUser `json:"users"`
}

type cookieToken struct {
	Name         string `json:"name"`
	Content      string `json:"content"`
	DurationDays string `json:"durationDays"`
}

type authResult struct {
	User         apiUser       `json:"user"`
	CookieTokens []cookieToken `json:"cookieTokens"`
}

func deref(s *string) string {
	if s == nil {
		return "<null>"
	}
	return *s
}

// expectUser compares the fields of a user the tests care about.
func expectUser(t testing.TB, got apiUser, id, email, first, last string, md map[string]string) {
	t.Helper()
	if got.CustomerRegistrationID != id || !strings.EqualFold(got.Email, email) || deref(got.FirstName) != first || deref(got.LastName) != last || !maps.Equal(got.Metadata, md) {
		t.Fatalf("user %s %s %s %s %v, want %s %s %s %s %v", got.CustomerRegistrationID, got.Email, deref(got.FirstName), deref(got.LastName), got.Metadata, id, email, first, last, md)
	}
}

// The user most cases start from.
const (
	janeEmail    = "jane.doe@example.com"
	janePassword = "Passw0rd-e2e"
	newPassword  = "N3w-Passw0rd-e2e"
)

func janeMetadata() map[string]string { return map[string]string{"plan": "basic", "city": "Paris"} }

// providerUser creates Jane through the API with the provider, makes the provider answer GetUser
// with exactly what it was created with (the mocks keep no state), and clears the journal, so
// that a case's journal holds its act only.
func (e *Env) providerUser() pUser {
	e.T.Helper()
	ref := e.create(obj{"email": janeEmail, "password": janePassword, "firstName": "Jane", "lastName": "Doe", "metadata": janeMetadata()})
	if want := e.P.impl.idFor(janeEmail); ref.CustomerRegistrationId != want {
		e.T.Fatalf("%s created id %q, want the id the mock derives: %q", e.P.name, ref.CustomerRegistrationId, want)
	}
	u := pUser{ID: ref.CustomerRegistrationId, Email: janeEmail, First: "Jane", Last: "Doe", Verified: true, Metadata: janeMetadata()}
	e.P.stubAnswer(e.T, pGet, u.ID, &u)
	e.P.clearJournal(e.T)
	return u
}

func (p *Provider) clearJournal(t testing.TB) {
	t.Helper()
	if err := p.srv.Admin.DeleteAllRequests(); err != nil {
		t.Fatalf("%s: clear the journal: %v", p.name, err)
	}
}

// login authenticates and fails unless it answers Subscribe_S200_01.
func (e *Env) login(body obj) authResult {
	e.T.Helper()
	r := e.do("POST", "/v4/Users/Authentication", body)
	expectCode(e.T, r, codes.SubscribeS200_01)
	return data[authResult](e.T, r)
}

func tokenNames(a authResult) []string {
	var names []string
	for _, c := range a.CookieTokens {
		names = append(names, c.Name)
	}
	return names
}

func cookie(a authResult, name string) string {
	for _, c := range a.CookieTokens {
		if c.Name == name {
			return c.Content
		}
	}
	return ""
}

// ---------------------------------------------------------------------------------------------
// Coverage: which operation × ignoreProvider combinations ran, per provider (coverage_test.go).

var coverage = struct {
	sync.Mutex
	ran map[string]map[string]bool // provider -> "operationId ignoreProvider=v" -> ran
}{ran: map[string]map[string]bool{}}

func coverKey(op string, ignore bool) string {
	if ignore {
		return op + " ignoreProvider=true"
	}
	return op + " ignoreProvider=false"
}

// covers records that the running case exercises op with ignoreProvider=ignore for p.
func covers(t *testing.T, p *Provider, op string, ignore bool) {
	t.Cleanup(func() {
		if t.Skipped() {
			return
		}
		coverage.Lock()
		defer coverage.Unlock()
		if coverage.ran[p.name] == nil {
			coverage.ran[p.name] = map[string]bool{}
		}
		coverage.ran[p.name][coverKey(op, ignore)] = true
	})
}

// ---------------------------------------------------------------------------------------------
// Table-driven cases, run for every provider.

// opCase is one case: it starts its own service and resets its provider's WireMock.
type opCase struct {
	name string
	// op and ignore name the operation (operationId) and ignoreProvider value the case exercises;
	// op "" for cases that do not count for coverage. More pairs go in also.
	op     string
	ignore bool
	also   []cover
	// only restricts the case to these providers (nil: all).
	only []string
	// slow: the case is about an answer slower than the timeout; its tenants' timeout is slowTimeout.
	slow bool
	run  func(t *testing.T, env *Env, p *Provider)
}

type cover struct {
	op     string
	ignore bool
}

// runCases runs the cases for every provider, the providers in parallel.
func runCases(t *testing.T, cases []opCase) {
	t.Helper()
	eachProvider(t, func(t *testing.T, p *Provider) {
		for _, c := range cases {
			if c.only != nil && !slices.Contains(c.only, p.name) {
				continue
			}
			t.Run(c.name, func(t *testing.T) {
				if c.op != "" {
					covers(t, p, c.op, c.ignore)
				}
				for _, a := range c.also {
					covers(t, p, a.op, a.ignore)
				}
				var mods []func(*config.Tenant)
				if c.slow {
					mods = append(mods, slow)
				}
				env := start(t, p, mods...)
				c.run(t, env, p)
			})
		}
	})
}

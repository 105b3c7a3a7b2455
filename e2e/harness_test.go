//go:build e2e

// Package e2e is the end-to-end suite of the Users Orchestrator: the real service (app.Run through
// internal/apitest, a fresh SQLite store and SMTP sink per case, every response checked against
// openapi.yaml) in front of one WireMock 3.13.2 per identity provider, started once per test
// binary from mocks/<provider>/ by internal/testkit/wiremock (Docker containers with host
// networking by default, UO_WIREMOCK_MODE=jar without Docker).
//
//	TESTCONTAINERS_RYUK_DISABLED=true go test -tags e2e -count=1 ./e2e/...
//
// Every test runs its cases once per provider (auth0, gigya, ssor, firefly). The providers' cases
// run in parallel with each other, one case at a time per provider: a case resets its provider's
// WireMock (go-wiremock Reset: the file stubs come back, the journal and scenarios are cleared)
// and starts its own service, so what a case asserts about the journal and the store is its own.
package e2e

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"os"
	"slices"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	gowiremock "github.com/wiremock/go-wiremock"
	"github.com/wiremock/go-wiremock/journal"

	"usersorchestrator/gen/client"
	"usersorchestrator/internal/apitest"
	"usersorchestrator/internal/codes"
	"usersorchestrator/internal/config"
	"usersorchestrator/internal/mail/mailtest"
	"usersorchestrator/internal/provider"
	"usersorchestrator/internal/provider/auth0"
	"usersorchestrator/internal/provider/firefly"
	"usersorchestrator/internal/provider/gigya"
	"usersorchestrator/internal/provider/httpx"
	"usersorchestrator/internal/provider/ssor"
	"usersorchestrator/internal/registration"
	"usersorchestrator/internal/tenant"
	"usersorchestrator/internal/testkit/wiremock"
)

// ---------------------------------------------------------------------------------------------
// Process-wide WireMocks

// mocks owns the WireMocks: they live for the whole test binary, longer than any test, so
// TestMain starts and stops them.
var mocks wiremock.Process

func TestMain(m *testing.M) {
	code := run(m)
	os.Exit(code)
}

func run(m *testing.M) int {
	defer func() { _ = mocks.Close() }() // stops them on an early return; a no-op after the Close below
	start := time.Now()
	var wg sync.WaitGroup
	errs := make([]error, len(providers))
	for i, p := range providers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			srv, err := mocks.Start("../mocks/" + p.name)
			if err != nil {
				errs[i] = fmt.Errorf("%s: %w", p.name, err)
				return
			}
			p.srv = srv
		}()
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		fmt.Fprintf(os.Stderr, "e2e: starting the WireMocks failed:\n%v\n%s", err, mocks.Log())
		return 1
	}
	fmt.Fprintf(os.Stderr, "e2e: %d WireMocks ready in %s\n", len(providers), time.Since(start).Round(time.Millisecond))
	start = time.Now()
	for i, p := range providers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := warmUp(p); err != nil {
				errs[i] = fmt.Errorf("%s: warm-up: %w", p.name, err)
			}
		}()
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		fmt.Fprintf(os.Stderr, "e2e: %v\n", err)
		return 1
	}
	fmt.Fprintf(os.Stderr, "e2e: WireMocks warmed up in %s\n", time.Since(start).Round(time.Millisecond))
	// A case mostly waits (on WireMock, on SQLite, on the providers' timeouts in the fault tests):
	// the four providers' cases run at once, not GOMAXPROCS (2 here) at a time.
	wiremock.MinParallel(len(providers))
	code := m.Run()
	if err := mocks.Close(); err != nil { // a failure to stop one fails the run
		fmt.Fprintf(os.Stderr, "e2e: %v\n", err)
		if code == 0 {
			code = 1
		}
	}
	return code
}

// ---------------------------------------------------------------------------------------------
// Tenants and the service

const (
	paperCode       = "e2e"
	clientGroupCode = "e2e"
	returnURL       = "https://e2e.example/account"
	// providerTimeout is each provider call's timeout.
	providerTimeout = 2 * time.Second
	// slowTimeout is the provider timeout of the cases about an answer slower than the timeout
	// (fault.slow, opCase.slow; started with slow): they wait for it once per attempt, and what they assert (E503, one retry or none,
	// the events, nothing written) is the same at any timeout. It stays far above what the case's
	// other calls take on a warm WireMock (milliseconds) on a loaded machine; the delays they
	// inject exceed it.
	slowTimeout = 750 * time.Millisecond
	// providerRetries is how often an idempotent provider call is retried.
	providerRetries = 1
	noProvider      = "none"
)

func tenantKey(clientCode string) tenant.Key {
	return tenant.Key{ClientCode: clientCode, PaperCode: paperCode, ClientGroupCode: clientGroupCode}
}

func baseTenant(clientCode string) config.Tenant {
	return config.Tenant{
		ClientCode: clientCode, PaperCode: paperCode, ClientGroupCode: clientGroupCode,
		Name:               "E2E " + clientCode,
		SessionDays:        30,
		DefaultReturnURL:   returnURL,
		AllowedReturnHosts: []string{"e2e.example"},
		MailFrom:           "E2E <no-reply@e2e.example>",
	}
}

// tenants is the five tenants, the one named first (its headers are the env's default).
func tenants(first string) []config.Tenant {
	var out []config.Tenant
	for _, p := range providers {
		t := baseTenant(p.name)
		t.Provider, t.BaseURL, t.Timeout, t.MaxRetries = p.flow, p.srv.URL, providerTimeout, providerRetries
		p.impl.configure(&t)
		out = append(out, t)
	}
	out = append(out, baseTenant(noProvider))
	slices.SortStableFunc(out, func(a, b config.Tenant) int {
		switch {
		case a.ClientCode == first:
			return -1
		case b.ClientCode == first:
			return 1
		}
		return 0
	})
	return out
}

// slow gives a case's tenant slowTimeout (start's mods).
func slow(t *config.Tenant) { t.Timeout = slowTimeout }

// Env is the service of one case and the provider its default tenant uses (nil for none).
type Env struct {
	*apitest.Env
	T testing.TB
	P *Provider
}

// start runs a fresh service for one case, with p's tenant (or the one without a provider) as the
// default, changed by mods (a wrong credential, a shorter timeout), and resets every WireMock the
// case may touch.
func start(t *testing.T, p *Provider, mods ...func(*config.Tenant)) *Env {
	t.Helper()
	name := noProvider
	if p != nil {
		name = p.name
		p.reset(t)
	}
	ts := tenants(name)
	for _, mod := range mods {
		mod(&ts[0])
	}
	env := apitest.Start(t, apitest.WithTenants(ts...))
	if p != nil {
		// Every request the service sent must be one the provider's contract has: a request no
		// stub matches means the adapter and the mocks disagree.
		t.Cleanup(func() {
			if !t.Failed() {
				p.expectAllMatched(t)
			}
		})
	}
	return &Env{Env: env, T: t, P: p}
}

// eachProvider runs f once per provider, the providers in parallel, each under its own lock.
func eachProvider(t *testing.T, f func(t *testing.T, p *Provider)) {
	t.Helper()
	for _, p := range providers {
		t.Run(p.name, func(t *testing.T) {
			t.Parallel()
			p.mu.Lock()
			defer p.mu.Unlock()
			f(t, p)
		})
	}
}

// ---------------------------------------------------------------------------------------------
// Calls

// Reply is a response as a test looks at it.
type Reply struct {
	Status int
	apitest.Envelope
}

// do sends a raw JSON request through the checking client, with the default tenant's headers.
func (e *Env) do(method, path string, body any) Reply {
	e.T.Helper()
	var s string
	switch b := body.(type) {
	case nil:
	case string:
		s = b
	default:
		raw, err := json.Marshal(b)
		if err != nil {
			e.T.Fatal(err)
		}
		s = string(raw)
	}
	status, env, _ := e.Do(method, path, s)
	return Reply{Status: status, Envelope: env}
}

// expectCode fails the test unless r answers code with the catalogued status and text.
func expectCode(t testing.TB, r Reply, code codes.Code) {
	t.Helper()
	text := r.Message.Text == code.Text()
	if head, ok := strings.CutSuffix(code.Text(), "{Message}"); ok { // completed with the detail
		text = strings.HasPrefix(r.Message.Text, head) && len(r.Message.Text) > len(head)
	}
	if r.Message.Code != string(code) || r.Status != code.Status() || !text {
		t.Fatalf("answer %d %s %q, want %d %s %q\nbody: %s", r.Status, r.Message.Code, r.Message.Text, code.Status(), code, code.Text(), r.Raw)
	}
	wantType := "Error"
	if code.IsSuccess() {
		wantType = "Success"
	}
	if r.Message.Type != wantType {
		t.Fatalf("message type %q, want %q", r.Message.Type, wantType)
	}
}

// data decodes r's data into v.
func data[T any](t testing.TB, r Reply) T {
	t.Helper()
	var v T
	if err := json.Unmarshal(r.Data, &v); err != nil {
		t.Fatalf("decode data %s: %v", r.Data, err)
	}
	return v
}

// ptr returns a pointer to v.
func ptr[T any](v T) *T { return &v }

type obj = map[string]any

func q(kv ...string) string {
	v := url.Values{}
	for i := 0; i+1 < len(kv); i += 2 {
		v.Set(kv[i], kv[i+1])
	}
	return "?" + v.Encode()
}

func userPath(id string, suffix ...string) string {
	return "/v4/Users/" + url.PathEscape(id) + strings.Join(suffix, "")
}

// create creates a user through the API and fails unless it answers S200_06.
func (e *Env) create(body obj) client.UserReference {
	e.T.Helper()
	r := e.do("POST", "/v4/Users", body)
	expectCode(e.T, r, codes.S200_06)
	return data[client.UserReference](e.T, r)
}

// localUser creates a Subscribe-only user (ignoreProvider=true) with a password.
func (e *Env) localUser(email, password string, extra obj) client.UserReference {
	e.T.Helper()
	body := obj{"email": email, "password": password, "ignoreProvider": true}
	for k, v := range extra {
		body[k] = v
	}
	return e.create(body)
}

// ---------------------------------------------------------------------------------------------
// The store and the events

// reg reads a registration from the store; ok is false when there is none.
func (e *Env) reg(crid string) (registration.Registration, bool) {
	e.T.Helper()
	r, err := e.Store.Get(context.Background(), e.Tenant, crid)
	if errors.Is(err, registration.ErrNotFound) {
		return r, false
	}
	if err != nil {
		e.T.Fatalf("store get %s: %v", crid, err)
	}
	return r, true
}

// regByEmail reads a registration by email; ok is false when there is none.
func (e *Env) regByEmail(email string) (registration.Registration, bool) {
	e.T.Helper()
	r, err := e.Store.GetByEmail(context.Background(), e.Tenant, email)
	if errors.Is(err, registration.ErrNotFound) {
		return r, false
	}
	if err != nil {
		e.T.Fatalf("store get by email %s: %v", email, err)
	}
	return r, true
}

// countRegs counts the default tenant's registrations.
func (e *Env) countRegs() int64 {
	e.T.Helper()
	_, n, err := e.Store.Search(context.Background(), e.Tenant, registration.Query{Limit: 1})
	if err != nil {
		e.T.Fatal(err)
	}
	return n
}

// ev formats an event as the tests compare them: "CODE id Outcome crid".
func ev(code string, id int, outcome, crid string) string {
	return fmt.Sprintf("%s %d %s %s", code, id, outcome, crid)
}

// events lists the events the store recorded for the default tenant about these users (and "" for
// the steps no user was known for yet), in the order they were recorded.
func (e *Env) events(crids ...string) []string {
	e.T.Helper()
	// Standalone events are written off the request path; make the ones of earlier calls visible.
	if err := e.FlushEvents(context.Background()); err != nil {
		e.T.Fatalf("flush events: %v", err)
	}
	var all []registration.Event
	seen := map[string]bool{}
	for _, c := range append(crids, "") {
		if seen[c] {
			continue
		}
		seen[c] = true
		evs, _, err := e.Store.ListEvents(context.Background(), e.Tenant, c, 1000, 0)
		if err != nil {
			e.T.Fatalf("list events of %q: %v", c, err)
		}
		all = append(all, evs...)
	}
	sort.Slice(all, func(i, j int) bool { return all[i].ID < all[j].ID })
	out := make([]string, 0, len(all))
	for _, x := range all {
		out = append(out, ev(x.TypeCode, x.TypeID, x.Outcome, x.CustomerRegistrationID))
	}
	return out
}

// eventsSince is events without the first n (the ones an arrange step recorded).
func (e *Env) eventsSince(n int, crids ...string) []string {
	e.T.Helper()
	all := e.events(crids...)
	if n > len(all) {
		e.T.Fatalf("%d events, fewer than the %d before", len(all), n)
	}
	return all[n:]
}

// withoutUser drops the customerRegistrationId from formatted events.
func withoutUser(evs []string) []string {
	out := make([]string, 0, len(evs))
	for _, e := range evs {
		f := strings.Fields(e)
		out = append(out, strings.Join(f[:min(3, len(f))], " "))
	}
	return out
}

// expectEvents compares recorded events with the wanted ones, in order.
func expectEvents(t testing.TB, got, want []string) {
	t.Helper()
	if !slices.Equal(got, want) {
		t.Fatalf("events:\n  got  %s\n  want %s", strings.Join(got, "\n       "), strings.Join(want, "\n       "))
	}
}

// apiEvents lists a user's events through GET /v4/Users/{id}/Events, oldest first, as
// "CODE id Outcome".
func (e *Env) apiEvents(crid string) []string {
	e.T.Helper()
	r := e.do("GET", userPath(crid, "/Events")+q("pageSize", "100"), nil)
	expectCode(e.T, r, codes.S200_01)
	list := data[client.EventList](e.T, r)
	out := make([]string, 0, len(list.Events))
	for i := len(list.Events) - 1; i >= 0; i-- {
		x := list.Events[i]
		out = append(out, fmt.Sprintf("%s %d %s", x.EventTypeCode, x.EventTypeId, x.Outcome))
	}
	return out
}

// mail waits for a message to addr whose subject contains subject.
func (e *Env) mail(addr, subject string) string {
	e.T.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		for _, m := range slices.Backward(e.Mail.Messages()) {
			if slices.ContainsFunc(m.To, func(a string) bool { return strings.EqualFold(a, addr) }) && strings.Contains(m.Subject, subject) {
				return m.Body
			}
		}
		if time.Now().After(deadline) {
			var got []string
			for _, m := range e.Mail.Messages() {
				got = append(got, fmt.Sprintf("%v %q", m.To, m.Subject))
			}
			e.T.Fatalf("no email to %s about %q within 10s; got %v", addr, subject, got)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// mailsTo counts the messages to addr received so far.
func (e *Env) mailsTo(addr string) int {
	n := 0
	for _, m := range e.Mail.Messages() {
		if slices.ContainsFunc(m.To, func(a string) bool { return strings.EqualFold(a, addr) }) {
			n++
		}
	}
	return n
}

// linkParam finds the value of a query parameter in the links of a mail body.
func linkParam(t testing.TB, body, param string) string {
	t.Helper()
	v, ok := apitest.LinkParam(mailtest.Message{Body: body}, param)
	if !ok {
		t.Fatalf("no link with %s in the email:\n%s", param, body)
	}
	return v
}

// ---------------------------------------------------------------------------------------------
// WireMock: stubs and the journal

// Call is one request the provider received, as the tests name it: "get <id>", "create",
// "login"... (Provider.label).
type Call struct {
	Label string
	Req   journal.Request
}

// journal lists the requests p's WireMock received since the case's reset, oldest first, without
// the ones the label function drops (Auth0's Management API token).
func (p *Provider) journal(t testing.TB) []Call {
	t.Helper()
	all, err := p.srv.Admin.GetAllRequests()
	if err != nil {
		t.Fatalf("%s journal: %v", p.name, err)
	}
	reqs := slices.Clone(all.Requests)
	slices.Reverse(reqs) // WireMock lists newest first
	slices.SortStableFunc(reqs, func(a, b journal.GetRequestResponse) int {
		return int(a.Request.LoggedDate - b.Request.LoggedDate)
	})
	var out []Call
	for _, r := range reqs {
		if l := p.impl.label(r.Request); l != "" {
			out = append(out, Call{Label: l, Req: r.Request})
		}
	}
	return out
}

// labels is journal reduced to the labels.
func (p *Provider) labels(t testing.TB) []string {
	t.Helper()
	var out []string
	for _, c := range p.journal(t) {
		out = append(out, c.Label)
	}
	return out
}

// expectCalls compares the provider's journal with the wanted calls, in order.
func (p *Provider) expectCalls(t testing.TB, want ...string) {
	t.Helper()
	// WireMock journals a request when it is done with it: a delayed answer or a reset connection
	// the service already gave up on can land a moment after the service answered. Fewer calls than
	// wanted are given a few seconds to arrive; more, or other, calls fail at once.
	deadline := time.Now().Add(5 * time.Second)
	for {
		got := p.labels(t)
		if slices.Equal(got, want) {
			return
		}
		if len(got) >= len(want) || !slices.Equal(got, want[:len(got)]) || time.Now().After(deadline) {
			t.Fatalf("%s received:\n  got  %q\n  want %q", p.name, got, want)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// expectNoCalls fails if the provider received any request at all (the Management API token
// included): ignoreProvider and provider-free flows must not reach it.
func (p *Provider) expectNoCalls(t testing.TB) {
	t.Helper()
	all, err := p.srv.Admin.GetAllRequests()
	if err != nil {
		t.Fatal(err)
	}
	if len(all.Requests) > 0 {
		var got []string
		for _, r := range all.Requests {
			got = append(got, r.Request.Method+" "+r.Request.URL)
		}
		t.Fatalf("%s received %d requests, want none: %q", p.name, len(all.Requests), got)
	}
}

// verify counts, with go-wiremock's own matching (POST /__admin/requests/count), the requests
// the journal holds that r matches.
func (p *Provider) verify(t testing.TB, r *gowiremock.Request, want int64) {
	t.Helper()
	ok, err := p.srv.Admin.Verify(r, want)
	if err != nil {
		t.Fatalf("%s: verify: %v", p.name, err)
	}
	if !ok {
		n, _ := p.srv.Admin.GetCountRequests(r)
		t.Fatalf("%s: %d requests match %s, want %d (journal %q)", p.name, n, mustJSON(r), want, p.labels(t))
	}
}

func mustJSON(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}

// expectAllMatched fails the test if the provider received a request no stub matched: an adapter or the
// mocks disagree with the contract.
func (p *Provider) expectAllMatched(t testing.TB) {
	t.Helper()
	un, err := p.srv.Admin.FindUnmatchedRequests()
	if err != nil {
		t.Fatal(err)
	}
	if len(un.Requests) > 0 {
		var got []string
		for _, r := range un.Requests {
			got = append(got, r.Method+" "+r.URL+" "+r.Body)
		}
		t.Fatalf("%s: requests no stub matched: %q", p.name, got)
	}
}

func (p *Provider) reset(t testing.TB) {
	t.Helper()
	p.srv.Reset(t)
}

// stub adds a stub for this case (Reset removes it); priority 1 wins over every file stub.
func (p *Provider) stub(t testing.TB, s *gowiremock.StubRule) {
	t.Helper()
	if err := p.srv.Admin.StubFor(s.AtPriority(1)); err != nil {
		t.Fatalf("%s: add stub: %v", p.name, err)
	}
}

// jsonBody is a JSON request body as a map (nil when the body is not JSON).
func jsonBody(r journal.Request) map[string]any {
	var m map[string]any
	_ = json.Unmarshal([]byte(requestBody(r)), &m)
	return m
}

// formBody is a form request body.
func formBody(r journal.Request) url.Values {
	v, _ := url.ParseQuery(requestBody(r))
	return v
}

func requestBody(r journal.Request) string {
	if r.Body != "" {
		return r.Body
	}
	if r.BodyAsBase64 != "" {
		b, err := base64.StdEncoding.DecodeString(r.BodyAsBase64)
		if err == nil {
			return string(b)
		}
	}
	return ""
}

// pathOf is the request's path, unescaped.
func pathOf(r journal.Request) string {
	u, err := url.Parse(r.URL)
	if err != nil {
		return r.URL
	}
	return u.Path
}

func queryOf(r journal.Request) url.Values {
	u, err := url.Parse(r.URL)
	if err != nil {
		return nil
	}
	return u.Query()
}

// header reads a request header, ignoring the case of its name.
func header(r journal.Request, name string) string {
	for k, v := range r.Headers {
		if strings.EqualFold(k, name) {
			return v
		}
	}
	return ""
}

// expectFields compares fields of a request with the wanted values (rendered as strings).
func expectFields(t testing.TB, what string, got map[string]string, want map[string]string) {
	t.Helper()
	for k, w := range want {
		if g, ok := got[k]; !ok || g != w {
			t.Errorf("%s: field %s = %q (present %v), want %q\nall fields: %v", what, k, g, ok, w, got)
		}
	}
}

// warmUp sends every kind of call the suite makes through p's adapter a few times, with a long
// timeout, so that the first cases do not meet a cold JVM (the first requests of a fresh WireMock
// take seconds, longer than the tenants' timeout), then resets the WireMock.
func warmUp(p *Provider) error {
	ts := tenants(p.name)[0]
	h := httpx.Config{BaseURL: ts.BaseURL, Timeout: 20 * time.Second, MaxRetries: -1}
	var a provider.AuthSystem
	var err error
	switch p.name {
	case "auth0":
		a, err = auth0.New(auth0.Config{BaseURL: ts.BaseURL, ClientID: ts.Auth0.ClientID, ClientSecret: ts.Auth0.ClientSecret, Connection: ts.Auth0.Connection, HTTP: h})
	case "gigya":
		a, err = gigya.New(gigya.Config{BaseURL: ts.BaseURL, APIKey: ts.Gigya.APIKey, UserKey: ts.Gigya.UserKey, Secret: ts.Gigya.Secret, HTTP: h})
	case "ssor":
		a, err = ssor.New(ssor.Config{BaseURL: ts.BaseURL, APIToken: ts.SSOR.APIToken, HTTP: h})
	case "firefly":
		a, err = firefly.New(firefly.Config{BaseURL: ts.BaseURL, Secret: ts.Firefly.Secret, HTTP: h})
	}
	if err != nil {
		return err
	}
	ctx := context.Background()
	for i := range 4 {
		email := fmt.Sprintf("warm.up%d@example.com", i)
		_, _ = a.FindByEmail(ctx, email)
		_, _ = a.Search(ctx, provider.Query{LastName: "Up", Limit: 5})
		u, err := a.Create(ctx, provider.NewUser{Email: email, Password: "Passw0rd-warm", FirstName: "Warm", LastName: "Up", EmailVerified: true, Metadata: map[string]string{"k": "v"}})
		if err != nil {
			u.ID = p.impl.idFor(email)
		}
		_, _ = a.GetUser(ctx, u.ID)
		_, _ = a.Update(ctx, u.ID, provider.Update{FirstName: ptr("Hot")})
		if s, err := a.Login(ctx, email, "Passw0rd-warm"); err == nil && len(s.Tokens) > 0 {
			_, _ = a.UserForToken(ctx, s.Tokens[0].Content)
		}
		_, _ = a.UserForToken(ctx, "not-a-token")
		_ = a.ChangePassword(ctx, u.ID, "Passw0rd-warm2")
		_, _ = a.ChangeEmail(ctx, u.ID, "warm.other@example.com")
		_, _ = a.PasswordChangeURL(ctx, u.ID, returnURL)
		_ = a.Delete(ctx, u.ID)
	}
	return p.srv.Admin.Reset()
}

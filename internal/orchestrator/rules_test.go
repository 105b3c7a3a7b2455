package orchestrator

import (
	"errors"
	"maps"
	"testing"

	"usersorchestrator/internal/provider"
	"usersorchestrator/internal/registration"
)

func TestMerge(t *testing.T) {
	base := registration.Registration{
		CustomerRegistrationID: "auth0|1", Email: "jane@example.com", Verified: true, AuthSystem: "Auth0",
		FirstName: ptr("Jane"), LastName: ptr("Doe"), Metadata: map[string]string{"plan": "gold", "local": "kept"},
	}
	same := provider.User{ID: "auth0|1", Email: "jane@example.com", EmailVerified: true, FirstName: "Jane", LastName: "Doe",
		Metadata: map[string]string{"plan": "gold"}}
	tests := []struct {
		name    string
		reg     func(*registration.Registration)
		pu      func(*provider.User)
		changed bool
		want    func(*registration.Registration)
	}{
		{name: "in step: nothing to write", changed: false},
		{name: "a Subscribe-only registration becomes linked", reg: func(r *registration.Registration) { r.AuthSystem = "" }, changed: true},
		{name: "the provider's email wins", pu: func(u *provider.User) { u.Email = "new@example.com" }, changed: true,
			want: func(r *registration.Registration) { r.Email = "new@example.com" }},
		{name: "a provider without email changes none", pu: func(u *provider.User) { u.Email = "" }},
		{name: "the provider's names win", pu: func(u *provider.User) { u.FirstName, u.LastName = "Janet", "Roe" }, changed: true,
			want: func(r *registration.Registration) { r.FirstName, r.LastName = ptr("Janet"), ptr("Roe") }},
		{name: "names Subscribe lacks are filled", reg: func(r *registration.Registration) { r.FirstName, r.LastName = nil, nil }, changed: true,
			want: func(r *registration.Registration) { r.FirstName, r.LastName = ptr("Jane"), ptr("Doe") }},
		{name: "empty provider names keep Subscribe's", pu: func(u *provider.User) { u.FirstName, u.LastName = "", "" }},
		{name: "the provider unverifies", pu: func(u *provider.User) { u.EmailVerified = false }, changed: true,
			want: func(r *registration.Registration) { r.Verified = false }},
		{name: "a pending registration stays unverified whatever the provider says",
			reg: func(r *registration.Registration) { r.Verified, r.Pending = false, true }},
		{name: "provider metadata is copied, Subscribe-only keys kept",
			pu: func(u *provider.User) { u.Metadata = map[string]string{"plan": "silver", "team": "red"} }, changed: true,
			want: func(r *registration.Registration) {
				r.Metadata = map[string]string{"plan": "silver", "team": "red", "local": "kept"}
			}},
		{name: "metadata into a registration without any",
			reg: func(r *registration.Registration) { r.Metadata = nil }, changed: true,
			want: func(r *registration.Registration) { r.Metadata = map[string]string{"plan": "gold"} }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			reg := base
			reg.Metadata = maps.Clone(base.Metadata)
			if tt.reg != nil {
				tt.reg(&reg)
			}
			pu := same
			pu.Metadata = maps.Clone(same.Metadata)
			if tt.pu != nil {
				tt.pu(&pu)
			}
			want := reg
			want.Metadata = maps.Clone(reg.Metadata)
			if tt.want != nil {
				tt.want(&want)
			}
			got, changed := merge(reg, pu)
			if changed != tt.changed {
				t.Errorf("changed = %v, want %v", changed, tt.changed)
			}
			if got.Email != want.Email || deref(got.FirstName) != deref(want.FirstName) || deref(got.LastName) != deref(want.LastName) ||
				got.Verified != want.Verified || got.Pending != want.Pending || !maps.Equal(got.Metadata, want.Metadata) {
				t.Errorf("merged\n got  %+v\n want %+v", got, want)
			}
			if got.AuthSystem != reg.AuthSystem {
				t.Errorf("merge set AuthSystem %q; sync does that", got.AuthSystem)
			}
		})
	}
	t.Run("the registration read is not modified", func(t *testing.T) {
		reg := base
		reg.Metadata = maps.Clone(base.Metadata)
		merge(reg, provider.User{Metadata: map[string]string{"plan": "bronze"}})
		if reg.Metadata["plan"] != "gold" {
			t.Errorf("merge wrote into the caller's metadata: %v", reg.Metadata)
		}
	})
}

func TestStateRules(t *testing.T) {
	f := newFixture(t)
	tests := []struct {
		name               string
		verified, pending  bool
		hash               string
		local, withProvide State
	}{
		{"verified with a password", true, false, "h", StateStandard, StateStandard},
		{"verified without a password", true, false, "", StateLite, StateStandard},
		{"unverified wins over lite", false, false, "", StateUnverified, StateStandard},
		{"unverified with a password", false, false, "h", StateUnverified, StateStandard},
		{"pending is unverified even when marked verified", true, true, "h", StateUnverified, StateStandard},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := registration.Registration{Verified: tt.verified, Pending: tt.pending, PasswordHash: tt.hash}
			if got := f.o.stateOf(f.lc, r); got != tt.local {
				t.Errorf("without provider: %s, want %s", got, tt.local)
			}
			if got := f.o.stateOf(f.pc, r); got != tt.withProvide {
				t.Errorf("with provider: %s, want %s", got, tt.withProvide)
			}
			if u := f.o.userOf(f.lc, r); u.Verified != (tt.verified && !tt.pending) || u.State != tt.local {
				t.Errorf("shown as %+v", u)
			}
		})
	}
}

func TestFailedKeepsOutcomesAndWrapsTheRest(t *testing.T) {
	for _, o := range Outcomes() {
		if got := failed(WorkflowGet, o); got != o {
			t.Errorf("failed(%v) = %v, want the outcome itself", o, got)
		}
	}
	wrapped := failed(WorkflowCreate, errDisk)
	var we *WorkflowError
	if !errors.As(wrapped, &we) || we.Workflow != WorkflowCreate || !errors.Is(wrapped, errDisk) {
		t.Errorf("failed wrapped as %v", wrapped)
	}
	if again := failed(WorkflowGet, wrapped); again != wrapped {
		t.Errorf("a workflow error was rewrapped as %v", again)
	}
	if failed(WorkflowGet, nil) != nil {
		t.Error("failed(nil) is not nil")
	}
	// fromProvider: an unavailable provider is E503 whatever the workflow, the rest is E500_xx.
	down := provider.Errorf("Auth0", "GetUser", provider.ErrUnavailable, 0, "timeout")
	if got := fromProvider(WorkflowGet, down); !errors.Is(got, ErrProviderUnavailable) {
		t.Errorf("unavailable became %v", got)
	}
	if got := outcome(fromProvider(WorkflowUpdate, provider.Errorf("Auth0", "Update", provider.ErrProtocol, 200, "junk"))); got != "failed Update" {
		t.Errorf("a protocol error became %s", got)
	}
}

func TestEventDetailQuotesNoInput(t *testing.T) {
	tests := []struct {
		err  error
		want string
	}{
		{provider.Errorf("Auth0", "Login", provider.ErrBlocked, 401, "user is blocked"), "Auth0 Login: user blocked (HTTP 401): user is blocked"},
		{ErrEmailInUse, ErrEmailInUse.Error()},
		{&InvalidInputError{Field: "body.returnUrl", Problem: "its host is not allowed for this tenant"}, "body.returnUrl: its host is not allowed for this tenant"},
		{failed(WorkflowCreate, errors.New("pq: duplicate key jane@example.com")), "Create workflow failed"},
		{errors.New("secret jane@example.com"), "internal error"},
	}
	for _, tt := range tests {
		if got := detail(tt.err); got != tt.want {
			t.Errorf("detail(%v) = %q, want %q", tt.err, got, tt.want)
		}
	}
}

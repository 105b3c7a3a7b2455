package metrics_test

import (
	"context"
	"errors"
	"fmt"
	"testing"

	"usersorchestrator/internal/metrics"
	"usersorchestrator/internal/provider"
)

// fakeProvider answers every call with err and records the calls it got.
type fakeProvider struct {
	err   error
	calls []string
}

var _ provider.AuthSystem = (*fakeProvider)(nil)

func (f *fakeProvider) Name() string { return "Auth0" }

func (f *fakeProvider) GetUser(_ context.Context, id string) (provider.User, error) {
	f.calls = append(f.calls, "GetUser")
	return provider.User{ID: id}, f.err
}

func (f *fakeProvider) FindByEmail(_ context.Context, email string) (provider.User, error) {
	f.calls = append(f.calls, "FindByEmail")
	return provider.User{Email: email}, f.err
}

func (f *fakeProvider) Search(_ context.Context, q provider.Query) ([]provider.User, error) {
	f.calls = append(f.calls, "Search")
	return []provider.User{{Email: q.Email}}, f.err
}

func (f *fakeProvider) Create(_ context.Context, u provider.NewUser) (provider.User, error) {
	f.calls = append(f.calls, "Create")
	return provider.User{Email: u.Email}, f.err
}

func (f *fakeProvider) Update(_ context.Context, id string, _ provider.Update) (provider.User, error) {
	f.calls = append(f.calls, "Update")
	return provider.User{ID: id}, f.err
}

func (f *fakeProvider) Delete(context.Context, string) error {
	f.calls = append(f.calls, "Delete")
	return f.err
}

func (f *fakeProvider) Login(_ context.Context, loginName, _ string) (provider.Session, error) {
	f.calls = append(f.calls, "Login")
	return provider.Session{UserID: loginName}, f.err
}

func (f *fakeProvider) UserForToken(_ context.Context, token string) (provider.User, error) {
	f.calls = append(f.calls, "UserForToken")
	return provider.User{ID: token}, f.err
}

func (f *fakeProvider) ChangePassword(context.Context, string, string) error {
	f.calls = append(f.calls, "ChangePassword")
	return f.err
}

func (f *fakeProvider) ChangeEmail(_ context.Context, id, _ string) (provider.User, error) {
	f.calls = append(f.calls, "ChangeEmail")
	return provider.User{ID: id}, f.err
}

func (f *fakeProvider) PasswordChangeURL(_ context.Context, _, returnURL string) (string, error) {
	f.calls = append(f.calls, "PasswordChangeURL")
	return returnURL, f.err
}

// callEvery calls each AuthSystem method once and checks that the wrapper hands the adapter's
// results back unchanged.
func callEvery(t *testing.T, p provider.AuthSystem, wantErr error) {
	t.Helper()
	ctx := context.Background()
	check := func(call string, got any, want any, err error) {
		t.Helper()
		if got != want {
			t.Errorf("%s returned %v, want the adapter's %v", call, got, want)
		}
		if !errors.Is(err, wantErr) || (wantErr == nil) != (err == nil) {
			t.Errorf("%s returned error %v, want %v", call, err, wantErr)
		}
	}
	u, err := p.GetUser(ctx, "id-1")
	check("GetUser", u.ID, "id-1", err)
	u, err = p.FindByEmail(ctx, "jane@example.com")
	check("FindByEmail", u.Email, "jane@example.com", err)
	us, err := p.Search(ctx, provider.Query{Email: "q@example.com"})
	check("Search", us[0].Email, "q@example.com", err)
	u, err = p.Create(ctx, provider.NewUser{Email: "new@example.com"})
	check("Create", u.Email, "new@example.com", err)
	u, err = p.Update(ctx, "id-2", provider.Update{})
	check("Update", u.ID, "id-2", err)
	err = p.Delete(ctx, "id-3")
	check("Delete", nil, nil, err)
	s, err := p.Login(ctx, "jane", "secret")
	check("Login", s.UserID, "jane", err)
	u, err = p.UserForToken(ctx, "tok")
	check("UserForToken", u.ID, "tok", err)
	err = p.ChangePassword(ctx, "id-4", "secret")
	check("ChangePassword", nil, nil, err)
	u, err = p.ChangeEmail(ctx, "id-5", "x@example.com")
	check("ChangeEmail", u.ID, "id-5", err)
	link, err := p.PasswordChangeURL(ctx, "id-6", "https://back.example")
	check("PasswordChangeURL", link, "https://back.example", err)
}

var allCalls = []string{"GetUser", "FindByEmail", "Search", "Create", "Update", "Delete", "Login",
	"UserForToken", "ChangePassword", "ChangeEmail", "PasswordChangeURL"}

func TestProviderCountsEveryCallByOutcome(t *testing.T) {
	adapterErr := func(kind error) error {
		// As the adapters return them: an *provider.Error wrapping the kind, wrapped again on the way.
		return fmt.Errorf("lookup: %w", provider.Errorf("Auth0", "get user", kind, 503, "detail"))
	}
	tests := []struct {
		err     error
		outcome string
	}{
		{nil, "success"},
		{adapterErr(provider.ErrNotFound), "not_found"},
		{adapterErr(provider.ErrUserExists), "user_exists"},
		{adapterErr(provider.ErrInvalidCredentials), "invalid_credentials"},
		{adapterErr(provider.ErrInvalidToken), "invalid_token"},
		{adapterErr(provider.ErrNotVerified), "not_verified"},
		{adapterErr(provider.ErrBlocked), "blocked"},
		{adapterErr(provider.ErrRejected), "rejected"},
		{adapterErr(provider.ErrUnavailable), "unavailable"},
		{adapterErr(provider.ErrProtocol), "protocol"},
		{errors.New("an adapter bug"), "other"},
		{context.DeadlineExceeded, "other"},
	}
	for _, tt := range tests {
		t.Run(tt.outcome+fmt.Sprint(tt.err != nil), func(t *testing.T) {
			if got := metrics.Outcome(tt.err); got != tt.outcome {
				t.Fatalf("Outcome(%v) = %q, want %q", tt.err, got, tt.outcome)
			}
			m := metrics.New(metrics.Options{})
			fake := &fakeProvider{err: tt.err}
			p := m.Provider(fake)
			if p.Name() != "Auth0" {
				t.Errorf("Name() = %q, want the adapter's", p.Name())
			}
			callEvery(t, p, tt.err)
			if fmt.Sprint(fake.calls) != fmt.Sprint(allCalls) {
				t.Errorf("adapter got %v, want %v", fake.calls, allCalls)
			}
			fams := gather(t, m)
			for _, call := range allCalls {
				if got := sample(fams, "usersorchestrator_provider_calls_total", "provider", "auth0", "call", call, "outcome", tt.outcome); got != 1 {
					t.Errorf("calls_total{call=%s,outcome=%s} = %v, want 1", call, tt.outcome, got)
				}
				if got := sample(fams, "usersorchestrator_provider_call_duration_seconds", "provider", "auth0", "call", call); got != 1 {
					t.Errorf("call_duration_seconds count{call=%s} = %v, want 1", call, got)
				}
			}
			// Exactly one series per call: no other outcome was counted.
			if n := series(fams, "usersorchestrator_provider_calls_total"); n != len(allCalls) {
				t.Errorf("%d calls_total series, want %d", n, len(allCalls))
			}
		})
	}
}

func TestProviderKeepsNoProviderNil(t *testing.T) {
	m := metrics.New(metrics.Options{})
	if p := m.Provider(nil); p != nil {
		t.Fatalf("Provider(nil) = %#v, want nil (a tenant without a provider)", p)
	}
}

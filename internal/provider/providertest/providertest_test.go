package providertest_test

import (
	"context"
	"errors"
	"slices"
	"testing"
	"time"

	"usersorchestrator/internal/provider"
	"usersorchestrator/internal/provider/providertest"
)

func TestFakeBehavesAsAProvider(t *testing.T) {
	ctx := context.Background()
	f := providertest.New("Auth0")
	u, err := f.Create(ctx, provider.NewUser{Email: "Jane@example.com", Password: "long-enough", FirstName: "Jane"})
	if err != nil || u.ID == "" {
		t.Fatalf("create: %+v, %v", u, err)
	}
	checks := []struct {
		name string
		err  error
		want error
	}{
		{"the email is taken, ignoring case", second(f.Create(ctx, provider.NewUser{Email: "jane@EXAMPLE.com", Password: "long-enough"})), provider.ErrUserExists},
		{"a short password", second(f.Create(ctx, provider.NewUser{Email: "b@example.com", Password: "short"})), provider.ErrRejected},
		{"an unknown id", second(f.GetUser(ctx, "nobody")), provider.ErrNotFound},
		{"an unknown email", second(f.FindByEmail(ctx, "nobody@example.com")), provider.ErrNotFound},
		{"a wrong password", second(f.Login(ctx, "jane@example.com", "wrong-password")), provider.ErrInvalidCredentials},
		{"an unknown login", second(f.Login(ctx, "nobody@example.com", "long-enough")), provider.ErrInvalidCredentials},
		{"an unknown token", second(f.UserForToken(ctx, "forged")), provider.ErrInvalidToken},
	}
	for _, c := range checks {
		var pe *provider.Error
		if !errors.Is(c.err, c.want) || !errors.As(c.err, &pe) || pe.Provider != "Auth0" {
			t.Errorf("%s: %v, want %v in a *provider.Error", c.name, c.err, c.want)
		}
	}
	s, err := f.Login(ctx, "JANE@example.com", "long-enough")
	if err != nil || s.UserID != u.ID || len(s.Tokens) != 1 {
		t.Fatalf("login: %+v, %v", s, err)
	}
	if got, err := f.UserForToken(ctx, s.Tokens[0].Content); err != nil || got.ID != u.ID {
		t.Errorf("token: %+v, %v", got, err)
	}
	f.Block(u.ID, true)
	if _, err := f.Login(ctx, "jane@example.com", "long-enough"); !errors.Is(err, provider.ErrBlocked) {
		t.Errorf("blocked login: %v", err)
	}
	if got, _ := f.UserForToken(ctx, s.Tokens[0].Content); !got.Blocked {
		t.Error("a blocked user's token answers the user unblocked")
	}
	if _, err := f.Update(ctx, u.ID, provider.Update{Metadata: map[string]*string{"a": ptr("1")}}); err != nil {
		t.Fatal(err)
	}
	md, _ := f.Update(ctx, u.ID, provider.Update{Metadata: map[string]*string{"a": nil, "b": ptr("2")}})
	if len(md.Metadata) != 1 || md.Metadata["b"] != "2" {
		t.Errorf("metadata %v", md.Metadata)
	}
	if err := f.Delete(ctx, u.ID); err != nil || f.Len() != 0 {
		t.Errorf("delete: %v, %d left", err, f.Len())
	}
	if err := f.Delete(ctx, u.ID); err != nil {
		t.Errorf("deleting a missing user: %v", err)
	}
}

func TestFaultsAndJournal(t *testing.T) {
	ctx := context.Background()
	f := providertest.New("Gigya")
	u := f.Add(provider.User{Email: "jane@example.com"}, "long-enough")
	f.FailNext(providertest.OpGetUser, nil)
	f.FailNext(providertest.OpGetUser, provider.ErrUnavailable)
	if _, err := f.GetUser(ctx, u.ID); err != nil {
		t.Errorf("first call, let through: %v", err)
	}
	if _, err := f.GetUser(ctx, u.ID); !errors.Is(err, provider.ErrUnavailable) {
		t.Errorf("second call: %v", err)
	}
	if _, err := f.GetUser(ctx, u.ID); err != nil {
		t.Errorf("third call, queue empty: %v", err)
	}
	f.Fail(providertest.OpChangePassword, provider.ErrRejected)
	for range 2 {
		if err := f.ChangePassword(ctx, u.ID, "another-long-one"); !errors.Is(err, provider.ErrRejected) {
			t.Errorf("failing op: %v", err)
		}
	}
	if f.Password(u.ID) != "long-enough" {
		t.Error("a failed call changed the password")
	}
	f.Heal()
	f.Slow(providertest.OpSearch, time.Minute)
	short, cancel := context.WithTimeout(ctx, 5*time.Millisecond)
	defer cancel()
	if _, err := f.Search(short, provider.Query{}); !errors.Is(err, provider.ErrUnavailable) {
		t.Errorf("slow beyond the deadline: %v", err)
	}
	want := []providertest.Op{providertest.OpGetUser, providertest.OpGetUser, providertest.OpGetUser,
		providertest.OpChangePassword, providertest.OpChangePassword, providertest.OpSearch}
	if got := f.Ops(); !slices.Equal(got, want) {
		t.Errorf("journal %v, want %v", got, want)
	}
	if j := f.Journal(); j[0].ID != u.ID {
		t.Errorf("journal entry %v", j[0])
	}
	f.ClearJournal()
	if len(f.Journal()) != 0 {
		t.Error("journal not cleared")
	}
}

func second[T any](_ T, err error) error { return err }

func ptr[T any](v T) *T { return &v }

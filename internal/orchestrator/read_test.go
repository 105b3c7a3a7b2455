package orchestrator

import (
	"context"
	"testing"
	"time"

	"usersorchestrator/internal/provider"
	"usersorchestrator/internal/provider/providertest"
	"usersorchestrator/internal/registration"
)

func TestGetByID(t *testing.T) {
	const email = "jane@example.com"
	tests := []struct {
		name   string
		setup  func(f *fixture) string // returns the id to read
		local  bool
		ignore bool
		want   string
		calls  ops
		events evs
		check  func(t *testing.T, f *fixture, crid string, u User)
	}{
		{name: "linked and in step: two reads, no write",
			setup: func(f *fixture) string { return f.linkedUser(email) }, want: "ok",
			calls: ops{providertest.OpGetUser}, events: evs{evAuthGetByID, evSubGetByID},
			check: func(t *testing.T, f *fixture, crid string, u User) {
				if u.State != StateStandard || u.Email != email || !u.Verified || deref(u.FirstName) != "Jane" {
					t.Errorf("user %+v", u)
				}
			}},
		{name: "the provider changed the user: Subscribe follows",
			setup: func(f *fixture) string {
				crid := f.linkedUser(email)
				if _, err := f.prov.Update(f.ctx, crid, provider.Update{LastName: ptr("Roe"), Metadata: map[string]*string{"plan": ptr("gold")}}); err != nil {
					f.t.Fatal(err)
				}
				f.prov.ClearJournal()
				return crid
			}, want: "ok",
			calls: ops{providertest.OpGetUser}, events: evs{evAuthGetByID, evSubGetByID, evSubUpdate},
			check: func(t *testing.T, f *fixture, crid string, u User) {
				r := f.reg(provKey, crid)
				if deref(r.LastName) != "Roe" || r.Metadata["plan"] != "gold" || deref(u.LastName) != "Roe" {
					t.Errorf("stored %+v, shown %+v", r, u)
				}
			}},
		{name: "a user only the provider has is copied into Subscribe",
			setup: func(f *fixture) string { return f.providerUser(email).ID }, want: "ok",
			calls: ops{providertest.OpGetUser}, events: evs{evAuthGetByID, evSubGetByID, evSubUpdate},
			check: func(t *testing.T, f *fixture, crid string, u User) {
				r := f.reg(provKey, crid)
				if r.AuthSystem != "Auth0" || r.Email != email || deref(r.FirstName) != "Jane" || r.Metadata["plan"] != "gold" || !r.Verified {
					t.Errorf("copied as %+v", r)
				}
			}},
		{name: "a Subscribe-only user on a provider tenant: the provider answers not found",
			setup: func(f *fixture) string { return f.localUser(f.pc, email, true) }, want: "ok",
			calls: ops{providertest.OpGetUser}, events: evs{evAuthGetByID, evSubGetByID},
			check: func(t *testing.T, f *fixture, crid string, u User) {
				if u.State != StateStandard {
					t.Errorf("state %s: every user of a provider tenant is Standard", u.State)
				}
			}},
		{name: "ignoreProvider: Subscribe alone", ignore: true,
			setup: func(f *fixture) string { return f.linkedUser(email) }, want: "ok", events: evs{evSubGetByID}},
		{name: "no provider: Subscribe alone", local: true,
			setup: func(f *fixture) string { return f.localUser(f.lc, email, false) }, want: "ok", events: evs{evSubGetByID}},
		{name: "nobody knows the id", setup: func(f *fixture) string { return "auth0|nobody" },
			want: ErrUserNotFound.Error(), calls: ops{providertest.OpGetUser}, events: evs{evAuthGetByID, evSubGetByID}},
		{name: "provider down: E503, Subscribe not read",
			setup: func(f *fixture) string {
				crid := f.linkedUser(email)
				f.prov.Fail(providertest.OpGetUser, provider.ErrUnavailable)
				return crid
			}, want: ErrProviderUnavailable.Error(), calls: ops{providertest.OpGetUser}, events: evs{"AUTHSYSTEM_USER_GETBYID Failure"}},
		{name: "provider slow beyond the caller's deadline: E503",
			setup: func(f *fixture) string {
				crid := f.linkedUser(email)
				f.prov.Slow(providertest.OpGetUser, time.Minute)
				var cancel func()
				f.ctx, cancel = context.WithTimeout(f.ctx, 10*time.Millisecond)
				f.t.Cleanup(cancel)
				return crid
			}, want: ErrProviderUnavailable.Error(), calls: ops{providertest.OpGetUser}, events: evs{"AUTHSYSTEM_USER_GETBYID Failure"}},
		{name: "store down", local: true,
			setup: func(f *fixture) string {
				crid := f.localUser(f.lc, email, false)
				f.store.failOnce("Get", errDisk)
				return crid
			}, want: "failed GetById", events: evs{"SUBSCRIBE_USER_GETBYID Failure"}},
		{name: "sync conflict: a concurrent write wins, its row is answered",
			setup: func(f *fixture) string {
				crid := f.linkedUser(email)
				f.must(f.prov.Update(f.ctx, crid, provider.Update{LastName: ptr("Roe")}))
				f.prov.ClearJournal()
				f.store.failOnce("Update", registration.ErrConflict)
				return crid
			}, want: "ok", calls: ops{providertest.OpGetUser},
			events: evs{evAuthGetByID, evSubGetByID, "SUBSCRIBE_USER_UPDATE Failure"},
			check: func(t *testing.T, f *fixture, crid string, u User) {
				if deref(u.LastName) != "" {
					t.Errorf("answered %q, not the stored row", deref(u.LastName))
				}
			}},
		{name: "sync conflict and the re-read fails",
			setup: func(f *fixture) string {
				crid := f.linkedUser(email)
				f.must(f.prov.Update(f.ctx, crid, provider.Update{LastName: ptr("Roe")}))
				f.prov.ClearJournal()
				f.store.failOnce("Update", registration.ErrConflict)
				f.store.failOnce("Get", nil)
				f.store.failOnce("Get", errDisk)
				return crid
			}, want: "failed GetById", calls: ops{providertest.OpGetUser},
			events: evs{evAuthGetByID, evSubGetByID, "SUBSCRIBE_USER_UPDATE Failure"}},
		{name: "sync: the provider's new email belongs to another registration; Subscribe's row is kept and answered",
			setup: func(f *fixture) string {
				crid := f.linkedUser(email)
				f.localUser(f.pc, "taken@example.com", true)
				f.must(f.prov.ChangeEmail(f.ctx, crid, "taken@example.com"))
				f.prov.ClearJournal()
				return crid
			}, want: "ok", calls: ops{providertest.OpGetUser},
			events: evs{evAuthGetByID, evSubGetByID, "SUBSCRIBE_USER_UPDATE Failure"},
			check: func(t *testing.T, f *fixture, crid string, u User) {
				if u.Email != email || f.reg(provKey, crid).Email != email {
					t.Errorf("shown %s, stored %s", u.Email, f.reg(provKey, crid).Email)
				}
			}},
		{name: "sync: the store fails", setup: func(f *fixture) string {
			crid := f.linkedUser(email)
			f.must(f.prov.Update(f.ctx, crid, provider.Update{LastName: ptr("Roe")}))
			f.prov.ClearJournal()
			f.store.failOnce("Update", errDisk)
			return crid
		}, want: "failed GetById", calls: ops{providertest.OpGetUser},
			events: evs{evAuthGetByID, evSubGetByID, "SUBSCRIBE_USER_UPDATE Failure"}},
		{name: "copy-in race: a concurrent read copied the user first",
			setup: func(f *fixture) string {
				pu := f.providerUser(email)
				if _, err := f.o.GetByID(f.ctx, f.pc, pu.ID, false); err != nil {
					f.t.Fatal(err)
				}
				f.settle()
				f.store.failOnce("Get", registration.ErrNotFound) // this read missed the other's row
				f.store.failOnce("Create", registration.ErrIDTaken)
				return pu.ID
			}, want: "ok", calls: ops{providertest.OpGetUser},
			events: evs{evAuthGetByID, evSubGetByID, "SUBSCRIBE_USER_UPDATE Failure"}},
		{name: "copy-in race and the re-read fails",
			setup: func(f *fixture) string {
				pu := f.providerUser(email)
				if _, err := f.o.GetByID(f.ctx, f.pc, pu.ID, false); err != nil {
					f.t.Fatal(err)
				}
				f.settle()
				f.store.failOnce("Get", registration.ErrNotFound)
				f.store.failOnce("Get", errDisk)
				f.store.failOnce("Create", registration.ErrIDTaken)
				return pu.ID
			}, want: "failed GetById", calls: ops{providertest.OpGetUser},
			events: evs{evAuthGetByID, evSubGetByID, "SUBSCRIBE_USER_UPDATE Failure"}},
		{name: "copy-in: Subscribe holds the email for another id; answered unsaved",
			setup: func(f *fixture) string {
				f.localUser(f.pc, email, true)
				return f.providerUser(email).ID
			}, want: "ok", calls: ops{providertest.OpGetUser},
			events: evs{evAuthGetByID, evSubGetByID, "SUBSCRIBE_USER_UPDATE Failure"},
			check: func(t *testing.T, f *fixture, crid string, u User) {
				if f.hasReg(provKey, crid) || u.CustomerRegistrationID != crid {
					t.Errorf("copied in, or answered %+v", u)
				}
			}},
		{name: "copy-in: the store fails", setup: func(f *fixture) string {
			pu := f.providerUser(email)
			f.store.failOnce("Create", errDisk)
			return pu.ID
		}, want: "failed GetById", calls: ops{providertest.OpGetUser},
			events: evs{evAuthGetByID, evSubGetByID, "SUBSCRIBE_USER_UPDATE Failure"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t)
			crid := tt.setup(f)
			c := f.pc
			if tt.local {
				c = f.lc
			}
			u, err := f.o.GetByID(f.ctx, c, crid, tt.ignore)
			if got := outcome(err); got != tt.want {
				t.Fatalf("outcome %q, want %q", got, tt.want)
			}
			f.expectCalls(tt.calls...)
			f.expectEvents(tt.events...)
			if err == nil && u.CustomerRegistrationID != crid {
				t.Errorf("answered %q for %q", u.CustomerRegistrationID, crid)
			}
			if tt.check != nil {
				tt.check(t, f, crid, u)
			}
		})
	}
}

package orchestrator

import (
	"testing"
	"time"

	"usersorchestrator/internal/provider"
	"usersorchestrator/internal/provider/providertest"
	"usersorchestrator/internal/registration"
)

func TestUpdate(t *testing.T) {
	const email = "jane@example.com"
	tests := []struct {
		name   string
		local  bool
		setup  func(f *fixture) string
		in     UpdateInput
		want   string
		calls  ops
		events evs
		check  func(t *testing.T, f *fixture, crid string, u User)
	}{
		{name: "linked: the provider first, then Subscribe",
			setup: func(f *fixture) string { return f.linkedUser(email) },
			in:    UpdateInput{LastName: ptr("Roe"), Metadata: map[string]*string{"plan": ptr("gold"), "gone": nil}}, want: "ok",
			calls:  ops{providertest.OpGetUser, providertest.OpUpdate},
			events: evs{evAuthGetByID, evSubGetByID, "AUTHSYSTEM_USER_UPDATE Success", evSubUpdate},
			check: func(t *testing.T, f *fixture, crid string, u User) {
				pu, _ := f.prov.User(crid)
				r := f.reg(provKey, crid)
				if pu.LastName != "Roe" || pu.Metadata["plan"] != "gold" || deref(r.LastName) != "Roe" || r.Metadata["plan"] != "gold" || deref(u.LastName) != "Roe" {
					t.Errorf("provider %+v, stored %+v", pu, r)
				}
			}},
		{name: "the provider refuses: Subscribe untouched",
			setup: func(f *fixture) string {
				crid := f.linkedUser(email)
				f.prov.FailNext(providertest.OpUpdate, provider.ErrRejected)
				return crid
			},
			in: UpdateInput{LastName: ptr("Roe")}, want: ErrUpdateRefused.Error(),
			calls:  ops{providertest.OpGetUser, providertest.OpUpdate},
			events: evs{evAuthGetByID, evSubGetByID, "AUTHSYSTEM_USER_UPDATE Failure"},
			check: func(t *testing.T, f *fixture, crid string, _ User) {
				if r := f.reg(provKey, crid); r.LastName != nil || r.Version != 1 {
					t.Errorf("stored %+v", r)
				}
			}},
		{name: "the provider is down",
			setup: func(f *fixture) string {
				crid := f.linkedUser(email)
				f.prov.FailNext(providertest.OpUpdate, provider.ErrUnavailable)
				return crid
			},
			in: UpdateInput{Verified: ptr(false)}, want: ErrProviderUnavailable.Error(),
			calls:  ops{providertest.OpGetUser, providertest.OpUpdate},
			events: evs{evAuthGetByID, evSubGetByID, "AUTHSYSTEM_USER_UPDATE Failure"}},
		{name: "ignoreProvider: Subscribe alone, the provider keeps its data",
			setup: func(f *fixture) string { return f.linkedUser(email) },
			in:    UpdateInput{LastName: ptr("Roe"), IgnoreProvider: true}, want: "ok", events: evs{evSubGetByID, evSubUpdate},
			check: func(t *testing.T, f *fixture, crid string, u User) {
				if pu, _ := f.prov.User(crid); pu.LastName != "" || deref(f.reg(provKey, crid).LastName) != "Roe" {
					t.Errorf("provider %+v", pu)
				}
			}},
		{name: "a logout date alone is Subscribe's",
			setup: func(f *fixture) string { return f.linkedUser(email) },
			in:    UpdateInput{LastLogoutDate: ptr(t0.Add(time.Hour))}, want: "ok",
			calls: ops{providertest.OpGetUser}, events: evs{evAuthGetByID, evSubGetByID, evSubUpdate},
			check: func(t *testing.T, f *fixture, crid string, u User) {
				if u.LastLogoutDate == nil || !u.LastLogoutDate.Equal(t0.Add(time.Hour)) {
					t.Errorf("logout %v", u.LastLogoutDate)
				}
			}},
		{name: "a Subscribe-only user of a provider tenant: Subscribe alone",
			setup: func(f *fixture) string { return f.localUser(f.pc, email, true) },
			in:    UpdateInput{FirstName: ptr("Janet")}, want: "ok",
			calls: ops{providertest.OpGetUser}, events: evs{evAuthGetByID, evSubGetByID, evSubUpdate}},
		{name: "no provider: verified clears pending, logout date removed", local: true,
			setup: func(f *fixture) string {
				ref, err := f.o.SendVerificationCode(f.ctx, f.lc, email, "")
				if err != nil {
					f.t.Fatal(err)
				}
				if _, err := f.o.Update(f.ctx, f.lc, ref.CustomerRegistrationID, UpdateInput{LastLogoutDate: ptr(t0)}); err != nil {
					f.t.Fatal(err)
				}
				f.settle()
				return ref.CustomerRegistrationID
			},
			in: UpdateInput{Verified: ptr(true), RemoveLastLogoutDate: true, Metadata: map[string]*string{"a": ptr("b")}}, want: "ok",
			events: evs{evSubGetByID, evSubUpdate},
			check: func(t *testing.T, f *fixture, crid string, u User) {
				if r := f.reg(localKey, crid); !r.Verified || r.Pending || r.LastLogoutDate != nil || r.Metadata["a"] != "b" {
					t.Errorf("stored %+v", r)
				}
			}},
		{name: "a concurrent change is reapplied", local: true,
			setup: func(f *fixture) string {
				crid := f.localUser(f.lc, email, false)
				f.store.failOnce("Update", registration.ErrConflict)
				return crid
			},
			in: UpdateInput{FirstName: ptr("Janet")}, want: "ok", events: evs{evSubGetByID, evSubUpdate},
			check: func(t *testing.T, f *fixture, crid string, u User) {
				if deref(f.reg(localKey, crid).FirstName) != "Janet" {
					t.Error("not stored")
				}
			}},
		{name: "conflicts beyond the retries", local: true,
			setup: func(f *fixture) string {
				crid := f.localUser(f.lc, email, false)
				f.store.failAlways("Update", registration.ErrConflict)
				return crid
			},
			in: UpdateInput{FirstName: ptr("Janet")}, want: "failed Update", events: evs{evSubGetByID, "SUBSCRIBE_USER_UPDATE Failure"}},
		// The event is part of the change: an update is never stored without its event (a
		// process killed after the commit would otherwise lose it from the event queue).
		{name: "the event cannot be written: nothing changes", local: true,
			setup: func(f *fixture) string {
				crid := f.localUser(f.lc, email, false)
				f.store.failOnce("RecordEvent", nil) // the read's SUBSCRIBE_USER_GETBYID
				f.store.failOnce("RecordEvent", errDisk)
				return crid
			},
			in: UpdateInput{FirstName: ptr("Janet")}, want: "failed Update", events: evs{evSubGetByID, "SUBSCRIBE_USER_UPDATE Failure"},
			check: func(t *testing.T, f *fixture, crid string, _ User) {
				if r := f.reg(localKey, crid); deref(r.FirstName) == "Janet" || r.Version != 1 {
					t.Errorf("stored %+v", r)
				}
			}},
		{name: "deleted meanwhile", local: true,
			setup: func(f *fixture) string {
				crid := f.localUser(f.lc, email, false)
				f.store.failOnce("Update", registration.ErrNotFound)
				return crid
			},
			in: UpdateInput{FirstName: ptr("Janet")}, want: ErrUserNotFound.Error(), events: evs{evSubGetByID, "SUBSCRIBE_USER_UPDATE Failure"}},
		{name: "email taken meanwhile", local: true,
			setup: func(f *fixture) string {
				crid := f.localUser(f.lc, email, false)
				f.store.failOnce("Update", registration.ErrEmailTaken)
				return crid
			},
			in: UpdateInput{FirstName: ptr("Janet")}, want: ErrEmailInUse.Error(), events: evs{evSubGetByID, "SUBSCRIBE_USER_UPDATE Failure"}},
		{name: "unknown user", local: true, setup: func(f *fixture) string { return "nobody" },
			in: UpdateInput{FirstName: ptr("Janet")}, want: ErrUserNotFound.Error(), events: evs{evSubGetByID}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t)
			c := f.pc
			if tt.local {
				c = f.lc
			}
			crid := tt.setup(f)
			u, err := f.o.Update(f.ctx, c, crid, tt.in)
			if got := outcome(err); got != tt.want {
				t.Fatalf("outcome %q, want %q", got, tt.want)
			}
			f.expectCalls(tt.calls...)
			f.expectEvents(tt.events...)
			if tt.check != nil {
				tt.check(t, f, crid, u)
			}
		})
	}
}

func TestUpdateEmail(t *testing.T) {
	const (
		email    = "jane@example.com"
		newEmail = "janet@example.com"
		evChange = "AUTHSYSTEM_USER_CHANGEEMAIL Success"
		evSubChg = "SUBSCRIBE_USER_CHANGEEMAIL Success"
	)
	tests := []struct {
		name   string
		local  bool
		ignore bool
		setup  func(f *fixture) string
		to     string
		want   string
		calls  ops
		events evs
		stored string // the email Subscribe holds afterwards
		prov   string // the email the provider holds afterwards ("" when none)
		notice bool   // the old address is told
	}{
		{name: "linked: the provider, then Subscribe; the old address is told",
			setup: func(f *fixture) string { return f.linkedUser(email) }, to: newEmail, want: "ok",
			calls:  ops{providertest.OpGetUser, providertest.OpChangeEmail},
			events: evs{evAuthGetByID, evSubGetByID, evChange, evSubChg}, stored: newEmail, prov: newEmail, notice: true},
		{name: "ignoreProvider: Subscribe alone", ignore: true,
			setup: func(f *fixture) string { return f.linkedUser(email) }, to: newEmail, want: "ok",
			events: evs{evSubGetByID, evSubChg}, stored: newEmail, prov: email, notice: true},
		{name: "unchanged: nothing to do",
			setup: func(f *fixture) string { return f.linkedUser(email) }, to: email, want: "ok",
			calls: ops{providertest.OpGetUser}, events: evs{evAuthGetByID, evSubGetByID}, stored: email, prov: email},
		{name: "taken in Subscribe: refused before the provider is touched",
			setup: func(f *fixture) string { f.localUser(f.pc, newEmail, true); return f.linkedUser(email) }, to: newEmail,
			want: ErrEmailInUse.Error(), calls: ops{providertest.OpGetUser}, events: evs{evAuthGetByID, evSubGetByID}, stored: email, prov: email},
		{name: "taken at the provider",
			setup: func(f *fixture) string { f.providerUser(newEmail); return f.linkedUser(email) }, to: newEmail,
			want: ErrEmailInUse.Error(), calls: ops{providertest.OpGetUser, providertest.OpChangeEmail},
			events: evs{evAuthGetByID, evSubGetByID, "AUTHSYSTEM_USER_CHANGEEMAIL Failure"}, stored: email, prov: email},
		{name: "the provider rejects the address",
			setup: func(f *fixture) string {
				crid := f.linkedUser(email)
				f.prov.FailNext(providertest.OpChangeEmail, provider.ErrRejected)
				return crid
			},
			to: newEmail, want: ErrRejected.Error(), calls: ops{providertest.OpGetUser, providertest.OpChangeEmail},
			events: evs{evAuthGetByID, evSubGetByID, "AUTHSYSTEM_USER_CHANGEEMAIL Failure"}, stored: email, prov: email},
		{name: "the provider lost the user",
			setup: func(f *fixture) string {
				crid := f.linkedUser(email)
				f.prov.FailNext(providertest.OpChangeEmail, provider.ErrNotFound)
				return crid
			},
			to: newEmail, want: ErrUserNotFound.Error(), calls: ops{providertest.OpGetUser, providertest.OpChangeEmail},
			events: evs{evAuthGetByID, evSubGetByID, "AUTHSYSTEM_USER_CHANGEEMAIL Failure"}, stored: email, prov: email},
		{name: "the provider is down",
			setup: func(f *fixture) string {
				crid := f.linkedUser(email)
				f.prov.FailNext(providertest.OpChangeEmail, provider.ErrUnavailable)
				return crid
			},
			to: newEmail, want: ErrProviderUnavailable.Error(), calls: ops{providertest.OpGetUser, providertest.OpChangeEmail},
			events: evs{evAuthGetByID, evSubGetByID, "AUTHSYSTEM_USER_CHANGEEMAIL Failure"}, stored: email, prov: email},
		{name: "Subscribe fails after the provider changed: the provider's email is put back",
			setup: func(f *fixture) string {
				crid := f.linkedUser(email)
				f.store.failOnce("EnqueueEmail", errDisk)
				return crid
			},
			to: newEmail, want: "failed Update", calls: ops{providertest.OpGetUser, providertest.OpChangeEmail, providertest.OpChangeEmail},
			events: evs{evAuthGetByID, evSubGetByID, evChange, "SUBSCRIBE_USER_CHANGEEMAIL Failure", evChange}, stored: email, prov: email},
		{name: "Subscribe lost the race for the address: E400_08, the provider's email put back",
			setup: func(f *fixture) string {
				crid := f.linkedUser(email)
				f.store.failOnce("Update", registration.ErrEmailTaken)
				return crid
			},
			to: newEmail, want: ErrEmailInUse.Error(), calls: ops{providertest.OpGetUser, providertest.OpChangeEmail, providertest.OpChangeEmail},
			events: evs{evAuthGetByID, evSubGetByID, evChange, "SUBSCRIBE_USER_CHANGEEMAIL Failure", evChange}, stored: email, prov: email},
		{name: "putting it back fails too: the disagreement is recorded",
			setup: func(f *fixture) string {
				crid := f.linkedUser(email)
				f.store.failOnce("EnqueueEmail", errDisk)
				f.prov.FailNext(providertest.OpChangeEmail, nil)
				f.prov.FailNext(providertest.OpChangeEmail, provider.ErrUnavailable)
				return crid
			},
			to: newEmail, want: "failed Update", calls: ops{providertest.OpGetUser, providertest.OpChangeEmail, providertest.OpChangeEmail},
			events: evs{evAuthGetByID, evSubGetByID, evChange, "SUBSCRIBE_USER_CHANGEEMAIL Failure", "AUTHSYSTEM_USER_CHANGEEMAIL Failure"},
			stored: email, prov: newEmail},
		{name: "Subscribe-only user of a provider tenant",
			setup: func(f *fixture) string { return f.localUser(f.pc, email, true) }, to: newEmail, want: "ok",
			calls: ops{providertest.OpGetUser}, events: evs{evAuthGetByID, evSubGetByID, evSubChg}, stored: newEmail, notice: true},
		{name: "no provider", local: true, setup: func(f *fixture) string { return f.localUser(f.lc, email, false) }, to: newEmail, want: "ok",
			events: evs{evSubGetByID, evSubChg}, stored: newEmail, notice: true},
		{name: "no provider, the check of the new address fails", local: true,
			setup: func(f *fixture) string {
				crid := f.localUser(f.lc, email, false)
				f.store.failOnce("GetByEmail", errDisk)
				return crid
			},
			to: newEmail, want: "failed GetById", events: evs{evSubGetByID}, stored: email},
		{name: "unknown user", local: true, setup: func(f *fixture) string { return "nobody" }, to: newEmail,
			want: ErrUserNotFound.Error(), events: evs{evSubGetByID}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t)
			c := f.pc
			if tt.local {
				c = f.lc
			}
			crid := tt.setup(f)
			err := f.o.UpdateEmail(f.ctx, c, crid, tt.to, tt.ignore)
			if got := outcome(err); got != tt.want {
				t.Fatalf("outcome %q, want %q", got, tt.want)
			}
			f.expectCalls(tt.calls...)
			f.expectEvents(tt.events...)
			if tt.stored != "" {
				if got := f.reg(c.Tenant.Key, crid).Email; got != tt.stored {
					t.Errorf("Subscribe holds %s, want %s", got, tt.stored)
				}
			}
			if pu, ok := f.prov.User(crid); ok && pu.Email != tt.prov {
				t.Errorf("the provider holds %s, want %s", pu.Email, tt.prov)
			}
			if got := len(f.mails(email)) > 0 && f.mails(email)[len(f.mails(email))-1].Kind == "email-changed"; got != tt.notice {
				t.Errorf("old address told: %v, want %v", got, tt.notice)
			}
		})
	}
}

package orchestrator

import (
	"strings"
	"testing"

	"usersorchestrator/internal/provider"
	"usersorchestrator/internal/provider/providertest"
	"usersorchestrator/internal/registration"
)

const (
	evAuthGet       = "AUTHSYSTEM_USER_GET Success"
	evAuthGetByID   = "AUTHSYSTEM_USER_GETBYID Success"
	evAuthCreate    = "AUTHSYSTEM_USER_CREATE Success"
	evAuthDelete    = "AUTHSYSTEM_USER_DELETE Success"
	evAuthTicket    = "AUTHSYSTEM_USER_CHANGEPASSWORD Success"
	evSubCreate     = "SUBSCRIBE_USER_CREATE Success"
	evSubPending    = "SUBSCRIBE_USER_CREATEPENDING Success"
	evSubGet        = "SUBSCRIBE_USER_GET Success"
	evSubGetByID    = "SUBSCRIBE_USER_GETBYID Success"
	evSubUpdate     = "SUBSCRIBE_USER_UPDATE Success"
	evStartForgotPW = "SUBSCRIBE_USER_STARTFORGOTPASSWORD Success"
)

type (
	ops = []providertest.Op
	evs = []string
)

func TestCreate(t *testing.T) {
	const email = "jane@example.com"
	tests := []struct {
		name     string
		local    bool // call as the tenant without provider
		setup    func(f *fixture)
		in       CreateInput
		want     string
		calls    ops
		events   evs
		check    func(t *testing.T, f *fixture, ref UserRef)
		mailKind string
	}{
		{name: "provider: the user is made there, then in Subscribe", in: CreateInput{Email: email, Password: pw, FirstName: ptr("Jane")},
			want: "ok", calls: ops{providertest.OpFindByEmail, providertest.OpCreate}, events: evs{evAuthGet, evAuthCreate, evSubCreate},
			mailKind: "welcome",
			check: func(t *testing.T, f *fixture, ref UserRef) {
				r := f.reg(provKey, ref.CustomerRegistrationID)
				if r.AuthSystem != "Auth0" || r.PasswordHash != "" || !r.Verified || r.Pending || deref(r.FirstName) != "Jane" {
					t.Errorf("registration %+v", r)
				}
				if f.prov.Password(ref.CustomerRegistrationID) != pw {
					t.Error("the provider does not hold the password")
				}
				if u, _ := f.prov.User(ref.CustomerRegistrationID); !u.EmailVerified {
					t.Error("created unverified without verifyEmail")
				}
			}},
		{name: "provider, passwordless: a dummy password and the provider's ticket in the welcome email",
			in: CreateInput{Email: email}, want: "ok",
			calls:  ops{providertest.OpFindByEmail, providertest.OpCreate, providertest.OpPasswordChangeURL},
			events: evs{evAuthGet, evAuthCreate, evAuthTicket, evSubCreate}, mailKind: "welcome",
			check: func(t *testing.T, f *fixture, ref UserRef) {
				if got := f.prov.Password(ref.CustomerRegistrationID); got != "generated-password-123" {
					t.Errorf("provider password %q", got)
				}
				if body := f.mails(email)[0].Body; !strings.Contains(body, "https://provider.test/ticket?") {
					t.Errorf("welcome email without the provider's link:\n%s", body)
				}
			}},
		{name: "provider, verifyEmail: pending, unverified at the provider, a code by email",
			in: CreateInput{Email: email, Password: pw, VerifyEmail: true}, want: "ok",
			calls: ops{providertest.OpFindByEmail, providertest.OpCreate}, events: evs{evAuthGet, evAuthCreate, evSubPending},
			mailKind: "verification-code",
			check: func(t *testing.T, f *fixture, ref UserRef) {
				if r := f.reg(provKey, ref.CustomerRegistrationID); !r.Pending || r.Verified {
					t.Errorf("registration %+v", r)
				}
				if u, _ := f.prov.User(ref.CustomerRegistrationID); u.EmailVerified {
					t.Error("verified at the provider before Verify Email")
				}
			}},
		{name: "provider, passwordless with verifyEmail: the code email also carries the ticket",
			in: CreateInput{Email: email, VerifyEmail: true}, want: "ok",
			calls:  ops{providertest.OpFindByEmail, providertest.OpCreate, providertest.OpPasswordChangeURL},
			events: evs{evAuthGet, evAuthCreate, evAuthTicket, evSubPending}, mailKind: "verification-code",
			check: func(t *testing.T, f *fixture, ref UserRef) {
				if body := f.mails(email)[0].Body; !strings.Contains(body, "choose your password") || !strings.Contains(body, "https://provider.test/ticket?") {
					t.Errorf("code email without the password link:\n%s", body)
				}
			}},
		{name: "provider already has the email", setup: func(f *fixture) { f.providerUser(email) },
			in: CreateInput{Email: email, Password: pw}, want: ErrEmailInUse.Error(),
			calls: ops{providertest.OpFindByEmail}, events: evs{evAuthGet}},
		{name: "Subscribe already has the email: the provider is not asked",
			setup: func(f *fixture) { f.localUser(f.pc, email, true) },
			in:    CreateInput{Email: email, Password: pw}, want: ErrEmailInUse.Error()},
		{name: "Subscribe has the email pending",
			setup: func(f *fixture) {
				if _, err := f.o.SendVerificationCode(f.ctx, f.pc, email, ""); err != nil {
					f.t.Fatal(err)
				}
				f.settle()
			},
			in: CreateInput{Email: email, Password: pw}, want: ErrEmailPending.Error()},
		{name: "provider id given: links the provider's user, makes none",
			setup: func(f *fixture) { f.prov.Add(provider.User{ID: "auth0|given", Email: email}, pw) },
			in:    CreateInput{Email: "JANE@example.com", Password: pw, CustomerRegistrationID: "auth0|given"}, want: "ok",
			calls: ops{providertest.OpGetUser}, events: evs{evAuthGet, evSubCreate}, mailKind: "welcome",
			check: func(t *testing.T, f *fixture, ref UserRef) {
				if ref.CustomerRegistrationID != "auth0|given" || f.prov.Len() != 1 {
					t.Errorf("ref %+v, %d provider users", ref, f.prov.Len())
				}
			}},
		{name: "provider id given, passwordless: no ticket for a user the call did not make",
			setup: func(f *fixture) { f.prov.Add(provider.User{ID: "auth0|given", Email: email}, pw) },
			in:    CreateInput{Email: email, CustomerRegistrationID: "auth0|given"}, want: "ok",
			calls: ops{providertest.OpGetUser}, events: evs{evAuthGet, evSubCreate}, mailKind: "welcome"},
		{name: "provider id unknown to the provider", in: CreateInput{Email: email, Password: pw, CustomerRegistrationID: "auth0|nobody"},
			want: "invalid input body.customerRegistrationId", calls: ops{providertest.OpGetUser}, events: evs{evAuthGet}},
		{name: "provider id of a user with another email",
			setup: func(f *fixture) { f.prov.Add(provider.User{ID: "auth0|given", Email: "other@example.com"}, pw) },
			in:    CreateInput{Email: email, Password: pw, CustomerRegistrationID: "auth0|given"},
			want:  "invalid input body.email", calls: ops{providertest.OpGetUser}, events: evs{evAuthGet}},
		{name: "provider down reading the id", setup: func(f *fixture) { f.prov.Fail(providertest.OpGetUser, provider.ErrUnavailable) },
			in:   CreateInput{Email: email, Password: pw, CustomerRegistrationID: "auth0|given"},
			want: ErrProviderUnavailable.Error(), calls: ops{providertest.OpGetUser}, events: evs{"AUTHSYSTEM_USER_GET Failure"}},
		{name: "provider down searching the email", setup: func(f *fixture) { f.prov.Fail(providertest.OpFindByEmail, provider.ErrUnavailable) },
			in:   CreateInput{Email: email, Password: pw},
			want: ErrProviderUnavailable.Error(), calls: ops{providertest.OpFindByEmail}, events: evs{"AUTHSYSTEM_USER_GET Failure"}},
		{name: "provider refuses the password", in: CreateInput{Email: email, Password: "short"},
			want: ErrRejected.Error(), calls: ops{providertest.OpFindByEmail, providertest.OpCreate}, events: evs{evAuthGet, "AUTHSYSTEM_USER_CREATE Failure"}},
		{name: "provider says the user exists at create (a race)", setup: func(f *fixture) { f.prov.FailNext(providertest.OpCreate, provider.ErrUserExists) },
			in: CreateInput{Email: email, Password: pw}, want: ErrEmailInUse.Error(),
			calls: ops{providertest.OpFindByEmail, providertest.OpCreate}, events: evs{evAuthGet, "AUTHSYSTEM_USER_CREATE Failure"}},
		{name: "provider answers nonsense at create", setup: func(f *fixture) { f.prov.FailNext(providertest.OpCreate, provider.ErrProtocol) },
			in: CreateInput{Email: email, Password: pw}, want: "failed Create",
			calls: ops{providertest.OpFindByEmail, providertest.OpCreate}, events: evs{evAuthGet, "AUTHSYSTEM_USER_CREATE Failure"}},
		{name: "compensation: Subscribe fails after the provider create, the provider user is deleted",
			setup: func(f *fixture) { f.store.failOnce("Create", errDisk) },
			in:    CreateInput{Email: email, Password: pw}, want: "failed Create",
			calls:  ops{providertest.OpFindByEmail, providertest.OpCreate, providertest.OpDelete},
			events: evs{evAuthGet, evAuthCreate, "SUBSCRIBE_USER_CREATE Failure", evAuthDelete},
			check: func(t *testing.T, f *fixture, _ UserRef) {
				if f.prov.Len() != 0 {
					t.Error("the provider user was left behind")
				}
				if _, err := f.store.Store.GetByEmail(f.ctx, provKey, email); err == nil {
					t.Error("a registration was written")
				}
			}},
		{name: "compensation fails too: the orphan's delete is recorded as failed",
			setup: func(f *fixture) {
				f.store.failOnce("EnqueueEmail", errDisk)
				f.prov.Fail(providertest.OpDelete, provider.ErrUnavailable)
			},
			in: CreateInput{Email: email, Password: pw}, want: "failed Create",
			calls:  ops{providertest.OpFindByEmail, providertest.OpCreate, providertest.OpDelete},
			events: evs{evAuthGet, evAuthCreate, "SUBSCRIBE_USER_CREATE Failure", "AUTHSYSTEM_USER_DELETE Failure"}},
		{name: "compensation: the provider's ticket fails, the provider user is deleted",
			setup: func(f *fixture) { f.prov.Fail(providertest.OpPasswordChangeURL, provider.ErrUnavailable) },
			in:    CreateInput{Email: email}, want: ErrProviderUnavailable.Error(),
			calls:  ops{providertest.OpFindByEmail, providertest.OpCreate, providertest.OpPasswordChangeURL, providertest.OpDelete},
			events: evs{evAuthGet, evAuthCreate, "AUTHSYSTEM_USER_CHANGEPASSWORD Failure", evAuthDelete}},
		{name: "a concurrent create took the email in Subscribe: E400_08 and the provider user deleted",
			setup: func(f *fixture) { f.store.failOnce("Create", registration.ErrEmailTaken) },
			in:    CreateInput{Email: email, Password: pw}, want: ErrEmailInUse.Error(),
			calls:  ops{providertest.OpFindByEmail, providertest.OpCreate, providertest.OpDelete},
			events: evs{evAuthGet, evAuthCreate, "SUBSCRIBE_USER_CREATE Failure", evAuthDelete}},
		{name: "the provider's new id clashes with a registration: not the caller's mistake",
			setup: func(f *fixture) { f.store.failOnce("Create", registration.ErrIDTaken) },
			in:    CreateInput{Email: email, Password: pw}, want: "failed Create",
			calls:  ops{providertest.OpFindByEmail, providertest.OpCreate, providertest.OpDelete},
			events: evs{evAuthGet, evAuthCreate, "SUBSCRIBE_USER_CREATE Failure", evAuthDelete}},
		{name: "ignoreProvider on a provider tenant: Subscribe only, with the hash",
			in: CreateInput{Email: email, Password: pw, IgnoreProvider: true}, want: "ok", events: evs{evSubCreate}, mailKind: "welcome",
			check: func(t *testing.T, f *fixture, ref UserRef) {
				r := f.reg(provKey, ref.CustomerRegistrationID)
				if r.AuthSystem != "" || r.PasswordHash == "" || !strings.HasPrefix(r.CustomerRegistrationID, "local-") {
					t.Errorf("registration %+v", r)
				}
			}},
		{name: "no provider: a new id and the hash", local: true, in: CreateInput{Email: email, Password: pw}, want: "ok",
			events: evs{evSubCreate}, mailKind: "welcome",
			check: func(t *testing.T, f *fixture, ref UserRef) {
				if u, err := f.o.GetByID(f.ctx, f.lc, ref.CustomerRegistrationID, false); err != nil || u.State != StateStandard {
					t.Errorf("user %+v, %v", u, err)
				}
			}},
		{name: "no provider, passwordless: Lite, and a long-lived link to choose a password", local: true,
			in: CreateInput{Email: email, ReturnURL: "https://local.example/welcome"}, want: "ok",
			events: evs{evStartForgotPW, evSubCreate}, mailKind: "welcome",
			check: func(t *testing.T, f *fixture, ref UserRef) {
				if u, _ := f.o.GetByID(f.ctx, f.lc, ref.CustomerRegistrationID, false); u.State != StateLite {
					t.Errorf("state %s", u.State)
				}
				if body := f.mails(email)[0].Body; !strings.Contains(body, "https://local.example/welcome?encryptedEventId=") {
					t.Errorf("welcome email without the link:\n%s", body)
				}
			}},
		{name: "no provider, the caller's id", local: true, in: CreateInput{Email: email, Password: pw, CustomerRegistrationID: "crm-42"},
			want: "ok", events: evs{evSubCreate}, mailKind: "welcome",
			check: func(t *testing.T, f *fixture, ref UserRef) {
				if ref.CustomerRegistrationID != "crm-42" || !f.hasReg(localKey, "crm-42") {
					t.Errorf("ref %+v", ref)
				}
			}},
		{name: "no provider, an id in use", local: true,
			setup: func(f *fixture) {
				if _, err := f.o.Create(f.ctx, f.lc, CreateInput{Email: "first@example.com", CustomerRegistrationID: "crm-42"}); err != nil {
					f.t.Fatal(err)
				}
				f.settle()
			},
			in: CreateInput{Email: email, Password: pw, CustomerRegistrationID: "crm-42"}, want: ErrIDInUse.Error()},
		{name: "no provider, an id taken by a concurrent create", local: true,
			setup: func(f *fixture) { f.store.failOnce("Create", registration.ErrIDTaken) },
			in:    CreateInput{Email: email, Password: pw, CustomerRegistrationID: "crm-42"}, want: ErrIDInUse.Error(),
			events: evs{"SUBSCRIBE_USER_CREATE Failure"}},
		{name: "no provider, the email taken by a concurrent pending create", local: true,
			setup: func(f *fixture) {
				if _, err := f.o.SendVerificationCode(f.ctx, f.lc, email, ""); err != nil {
					f.t.Fatal(err)
				}
				f.settle()
				f.store.failOnce("GetByEmail", registration.ErrNotFound) // the pre-check ran before the other create
			},
			in: CreateInput{Email: email, Password: pw}, want: ErrEmailPending.Error(), events: evs{"SUBSCRIBE_USER_CREATE Failure"}},
		{name: "store down before anything is written", local: true, setup: func(f *fixture) { f.store.failOnce("GetByEmail", errDisk) },
			in: CreateInput{Email: email, Password: pw}, want: "failed GetById"},
		{name: "store down reading the id", local: true, setup: func(f *fixture) { f.store.failOnce("Get", errDisk) },
			in: CreateInput{Email: email, Password: pw, CustomerRegistrationID: "crm-42"}, want: "failed GetById"},
		{name: "a returnUrl to a host the tenant does not allow", in: CreateInput{Email: email, ReturnURL: "https://evil.example/"},
			want: "invalid input body.returnUrl"},
		{name: "an encrypted id that does not open", in: CreateInput{Email: email, EncryptedCustomerRegistrationID: "garbage"},
			want: ErrInvalidEncrypted.Error()},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t)
			c := f.pc
			if tt.local {
				c = f.lc
			}
			if tt.setup != nil {
				tt.setup(f)
			}
			before := len(f.mails(tt.in.Email))
			ref, err := f.o.Create(f.ctx, c, tt.in)
			if got := outcome(err); got != tt.want {
				t.Fatalf("outcome %q, want %q", got, tt.want)
			}
			f.expectCalls(tt.calls...)
			f.expectEvents(tt.events...)
			mails := f.mails(tt.in.Email)[before:]
			switch {
			case tt.mailKind == "" && len(mails) != 0:
				t.Errorf("emails queued for a failed create: %+v", mails)
			case tt.mailKind != "" && (len(mails) != 1 || mails[0].Kind != tt.mailKind):
				t.Errorf("emails %+v, want one %s", mails, tt.mailKind)
			}
			if err == nil {
				if ref.EncryptedCustomerRegistrationID == "" {
					t.Error("no encrypted id")
				}
				if id, oerr := f.o.open(c, purposeID, ref.EncryptedCustomerRegistrationID); oerr != nil || id != ref.CustomerRegistrationID {
					t.Errorf("encrypted id opens to %q, %v", id, oerr)
				}
			}
			if tt.check != nil {
				tt.check(t, f, ref)
			}
		})
	}
}

func TestCreateWithEncryptedID(t *testing.T) {
	f := newFixture(t)
	enc := f.o.sealID(f.lc, "crm-7")
	if _, err := f.o.Create(f.ctx, f.lc, CreateInput{Email: "a@example.com", Password: pw, CustomerRegistrationID: "crm-8", EncryptedCustomerRegistrationID: enc}); outcome(err) != ErrInvalidEncrypted.Error() {
		t.Errorf("disagreeing ids: %v", err)
	}
	ref, err := f.o.Create(f.ctx, f.lc, CreateInput{Email: "a@example.com", Password: pw, CustomerRegistrationID: "crm-7", EncryptedCustomerRegistrationID: enc})
	if err != nil || ref.CustomerRegistrationID != "crm-7" {
		t.Errorf("ref %+v, %v", ref, err)
	}
	// Sealed for another tenant: refused.
	if _, err := f.o.Create(f.ctx, f.pc, CreateInput{Email: "b@example.com", Password: pw, EncryptedCustomerRegistrationID: enc}); outcome(err) != ErrInvalidEncrypted.Error() {
		t.Errorf("another tenant's id: %v", err)
	}
}

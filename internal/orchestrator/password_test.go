package orchestrator

import (
	"net/url"
	"regexp"
	"testing"
	"time"

	"usersorchestrator/internal/provider"
	"usersorchestrator/internal/provider/providertest"
	"usersorchestrator/internal/ratelimit"
	"usersorchestrator/internal/registration"
)

const (
	evAuthChangePW = "AUTHSYSTEM_USER_CHANGEPASSWORD Success"
	evSubChangePW  = "SUBSCRIBE_USER_CHANGEPASSWORD Success"
	evFinish       = "SUBSCRIBE_USER_FINISHFORGOTPASSWORD Success"
)

func TestUpdatePassword(t *testing.T) {
	const email = "jane@example.com"
	tests := []struct {
		name   string
		local  bool
		ignore bool
		setup  func(f *fixture) string
		pw     string
		want   string
		calls  ops
		events evs
	}{
		{name: "linked: the provider holds it", setup: func(f *fixture) string { return f.linkedUser(email) }, pw: otherPW, want: "ok",
			calls: ops{providertest.OpGetUser, providertest.OpChangePassword}, events: evs{evAuthGetByID, evSubGetByID, evAuthChangePW, evSubChangePW}},
		{name: "the provider's policy refuses it", setup: func(f *fixture) string { return f.linkedUser(email) }, pw: "short", want: ErrRejected.Error(),
			calls: ops{providertest.OpGetUser, providertest.OpChangePassword}, events: evs{evAuthGetByID, evSubGetByID, "AUTHSYSTEM_USER_CHANGEPASSWORD Failure"}},
		{name: "the provider lost the user", setup: func(f *fixture) string {
			crid := f.linkedUser(email)
			f.prov.FailNext(providertest.OpChangePassword, provider.ErrNotFound)
			return crid
		}, pw: otherPW, want: ErrUserNotFound.Error(),
			calls: ops{providertest.OpGetUser, providertest.OpChangePassword}, events: evs{evAuthGetByID, evSubGetByID, "AUTHSYSTEM_USER_CHANGEPASSWORD Failure"}},
		{name: "the provider is down", setup: func(f *fixture) string {
			crid := f.linkedUser(email)
			f.prov.FailNext(providertest.OpChangePassword, provider.ErrUnavailable)
			return crid
		}, pw: otherPW, want: ErrProviderUnavailable.Error(),
			calls: ops{providertest.OpGetUser, providertest.OpChangePassword}, events: evs{evAuthGetByID, evSubGetByID, "AUTHSYSTEM_USER_CHANGEPASSWORD Failure"}},
		{name: "ignoreProvider: the hash in Subscribe, the provider's password untouched", ignore: true,
			setup: func(f *fixture) string { return f.linkedUser(email) }, pw: otherPW, want: "ok", events: evs{evSubGetByID, evSubChangePW}},
		{name: "Subscribe-only user of a provider tenant: the hash", setup: func(f *fixture) string { return f.localUser(f.pc, email, true) },
			pw: otherPW, want: "ok", calls: ops{providertest.OpGetUser}, events: evs{evAuthGetByID, evSubGetByID, evSubChangePW}},
		{name: "no provider: the hash", local: true, setup: func(f *fixture) string { return f.localUser(f.lc, email, false) },
			pw: otherPW, want: "ok", events: evs{evSubGetByID, evSubChangePW}},
		{name: "no provider, the store fails", local: true, setup: func(f *fixture) string {
			crid := f.localUser(f.lc, email, false)
			f.store.failOnce("EnqueueEmail", errDisk)
			return crid
		}, pw: otherPW, want: "failed Update", events: evs{evSubGetByID, "SUBSCRIBE_USER_CHANGEPASSWORD Failure"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t)
			c := f.pc
			if tt.local {
				c = f.lc
			}
			crid := tt.setup(f)
			err := f.o.UpdatePassword(f.ctx, c, crid, tt.pw, tt.ignore)
			if got := outcome(err); got != tt.want {
				t.Fatalf("outcome %q, want %q", got, tt.want)
			}
			f.expectCalls(tt.calls...)
			f.expectEvents(tt.events...)
			// The password that works afterwards is the new one exactly when the change succeeded.
			wantPW := pw
			if err == nil {
				wantPW = tt.pw
			}
			if _, err := f.o.Authenticate(f.ctx, c, AuthenticateInput{LoginName: email, Password: wantPW, IgnoreProvider: tt.ignore}); err != nil {
				t.Errorf("login with %q: %v", wantPW, err)
			}
			if n := len(f.mails(email)); (err == nil) != (n > 1) {
				t.Errorf("%d emails to the user", n)
			}
		})
	}
}

var linkRE = regexp.MustCompile(`https://\S+`)

// resetLink is the encryptedEventId of the last reset link emailed to the address.
func (f *fixture) resetLink(to string) string {
	f.t.Helper()
	m := f.mails(to)
	if len(m) == 0 {
		f.t.Fatalf("no email to %s", to)
	}
	u, err := url.Parse(linkRE.FindString(m[len(m)-1].Body))
	if err != nil {
		f.t.Fatal(err)
	}
	return u.Query().Get("encryptedEventId")
}

func TestForgotPassword(t *testing.T) {
	const email = "jane@example.com"
	t.Run("linked user: the provider takes the new password; the link works once", func(t *testing.T) {
		f := newFixture(t)
		crid := f.linkedUser(email)
		enc, err := f.o.StartForgotPassword(f.ctx, f.pc, email, "https://daily.example/reset")
		if err != nil {
			t.Fatal(err)
		}
		if got := f.resetLink(email); got != enc {
			t.Errorf("emailed %q, answered %q", got, enc)
		}
		f.expectCalls()
		f.expectEvents(evStartForgotPW)
		v, err := f.o.ValidateForgotPassword(f.ctx, f.pc, enc)
		if err != nil || v.CustomerRegistrationID != crid || v.EventID == 0 {
			t.Fatalf("validity %+v, %v", v, err)
		}
		f.expectEvents("SUBSCRIBE_USER_VALIDATEFORGOTPASSWORD Success")
		if err := f.o.FinishForgotPassword(f.ctx, f.pc, enc, otherPW); err != nil {
			t.Fatal(err)
		}
		// One Subscribe read, recorded after the provider's, in the published order.
		f.expectCalls(providertest.OpGetUser, providertest.OpChangePassword)
		f.expectEvents(evAuthGetByID, evSubGetByID, evAuthChangePW, evSubChangePW, evFinish)
		if f.prov.Password(crid) != otherPW {
			t.Error("the provider did not get the new password")
		}
		if err := f.o.FinishForgotPassword(f.ctx, f.pc, enc, pw); outcome(err) != ErrInvalidToken.Error() {
			t.Errorf("second use: %v", err)
		}
		if _, err := f.o.ValidateForgotPassword(f.ctx, f.pc, enc); outcome(err) != ErrInvalidToken.Error() {
			t.Errorf("validity after use: %v", err)
		}
		f.expectCalls()
	})
	t.Run("Subscribe-only user of a provider tenant: the hash, no provider call", func(t *testing.T) {
		f := newFixture(t)
		f.localUser(f.pc, email, true)
		enc, err := f.o.StartForgotPassword(f.ctx, f.pc, email, "")
		if err != nil {
			t.Fatal(err)
		}
		f.settle()
		if err := f.o.FinishForgotPassword(f.ctx, f.pc, enc, otherPW); err != nil {
			t.Fatal(err)
		}
		f.expectCalls()
		f.expectEvents(evSubGetByID, evSubChangePW, evFinish)
		if _, err := f.o.Authenticate(f.ctx, f.pc, AuthenticateInput{LoginName: email, Password: otherPW}); err != nil {
			t.Errorf("login with the new password: %v", err)
		}
	})
	for _, tt := range []struct {
		name string
		kind error
		want string
	}{
		{"the provider refuses the password: the link stays usable", provider.ErrRejected, ErrRejected.Error()},
		{"the provider is down: the link stays usable", provider.ErrUnavailable, ErrProviderUnavailable.Error()},
	} {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t)
			f.linkedUser(email)
			enc, err := f.o.StartForgotPassword(f.ctx, f.pc, email, "")
			if err != nil {
				t.Fatal(err)
			}
			f.prov.FailNext(providertest.OpChangePassword, tt.kind)
			if err := f.o.FinishForgotPassword(f.ctx, f.pc, enc, otherPW); outcome(err) != tt.want {
				t.Fatalf("outcome %v", err)
			}
			if err := f.o.FinishForgotPassword(f.ctx, f.pc, enc, otherPW); err != nil {
				t.Errorf("the link after a refused finish: %v", err)
			}
		})
	}
	t.Run("the provider down reading the user: E503 and nothing used up", func(t *testing.T) {
		f := newFixture(t)
		f.linkedUser(email)
		enc, _ := f.o.StartForgotPassword(f.ctx, f.pc, email, "")
		f.settle()
		f.prov.FailNext(providertest.OpGetUser, provider.ErrUnavailable)
		if err := f.o.FinishForgotPassword(f.ctx, f.pc, enc, otherPW); outcome(err) != ErrProviderUnavailable.Error() {
			t.Fatalf("outcome %v", err)
		}
		f.expectEvents("AUTHSYSTEM_USER_GETBYID Failure", "SUBSCRIBE_USER_FINISHFORGOTPASSWORD Failure")
		if _, err := f.o.ValidateForgotPassword(f.ctx, f.pc, enc); err != nil {
			t.Errorf("link used up: %v", err)
		}
	})
	t.Run("an unknown login name: a look-alike answer, no email, refused later", func(t *testing.T) {
		f := newFixture(t)
		enc, err := f.o.StartForgotPassword(f.ctx, f.lc, "nobody@example.com", "")
		if err != nil || enc == "" {
			t.Fatalf("%q, %v", enc, err)
		}
		if len(f.mails("nobody@example.com")) != 0 {
			t.Error("emailed an unknown address")
		}
		if _, err := f.o.ValidateForgotPassword(f.ctx, f.lc, enc); outcome(err) != ErrInvalidToken.Error() {
			t.Errorf("validity: %v", err)
		}
		if err := f.o.FinishForgotPassword(f.ctx, f.lc, enc, otherPW); outcome(err) != ErrInvalidToken.Error() {
			t.Errorf("finish: %v", err)
		}
	})
	t.Run("links expire, are bound to their tenant, and do not survive their user", func(t *testing.T) {
		f := newFixture(t)
		crid := f.localUser(f.lc, email, false)
		enc, _ := f.o.StartForgotPassword(f.ctx, f.lc, email, "")
		if _, err := f.o.ValidateForgotPassword(f.ctx, f.pc, enc); outcome(err) != ErrInvalidToken.Error() {
			t.Errorf("another tenant: %v", err)
		}
		for _, forged := range []string{"garbage", f.o.seal(f.lc, purposeForgotPassword, "no-dot"), f.o.seal(f.lc, purposeForgotPassword, "999.secret")} {
			if _, err := f.o.ValidateForgotPassword(f.ctx, f.lc, forged); outcome(err) != ErrInvalidToken.Error() {
				t.Errorf("forged %q: %v", forged, err)
			}
		}
		if err := f.store.Store.Delete(f.ctx, localKey, crid); err != nil {
			t.Fatal(err)
		}
		enc2 := enc
		f.localUser(f.lc, "other@example.com", false)
		enc, _ = f.o.StartForgotPassword(f.ctx, f.lc, "other@example.com", "")
		f.clock.Advance(f.o.ForgotPasswordTTL)
		if _, err := f.o.ValidateForgotPassword(f.ctx, f.lc, enc); outcome(err) != ErrInvalidToken.Error() {
			t.Errorf("expired: %v", err)
		}
		if err := f.o.FinishForgotPassword(f.ctx, f.lc, enc2, otherPW); outcome(err) != ErrInvalidToken.Error() {
			t.Errorf("deleted user's link: %v", err)
		}
	})
	t.Run("the user deleted after the link was validated", func(t *testing.T) {
		f := newFixture(t)
		crid := f.localUser(f.lc, email, false)
		enc, _ := f.o.StartForgotPassword(f.ctx, f.lc, email, "")
		f.store.failOnce("Get", registration.ErrNotFound)
		if err := f.o.FinishForgotPassword(f.ctx, f.lc, enc, otherPW); outcome(err) != ErrInvalidToken.Error() {
			t.Errorf("outcome %v", err)
		}
		_ = crid
	})
	t.Run("bad returnUrl, rate limit, store down", func(t *testing.T) {
		f := newFixture(t)
		if _, err := f.o.StartForgotPassword(f.ctx, f.lc, email, "https://evil.example/"); outcome(err) != "invalid input body.returnUrl" {
			t.Errorf("returnUrl: %v", err)
		}
		f.store.failOnce("GetByEmail", errDisk)
		if _, err := f.o.StartForgotPassword(f.ctx, f.lc, email, ""); outcome(err) != "failed ForgotPassword" {
			t.Errorf("store down: %v", err)
		}
		f.localUser(f.lc, email, false)
		f.store.failOnce("EnqueueEmail", errDisk)
		if _, err := f.o.StartForgotPassword(f.ctx, f.lc, email, ""); outcome(err) != "failed ForgotPassword" {
			t.Errorf("store down writing: %v", err)
		}
		f.expectEvents("SUBSCRIBE_USER_STARTFORGOTPASSWORD Failure")
		if _, err := f.o.StartForgotPassword(f.ctx, f.lc, email, ""); err != nil {
			t.Errorf("3rd start: %v", err)
		}
		if _, err := f.o.StartForgotPassword(f.ctx, f.lc, email, ""); outcome(err) != "too many attempts" {
			t.Errorf("4th start: %v", err)
		}
		f.store.failOnce("GetToken", errDisk)
		if _, err := f.o.ValidateForgotPassword(f.ctx, f.lc, f.o.seal(f.lc, purposeForgotPassword, "1.x")); outcome(err) != "failed ForgotPassword" {
			t.Errorf("store down validating: %v", err)
		}
	})
}

// code is the verification code of the last email to the address.
func (f *fixture) code(to string) string {
	f.t.Helper()
	m := f.mails(to)
	for i := len(m) - 1; i >= 0; i-- {
		if u, err := url.Parse(linkRE.FindString(m[i].Body)); err == nil && u.Query().Get("verificationCode") != "" {
			return u.Query().Get("verificationCode")
		}
	}
	f.t.Fatalf("no code emailed to %s", to)
	return ""
}

func TestVerification(t *testing.T) {
	const email = "jane@example.com"
	t.Run("provider user created with verifyEmail: verified at the provider, then created in Subscribe", func(t *testing.T) {
		f := newFixture(t)
		ref, err := f.o.Create(f.ctx, f.pc, CreateInput{Email: email, Password: pw, VerifyEmail: true})
		if err != nil {
			t.Fatal(err)
		}
		f.settle()
		if _, err := f.o.VerifyEmail(f.ctx, f.pc, email, "000000x"); outcome(err) != ErrInvalidCode.Error() {
			t.Fatalf("wrong code: %v", err)
		}
		f.settle()
		got, err := f.o.VerifyEmail(f.ctx, f.pc, email, f.code(email))
		if err != nil || got.CustomerRegistrationID != ref.CustomerRegistrationID {
			t.Fatalf("%+v, %v", got, err)
		}
		f.expectCalls(providertest.OpUpdate)
		f.expectEvents(evSubGet, "AUTHSYSTEM_USER_UPDATE Success", evSubCreate)
		if pu, _ := f.prov.User(ref.CustomerRegistrationID); !pu.EmailVerified {
			t.Error("not verified at the provider")
		}
		if r := f.reg(provKey, ref.CustomerRegistrationID); !r.Verified || r.Pending {
			t.Errorf("stored %+v", r)
		}
		if _, err := f.o.VerifyEmail(f.ctx, f.pc, email, f.code(email)); outcome(err) != ErrAlreadyVerified.Error() {
			t.Errorf("again: %v", err)
		}
	})
	t.Run("the provider down: E503, the code still usable", func(t *testing.T) {
		f := newFixture(t)
		if _, err := f.o.Create(f.ctx, f.pc, CreateInput{Email: email, Password: pw, VerifyEmail: true}); err != nil {
			t.Fatal(err)
		}
		f.prov.FailNext(providertest.OpUpdate, provider.ErrUnavailable)
		if _, err := f.o.VerifyEmail(f.ctx, f.pc, email, f.code(email)); outcome(err) != ErrProviderUnavailable.Error() {
			t.Fatalf("outcome %v", err)
		}
		if _, err := f.o.VerifyEmail(f.ctx, f.pc, email, f.code(email)); err != nil {
			t.Errorf("retry: %v", err)
		}
	})
	t.Run("a Subscribe-only pending user of a provider tenant: no provider call", func(t *testing.T) {
		f := newFixture(t)
		if _, err := f.o.SendVerificationCode(f.ctx, f.pc, email, ""); err != nil {
			t.Fatal(err)
		}
		f.settle()
		if _, err := f.o.VerifyEmail(f.ctx, f.pc, email, f.code(email)); err != nil {
			t.Fatal(err)
		}
		f.expectCalls()
		f.expectEvents(evSubGet, evSubCreate)
	})
	t.Run("no provider: send, resend, verify; an unverified (not pending) user is updated", func(t *testing.T) {
		f := newFixture(t)
		ref, err := f.o.SendVerificationCode(f.ctx, f.lc, email, "https://local.example/verify")
		if err != nil {
			t.Fatal(err)
		}
		f.expectEvents(evSubGet, evSubPending)
		first := f.code(email)
		if again, err := f.o.SendVerificationCode(f.ctx, f.lc, email, ""); err != nil || again != ref {
			t.Fatalf("resend %+v, %v", again, err)
		}
		f.expectEvents(evSubGet)
		if _, err := f.o.VerifyEmail(f.ctx, f.lc, email, first); outcome(err) != ErrInvalidCode.Error() {
			t.Errorf("the replaced code: %v", err)
		}
		if _, err := f.o.VerifyEmail(f.ctx, f.lc, email, f.code(email)); err != nil {
			t.Fatal(err)
		}
		if u, _ := f.o.GetByID(f.ctx, f.lc, ref.CustomerRegistrationID, false); u.State != StateLite || !u.Verified {
			t.Errorf("user %+v", u)
		}
		if _, err := f.o.SendVerificationCode(f.ctx, f.lc, email, ""); outcome(err) != ErrAlreadyVerified.Error() {
			t.Errorf("send to a verified user: %v", err)
		}

		crid := f.localUser(f.lc, "unv@example.com", false)
		if _, err := f.o.Update(f.ctx, f.lc, crid, UpdateInput{Verified: ptr(false)}); err != nil {
			t.Fatal(err)
		}
		if _, err := f.o.SendVerificationCode(f.ctx, f.lc, "unv@example.com", ""); err != nil {
			t.Fatal(err)
		}
		f.settle()
		if _, err := f.o.VerifyEmail(f.ctx, f.lc, "unv@example.com", f.code("unv@example.com")); err != nil {
			t.Fatal(err)
		}
		f.expectEvents(evSubGet, evSubUpdate)
	})
	t.Run("codes die after too many wrong guesses and when they expire", func(t *testing.T) {
		f := newFixture(t)
		f.o.MaxCodeAttempts = 2
		f.o.Limits.VerifyEmail = ratelimit.NewMemory(100, time.Hour, f.clock.Now)
		if _, err := f.o.SendVerificationCode(f.ctx, f.lc, email, ""); err != nil {
			t.Fatal(err)
		}
		code := f.code(email)
		for range 2 {
			if _, err := f.o.VerifyEmail(f.ctx, f.lc, email, "wrong"); outcome(err) != ErrInvalidCode.Error() {
				t.Fatal(err)
			}
		}
		if _, err := f.o.VerifyEmail(f.ctx, f.lc, email, code); outcome(err) != ErrInvalidCode.Error() {
			t.Errorf("the right code after the wrong ones: %v", err)
		}
		if _, err := f.o.SendVerificationCode(f.ctx, f.lc, email, ""); err != nil {
			t.Fatal(err)
		}
		code = f.code(email)
		f.clock.Advance(f.o.VerificationTTL)
		if _, err := f.o.VerifyEmail(f.ctx, f.lc, email, code); outcome(err) != ErrInvalidCode.Error() {
			t.Errorf("expired: %v", err)
		}
	})
	t.Run("refusals and failures", func(t *testing.T) {
		f := newFixture(t)
		f.o.Limits.VerifyEmail = ratelimit.NewMemory(100, time.Hour, f.clock.Now)
		f.o.Limits.VerificationCode = ratelimit.NewMemory(100, time.Hour, f.clock.Now)
		if _, err := f.o.VerifyEmail(f.ctx, f.lc, email, "123456"); outcome(err) != ErrEmailNotRegistered.Error() {
			t.Errorf("unknown email: %v", err)
		}
		if _, err := f.o.SendVerificationCode(f.ctx, f.lc, email, "https://evil.example/"); outcome(err) != "invalid input body.returnUrl" {
			t.Errorf("returnUrl: %v", err)
		}
		f.store.failOnce("GetByEmail", errDisk)
		if _, err := f.o.SendVerificationCode(f.ctx, f.lc, email, ""); outcome(err) != "failed Verification" {
			t.Errorf("store down: %v", err)
		}
		f.store.failOnce("Create", registration.ErrEmailTaken)
		if _, err := f.o.SendVerificationCode(f.ctx, f.lc, email, ""); outcome(err) != ErrEmailPending.Error() {
			t.Errorf("a concurrent send: %v", err)
		}
		f.settle()
		ref, err := f.o.SendVerificationCode(f.ctx, f.lc, email, "")
		if err != nil {
			t.Fatal(err)
		}
		f.store.failOnce("GetByEmail", errDisk)
		if _, err := f.o.VerifyEmail(f.ctx, f.lc, email, "1"); outcome(err) != "failed Verification" {
			t.Errorf("store down reading: %v", err)
		}
		f.store.failOnce("GetToken", errDisk)
		if _, err := f.o.VerifyEmail(f.ctx, f.lc, email, "1"); outcome(err) != "failed Verification" {
			t.Errorf("store down reading the code: %v", err)
		}
		f.store.failOnce("RecordTokenFailure", errDisk)
		if _, err := f.o.VerifyEmail(f.ctx, f.lc, email, "1"); outcome(err) != "failed Verification" {
			t.Errorf("store down counting: %v", err)
		}
		f.store.failOnce("Update", errDisk)
		if _, err := f.o.VerifyEmail(f.ctx, f.lc, email, f.code(email)); outcome(err) != "failed Verification" {
			t.Errorf("store down writing: %v", err)
		}
		if err := f.store.Store.UseToken(f.ctx, localKey, registration.PurposeVerifyEmail, ref.CustomerRegistrationID, f.clock.Now()); err != nil {
			t.Fatal(err)
		}
		if _, err := f.o.VerifyEmail(f.ctx, f.lc, email, f.code(email)); outcome(err) != ErrInvalidCode.Error() {
			t.Errorf("used code: %v", err)
		}
		if err := f.store.Store.Delete(f.ctx, localKey, ref.CustomerRegistrationID); err != nil {
			t.Fatal(err)
		}
		f.store.failOnce("PutToken", errDisk)
		if _, err := f.o.SendVerificationCode(f.ctx, f.lc, email, ""); outcome(err) != "failed Verification" {
			t.Errorf("store down issuing: %v", err)
		}
	})
	t.Run("a code used by a concurrent call", func(t *testing.T) {
		f := newFixture(t)
		ref, _ := f.o.SendVerificationCode(f.ctx, f.lc, email, "")
		code := f.code(email)
		// The check passes, then the other call uses the code first.
		tok, err := f.store.Store.GetToken(f.ctx, localKey, registration.PurposeVerifyEmail, ref.CustomerRegistrationID)
		if err != nil {
			t.Fatal(err)
		}
		if err := f.store.Store.UseToken(f.ctx, localKey, registration.PurposeVerifyEmail, ref.CustomerRegistrationID, f.clock.Now()); err != nil {
			t.Fatal(err)
		}
		tok.UsedAt = nil
		f.store.tokenOverride = &tok
		if _, err := f.o.VerifyEmail(f.ctx, f.lc, email, code); outcome(err) != ErrInvalidCode.Error() {
			t.Errorf("outcome %v", err)
		}
	})
}

func TestUserEvents(t *testing.T) {
	f := newFixture(t)
	crid := f.localUser(f.lc, "jane@example.com", false)
	f.clock.Advance(time.Second)
	if _, err := f.o.GetByID(f.ctx, f.lc, crid, false); err != nil {
		t.Fatal(err)
	}
	page, err := f.o.UserEvents(f.ctx, f.lc, crid, 1, 1)
	if err != nil {
		t.Fatal(err)
	}
	if page.TotalCount != 2 || len(page.Events) != 1 || page.Events[0].TypeCode != "SUBSCRIBE_USER_GETBYID" || page.Events[0].Outcome != "Success" {
		t.Errorf("page %+v", page)
	}
	if _, err := f.o.UserEvents(f.ctx, f.lc, "nobody", 10, 1); outcome(err) != ErrUserNotFound.Error() {
		t.Errorf("unknown user: %v", err)
	}
	f.store.failOnce("Get", errDisk)
	if _, err := f.o.UserEvents(f.ctx, f.lc, crid, 10, 1); err == nil {
		t.Error("store down reading the user: no error")
	}
	f.store.failOnce("ListEvents", errDisk)
	if _, err := f.o.UserEvents(f.ctx, f.lc, crid, 10, 1); err == nil {
		t.Error("store down listing: no error")
	}
}

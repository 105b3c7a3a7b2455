package orchestrator

import (
	"context"
	"crypto/hmac"
	"errors"

	"usersorchestrator/internal/events"
	"usersorchestrator/internal/mail"
	"usersorchestrator/internal/provider"
	"usersorchestrator/internal/registration"
)

const (
	verifyLimit = "verify"
	sendLimit   = "send-code"
)

// VerifyEmail is POST /v4/Users/Verification: the emailed code confirms the address, and a
// pending registration becomes a real one (SUBSCRIBE_USER_CREATE, as published).
func (o *Orchestrator) VerifyEmail(ctx context.Context, c Call, email, code string) (UserRef, error) {
	if err := o.limited(ctx, o.Limits.VerifyEmail, c, verifyLimit, email); err != nil {
		return UserRef{}, err
	}
	reg, err := timed(ctx, o, c, step{ev: events.SubscribeGet, notFoundIsAnswer: true}, func() (registration.Registration, error) {
		return o.Store.GetByEmail(ctx, c.Tenant.Key, email)
	})
	switch {
	case errors.Is(err, registration.ErrNotFound):
		return UserRef{}, ErrEmailNotRegistered
	case err != nil:
		return UserRef{}, failed(WorkflowVerification, err)
	case reg.Verified && !reg.Pending:
		return UserRef{}, ErrAlreadyVerified
	}
	crid := reg.CustomerRegistrationID
	tok, err := o.Store.GetToken(ctx, c.Tenant.Key, registration.PurposeVerifyEmail, crid)
	switch {
	case errors.Is(err, registration.ErrNotFound):
		return UserRef{}, ErrInvalidCode
	case err != nil:
		return UserRef{}, failed(WorkflowVerification, err)
	case tok.UsedAt != nil || !o.Now().Before(tok.ExpiresAt) || tok.FailedAttempts >= o.MaxCodeAttempts:
		return UserRef{}, ErrInvalidCode
	}
	if !hmac.Equal(tok.SecretHash, o.codeHash(c, crid, code)) {
		// Enough wrong guesses kill the code, whatever the rate limiter allows.
		if _, err := o.Store.RecordTokenFailure(ctx, c.Tenant.Key, registration.PurposeVerifyEmail, crid); err != nil {
			return UserRef{}, failed(WorkflowVerification, err)
		}
		return UserRef{}, ErrInvalidCode
	}
	if o.passwordInProvider(c, reg) {
		// The provider keeps the verified flag with the password.
		_, err := timed(ctx, o, c, step{ev: events.AuthSystemUpdate, crid: crid}, func() (provider.User, error) {
			return o.provider(c).Update(ctx, crid, provider.Update{EmailVerified: ptr(true)})
		})
		if err != nil && !errors.Is(err, provider.ErrNotFound) {
			return UserRef{}, fromProvider(WorkflowVerification, err)
		}
	}
	ev := events.SubscribeUpdate
	if reg.Pending {
		ev = events.SubscribeCreate
	}
	start := o.Now()
	err = o.inTx(ctx, func(tx Store) error {
		if err := tx.UseToken(ctx, c.Tenant.Key, registration.PurposeVerifyEmail, crid, o.Now().UTC()); err != nil {
			if errors.Is(err, registration.ErrNotFound) {
				return ErrInvalidCode // used by a concurrent call
			}
			return err
		}
		if err := o.updateInTx(ctx, tx, c, crid, func(r *registration.Registration) { r.Verified, r.Pending = true, false }); err != nil {
			return err
		}
		_, err := tx.RecordEvent(ctx, o.event(c, ev, crid, start, nil))
		return err
	})
	if err != nil {
		o.observe(ctx, c, ev, crid, start, err)
		if isOutcome(err) {
			return UserRef{}, err
		}
		return UserRef{}, failed(WorkflowVerification, err)
	}
	o.resetLimit(ctx, o.Limits.VerifyEmail, c, verifyLimit, email)
	return o.refOf(c, crid), nil
}

// SendVerificationCode is POST /v4/Users/VerificationCode: a new code (replacing the last one)
// for the address, whose registration is created pending when there is none.
func (o *Orchestrator) SendVerificationCode(ctx context.Context, c Call, email, requestedReturnURL string) (UserRef, error) {
	link, err := returnURL(c, requestedReturnURL)
	if err != nil {
		return UserRef{}, err
	}
	if err := o.limited(ctx, o.Limits.VerificationCode, c, sendLimit, email); err != nil {
		return UserRef{}, err
	}
	reg, err := timed(ctx, o, c, step{ev: events.SubscribeGet, notFoundIsAnswer: true}, func() (registration.Registration, error) {
		return o.Store.GetByEmail(ctx, c.Tenant.Key, email)
	})
	exists := err == nil
	switch {
	case err != nil && !errors.Is(err, registration.ErrNotFound):
		return UserRef{}, failed(WorkflowVerification, err)
	case exists && reg.Verified && !reg.Pending:
		return UserRef{}, ErrAlreadyVerified
	case !exists:
		now := o.Now().UTC()
		reg = registration.Registration{
			Tenant: c.Tenant.Key, CustomerRegistrationID: o.NewID(), Email: email, Pending: true,
			AddDate: now, AddSource: c.SourceSystem, ChangeDate: now, ChangeSource: c.SourceSystem,
		}
	}
	start := o.Now()
	err = o.inTx(ctx, func(tx Store) error {
		if !exists {
			if err := tx.Create(ctx, reg); err != nil {
				return err
			}
		}
		code, err := o.issueCode(ctx, tx, c, reg)
		if err != nil {
			return err
		}
		if err := o.enqueue(ctx, tx, mail.VerificationCode(c.Tenant, reg.Email, code, verificationLink(link, reg.Email, code))); err != nil {
			return err
		}
		if !exists {
			_, err = tx.RecordEvent(ctx, o.event(c, events.SubscribeCreatePending, reg.CustomerRegistrationID, start, nil))
		}
		return err
	})
	if err != nil {
		if !exists {
			o.observe(ctx, c, events.SubscribeCreatePending, reg.CustomerRegistrationID, start, err)
		}
		if errors.Is(err, registration.ErrEmailTaken) {
			return UserRef{}, ErrEmailPending // created by a concurrent call a moment ago
		}
		return UserRef{}, failed(WorkflowVerification, err)
	}
	o.MailQueued()
	return o.refOf(c, reg.CustomerRegistrationID), nil
}

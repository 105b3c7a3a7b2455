package orchestrator

import (
	"context"
	"errors"

	"usersorchestrator/internal/events"
	"usersorchestrator/internal/mail"
	"usersorchestrator/internal/registration"
)

const forgotLimit = "forgot"

// StartForgotPassword is POST /v4/Users/ForgotPassword: it emails a reset link and answers its
// encryptedEventId. An unknown login name gets a look-alike answer and no email, so the call does
// not tell who has an account.
func (o *Orchestrator) StartForgotPassword(ctx context.Context, c Call, loginName, requestedReturnURL string) (string, error) {
	link, err := returnURL(c, requestedReturnURL)
	if err != nil {
		return "", err
	}
	if err := o.limited(ctx, o.Limits.ForgotPassword, c, forgotLimit, loginName); err != nil {
		return "", err
	}
	reg, err := o.Store.GetByEmail(ctx, c.Tenant.Key, loginName)
	switch {
	case errors.Is(err, registration.ErrNotFound):
		enc, err := o.fakeEventID(c)
		return enc, failed(WorkflowForgotPassword, err)
	case err != nil:
		return "", failed(WorkflowForgotPassword, err)
	}
	start := o.Now()
	var enc string
	err = o.inTx(ctx, func(tx Store) error {
		var l string
		var err error
		if l, enc, err = o.issueResetLink(ctx, tx, c, reg, link, o.ForgotPasswordTTL); err != nil {
			return err
		}
		err = o.enqueue(ctx, tx, mail.ForgotPassword(c.Tenant, reg.Email, l))
		return err
	})
	if err != nil {
		o.observe(ctx, c, events.SubscribeStartForgotPassword, reg.CustomerRegistrationID, start, err)
		return "", failed(WorkflowForgotPassword, err)
	}
	o.MailQueued()
	return enc, nil
}

// ForgotPasswordValidity is what Validity answers for a live link.
type ForgotPasswordValidity struct {
	EventID                int64
	CustomerRegistrationID string
}

// ValidateForgotPassword is POST /v4/Users/ForgotPassword/Validity. It does not use the link up.
func (o *Orchestrator) ValidateForgotPassword(ctx context.Context, c Call, encryptedEventID string) (ForgotPasswordValidity, error) {
	start := o.Now()
	tok, err := o.resetToken(ctx, c, encryptedEventID)
	o.observe(ctx, c, events.SubscribeValidateForgotPassword, tok.CustomerRegistrationID, start, err)
	if err != nil {
		return ForgotPasswordValidity{}, err
	}
	return ForgotPasswordValidity{EventID: tok.EventID, CustomerRegistrationID: tok.CustomerRegistrationID}, nil
}

// FinishForgotPassword is POST /v4/Users/ForgotPassword/Finish: it sets the new password and
// uses the link up; of two concurrent calls with one link exactly one succeeds. A password the
// provider refuses (or a provider that is down) leaves the link usable.
func (o *Orchestrator) FinishForgotPassword(ctx context.Context, c Call, encryptedEventID, password string) error {
	start := o.Now()
	tok, err := o.finishForgotPassword(ctx, c, encryptedEventID, password)
	if errors.Is(err, ErrUserNotFound) {
		err = ErrInvalidToken
	}
	o.observe(ctx, c, events.SubscribeFinishForgotPassword, tok.CustomerRegistrationID, start, err)
	return err
}

func (o *Orchestrator) finishForgotPassword(ctx context.Context, c Call, encryptedEventID, password string) (registration.Token, error) {
	tok, err := o.resetToken(ctx, c, encryptedEventID)
	if err != nil {
		return tok, err
	}
	f, err := o.readPasswordHolder(ctx, c, tok.CustomerRegistrationID, readByID, WorkflowForgotPassword)
	if err != nil {
		return tok, err
	}
	useUp := func(ctx context.Context, s Store) error {
		err := s.UseToken(ctx, c.Tenant.Key, registration.PurposeForgotPassword, tok.ID, o.Now().UTC())
		if errors.Is(err, registration.ErrNotFound) {
			return ErrInvalidToken
		}
		return err
	}
	if !providerHolds(f) {
		// Subscribe holds the password: the new hash and the used-up link land together.
		return tok, o.setPassword(ctx, c, f, password, WorkflowForgotPassword, func(tx Store) error { return useUp(ctx, tx) })
	}
	// The provider holds the password and cannot join a transaction: claim the link first, and
	// give it back when the provider did not take the new password.
	if err := useUp(ctx, o.Store); err != nil {
		return tok, failed(WorkflowForgotPassword, err)
	}
	err = o.setPassword(ctx, c, f, password, WorkflowForgotPassword, nil)
	if errors.Is(err, ErrRejected) || errors.Is(err, ErrProviderUnavailable) {
		if perr := o.Store.PutToken(context.WithoutCancel(ctx), tok); perr != nil {
			o.Log.ErrorContext(ctx, "giving back a forgot-password link failed", "request_id", c.RequestID, "error", perr)
		}
	}
	return tok, err
}

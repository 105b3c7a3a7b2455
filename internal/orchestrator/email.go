package orchestrator

import (
	"context"
	"errors"

	"usersorchestrator/internal/events"
	"usersorchestrator/internal/mail"
	"usersorchestrator/internal/provider"
	"usersorchestrator/internal/registration"
)

// UpdateEmail is PATCH /v4/Users/{customerRegistrationId}/Email. An address another user of the
// tenant has answers ErrEmailInUse; the old address is told of the change.
func (o *Orchestrator) UpdateEmail(ctx context.Context, c Call, crid, email string, ignoreProvider bool) error {
	f, err := o.readUser(ctx, c, crid, o.askProvider(c, ignoreProvider), readByID, WorkflowGetByID)
	if err != nil {
		return err
	}
	old := f.reg.Email
	if old == email {
		return nil
	}
	// Refuse a taken address before touching the provider, so the common case needs no undo.
	if other, err := o.Store.GetByEmail(ctx, c.Tenant.Key, email); err == nil && other.CustomerRegistrationID != crid {
		return ErrEmailInUse
	} else if err != nil && !errors.Is(err, registration.ErrNotFound) {
		return failed(WorkflowGetByID, err)
	}
	if providerHolds(f) {
		_, err := timed(ctx, o, c, step{ev: events.AuthSystemChangeEmail, crid: crid}, func() (provider.User, error) {
			return o.provider(c).ChangeEmail(ctx, crid, email)
		})
		switch {
		case errors.Is(err, provider.ErrUserExists):
			return ErrEmailInUse
		case errors.Is(err, provider.ErrRejected):
			return errors.Join(ErrRejected, err)
		case errors.Is(err, provider.ErrNotFound):
			return ErrUserNotFound
		case err != nil:
			return fromProvider(WorkflowUpdate, err)
		}
	}
	start := o.Now()
	err = o.inTx(ctx, func(tx Store) error {
		if err := o.updateInTx(ctx, tx, c, crid, func(r *registration.Registration) { r.Email = email }); err != nil {
			return err
		}
		// A link mailed to the old address must not outlive the change of address.
		if err := o.endResetLinks(ctx, tx, c, crid); err != nil {
			return err
		}
		if err := o.enqueue(ctx, tx, mail.EmailChanged(c.Tenant, old, email)); err != nil {
			return err
		}
		_, err := tx.RecordEvent(ctx, o.event(c, events.SubscribeChangeEmail, crid, start, nil))
		return err
	})
	if err != nil {
		o.observe(ctx, c, events.SubscribeChangeEmail, crid, start, err)
		if providerHolds(f) {
			o.undoProviderEmail(ctx, c, crid, old)
		}
		switch {
		case errors.Is(err, registration.ErrEmailTaken):
			return ErrEmailInUse
		case isOutcome(err):
			return err
		}
		return failed(WorkflowUpdate, err)
	}
	o.MailQueued()
	return nil
}

// undoProviderEmail puts the provider's email back after Subscribe refused the change, so the two
// do not disagree about the login name.
func (o *Orchestrator) undoProviderEmail(ctx context.Context, c Call, crid, old string) {
	ctx = context.WithoutCancel(ctx)
	_, err := timed(ctx, o, c, step{ev: events.AuthSystemChangeEmail, crid: crid}, func() (provider.User, error) {
		return o.provider(c).ChangeEmail(ctx, crid, old)
	})
	if err != nil {
		o.Log.ErrorContext(ctx, "restoring the provider's email after a failed change failed; provider and Subscribe disagree",
			"provider", o.provider(c).Name(), "customer_registration_id", crid, "request_id", c.RequestID, "error", err)
	}
}

package orchestrator

import (
	"context"
	"errors"

	"usersorchestrator/internal/events"
	"usersorchestrator/internal/mail"
	"usersorchestrator/internal/provider"
	"usersorchestrator/internal/registration"
)

// UpdatePassword is PATCH /v4/Users/{customerRegistrationId}/Password.
func (o *Orchestrator) UpdatePassword(ctx context.Context, c Call, crid, password string, ignoreProvider bool) error {
	f, err := o.readUser(ctx, c, crid, o.askProvider(c, ignoreProvider), readByID, WorkflowGetByID)
	if err != nil {
		return err
	}
	return o.setPassword(ctx, c, f, password, WorkflowUpdate, nil)
}

// setPassword changes the password where the user authenticates: in the provider for a user it
// holds, in Subscribe (the hash) otherwise; then tells the user by email. inTx, when set, runs in
// the same transaction as the Subscribe write (forgot password uses up its link there).
func (o *Orchestrator) setPassword(ctx context.Context, c Call, f found, password string, w Workflow, inTx func(tx Store) error) error {
	crid := f.reg.CustomerRegistrationID
	var hash string
	if providerHolds(f) {
		err := timedErr(ctx, o, c, step{ev: events.AuthSystemChangePassword, crid: crid}, func() error {
			return o.provider(c).ChangePassword(ctx, crid, password)
		})
		switch {
		case errors.Is(err, provider.ErrRejected):
			return errors.Join(ErrRejected, err)
		case errors.Is(err, provider.ErrNotFound):
			return ErrUserNotFound
		case err != nil:
			return fromProvider(w, err)
		}
	} else {
		var err error
		if hash, err = o.Hasher.Hash(password); err != nil {
			return failed(w, err)
		}
	}
	start := o.Now()
	err := o.inTx(ctx, func(tx Store) error {
		if inTx != nil {
			if err := inTx(tx); err != nil {
				return err
			}
		}
		// The change ends the sessions issued before it (userForToken compares) and every
		// forgot-password or welcome link still out: none may set the password again.
		now := o.Now().UTC()
		err := o.updateInTx(ctx, tx, c, crid, func(r *registration.Registration) {
			if hash != "" {
				r.PasswordHash = hash
			}
			r.PasswordChangedAt = &now
		})
		if errors.Is(err, ErrUserNotFound) && hash == "" {
			// The provider has taken the password of a user Subscribe no longer holds: there is
			// no session or link of it here to end.
			err = nil
		}
		if err != nil {
			return err
		}
		if err := o.endResetLinks(ctx, tx, c, crid); err != nil {
			return err
		}
		if err := o.enqueue(ctx, tx, mail.PasswordChanged(c.Tenant, f.reg.Email)); err != nil {
			return err
		}
		_, err = tx.RecordEvent(ctx, o.event(c, events.SubscribeChangePassword, crid, start, nil))
		return err
	})
	if err != nil {
		o.observe(ctx, c, events.SubscribeChangePassword, crid, start, err)
		if isOutcome(err) {
			return err
		}
		return failed(w, err)
	}
	o.MailQueued()
	return nil
}

// endResetLinks ends every forgot-password and welcome link of the user still out (used up now).
func (o *Orchestrator) endResetLinks(ctx context.Context, tx Store, c Call, crid string) error {
	_, err := tx.RevokeTokens(ctx, c.Tenant.Key, crid, registration.PurposeForgotPassword, o.Now().UTC())
	return err
}

// updateInTx reads and rewrites a registration inside a transaction (the transaction makes the
// read-modify-write atomic, so there is no version conflict to retry).
func (o *Orchestrator) updateInTx(ctx context.Context, tx Store, c Call, crid string, change func(*registration.Registration)) error {
	r, err := tx.Get(ctx, c.Tenant.Key, crid)
	if errors.Is(err, registration.ErrNotFound) {
		return ErrUserNotFound
	}
	if err != nil {
		return err
	}
	change(&r)
	r.ChangeDate = o.Now().UTC()
	r.ChangeSource = c.SourceSystem
	_, err = tx.Update(ctx, r)
	return err
}

package orchestrator

import (
	"context"
	"errors"
	"maps"
	"time"

	"usersorchestrator/internal/events"
	"usersorchestrator/internal/provider"
	"usersorchestrator/internal/registration"
)

// UpdateInput is Update User: nil fields are left as they are.
type UpdateInput struct {
	FirstName *string
	LastName  *string
	// Metadata is merged key by key; a nil value removes the key.
	Metadata             map[string]*string
	Verified             *bool
	LastLogoutDate       *time.Time
	RemoveLastLogoutDate bool
	IgnoreProvider       bool
}

// maxConflictRetries bounds how often a write is redone when the registration changed under it.
const maxConflictRetries = 3

// Update is PUT /v4/Users/{customerRegistrationId}. A provider that refuses the change answers
// ErrUpdateRefused and Subscribe is left untouched.
func (o *Orchestrator) Update(ctx context.Context, c Call, crid string, in UpdateInput) (User, error) {
	f, err := o.readUser(ctx, c, crid, o.askProvider(c, in.IgnoreProvider), readByID, WorkflowGetByID)
	if err != nil {
		return User{}, err
	}
	if providerHolds(f) && (in.FirstName != nil || in.LastName != nil || in.Metadata != nil || in.Verified != nil) {
		pu, err := timed(ctx, o, c, step{ev: events.AuthSystemUpdate, crid: crid}, func() (provider.User, error) {
			return o.provider(c).Update(ctx, crid, provider.Update{
				FirstName: in.FirstName, LastName: in.LastName, Metadata: in.Metadata, EmailVerified: in.Verified,
			})
		})
		switch {
		case errors.Is(err, provider.ErrRejected), errors.Is(err, provider.ErrNotFound):
			return User{}, errors.Join(ErrUpdateRefused, err)
		case err != nil:
			return User{}, fromProvider(WorkflowUpdate, err)
		}
		f.provUser = &pu
	}
	reg, err := o.rewrite(ctx, c, f.reg, events.SubscribeUpdate, func(r *registration.Registration) {
		if in.FirstName != nil {
			r.FirstName = in.FirstName
		}
		if in.LastName != nil {
			r.LastName = in.LastName
		}
		if in.Metadata != nil {
			md := maps.Clone(r.Metadata)
			if md == nil {
				md = map[string]string{}
			}
			for k, v := range in.Metadata {
				if v == nil {
					delete(md, k)
				} else {
					md[k] = *v
				}
			}
			r.Metadata = md
		}
		if in.Verified != nil {
			r.Verified = *in.Verified
			if *in.Verified {
				r.Pending = false
			}
		}
		if in.LastLogoutDate != nil {
			r.LastLogoutDate = ptr(in.LastLogoutDate.UTC())
		}
		if in.RemoveLastLogoutDate {
			r.LastLogoutDate = nil
		}
	})
	if err != nil {
		return User{}, err
	}
	return o.userOf(c, reg), nil
}

// rewrite applies change to the registration and stores it, recording ev. A concurrent change
// makes it read the registration again and reapply change, a few times at most.
func (o *Orchestrator) rewrite(ctx context.Context, c Call, reg registration.Registration, ev events.Type, change func(*registration.Registration)) (registration.Registration, error) {
	start := o.Now()
	for attempt := 0; ; attempt++ {
		next := reg
		change(&next)
		next.ChangeDate = o.Now().UTC()
		next.ChangeSource = c.SourceSystem
		// The change's event is written in the change's own transaction, as a create's is: queued
		// behind it (observe), it was lost when the process died between the commit and the
		// event writer's next batch (`make soak` found an acknowledged update without its event).
		var updated registration.Registration
		err := o.inTx(ctx, func(tx Store) error {
			var err error
			if updated, err = tx.Update(ctx, next); err != nil {
				return err
			}
			_, err = tx.RecordEvent(ctx, o.event(c, ev, reg.CustomerRegistrationID, start, nil))
			return err
		})
		if err == nil {
			return updated, nil
		}
		if errors.Is(err, registration.ErrConflict) && attempt < maxConflictRetries {
			if reg, err = o.Store.Get(ctx, c.Tenant.Key, reg.CustomerRegistrationID); err == nil {
				continue
			}
		}
		o.observe(ctx, c, ev, reg.CustomerRegistrationID, start, err)
		switch {
		case errors.Is(err, registration.ErrEmailTaken):
			return registration.Registration{}, ErrEmailInUse
		case errors.Is(err, registration.ErrNotFound):
			return registration.Registration{}, ErrUserNotFound
		}
		return registration.Registration{}, failed(WorkflowUpdate, err)
	}
}

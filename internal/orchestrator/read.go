package orchestrator

import (
	"context"
	"errors"
	"maps"

	"usersorchestrator/internal/events"
	"usersorchestrator/internal/provider"
	"usersorchestrator/internal/registration"
)

// readEvents names the two reads of a flow: the published pages call the provider read
// AUTHSYSTEM_USER_GET in the create and encrypted-get flows and AUTHSYSTEM_USER_GETBYID elsewhere,
// and the Subscribe read SUBSCRIBE_USER_GET or SUBSCRIBE_USER_GETBYID.
type readEvents struct {
	provider  events.Type
	subscribe events.Type
}

var (
	readByID        = readEvents{events.AuthSystemGetByID, events.SubscribeGetByID}
	readByEncrypted = readEvents{events.AuthSystemGet, events.SubscribeGet}
)

// found is what a read found: the registration (after syncing) and, when the provider was asked
// and knows the user, the provider's user (see providerHolds).
type found struct {
	reg      registration.Registration
	provUser *provider.User
}

// readUser reads a user by id from the provider (when ask) and from Subscribe, and brings
// Subscribe in step with the provider. ErrUserNotFound when neither knows the id.
func (o *Orchestrator) readUser(ctx context.Context, c Call, crid string, ask bool, ev readEvents, w Workflow) (found, error) {
	var pu *provider.User
	if ask {
		var err error
		if pu, err = o.providerUser(ctx, c, crid, ev.provider, w); err != nil {
			return found{}, err
		}
	}
	reg, err := timed(ctx, o, c, step{ev: ev.subscribe, crid: crid, notFoundIsAnswer: true}, func() (registration.Registration, error) {
		return o.Store.Get(ctx, c.Tenant.Key, crid)
	})
	return o.settle(ctx, c, reg, err, pu, w)
}

// readPasswordHolder is readUser for a call without an ignoreProvider flag (forgot password): the
// registration says where the password lives, and the provider is asked only when it is there.
// The Subscribe read is done first, once, and recorded after the provider's, in the published order.
func (o *Orchestrator) readPasswordHolder(ctx context.Context, c Call, crid string, ev readEvents, w Workflow) (found, error) {
	start := o.Now()
	reg, err := o.Store.Get(ctx, c.Tenant.Key, crid)
	took := o.Now().Sub(start)
	var pu *provider.User
	if err == nil && o.passwordInProvider(c, reg) {
		var perr error
		if pu, perr = o.providerUser(ctx, c, crid, ev.provider, w); perr != nil {
			return found{}, perr
		}
	}
	o.Events.Record(ctx, o.eventTook(c, ev.subscribe, crid, start, took, ignoreRegNotFound(err)))
	return o.settle(ctx, c, reg, err, pu, w)
}

// providerUser asks the provider for the user with this id; nil when it has none.
func (o *Orchestrator) providerUser(ctx context.Context, c Call, crid string, ev events.Type, w Workflow) (*provider.User, error) {
	u, err := timed(ctx, o, c, step{ev: ev, crid: crid, notFoundIsAnswer: true}, func() (provider.User, error) {
		return o.provider(c).GetUser(ctx, crid)
	})
	switch {
	case err == nil:
		return &u, nil
	case errors.Is(err, provider.ErrNotFound):
		// The provider answered; the user is simply not there (a Subscribe-only user).
		return nil, nil
	}
	return nil, fromProvider(w, err)
}

// settle combines the two reads: the registration (or the store's error) and the provider's user
// (nil when not asked or not there).
func (o *Orchestrator) settle(ctx context.Context, c Call, reg registration.Registration, err error, pu *provider.User, w Workflow) (found, error) {
	switch {
	case errors.Is(err, registration.ErrNotFound):
		if pu == nil {
			return found{}, ErrUserNotFound
		}
		return o.syncNew(ctx, c, *pu, w)
	case err != nil:
		return found{}, failed(w, err)
	case pu == nil:
		return found{reg: reg}, nil
	}
	return o.sync(ctx, c, reg, *pu, w)
}

// readUserByEmail is readUser for an email address: the provider is searched by email.
func (o *Orchestrator) readUserByEmail(ctx context.Context, c Call, email string, ask bool, ev readEvents, w Workflow) (found, error) {
	var pu *provider.User
	if ask {
		u, err := timed(ctx, o, c, step{ev: ev.provider, notFoundIsAnswer: true}, func() (provider.User, error) {
			return o.provider(c).FindByEmail(ctx, email)
		})
		switch {
		case err == nil:
			pu = &u
		case !errors.Is(err, provider.ErrNotFound):
			return found{}, fromProvider(w, err)
		}
	}
	reg, err := timed(ctx, o, c, step{ev: ev.subscribe, notFoundIsAnswer: true}, func() (registration.Registration, error) {
		return o.Store.GetByEmail(ctx, c.Tenant.Key, email)
	})
	if err == nil && pu != nil && pu.ID != reg.CustomerRegistrationID {
		// A provider user with this address but another id is not this registration's user.
		pu = nil
	}
	return o.settle(ctx, c, reg, err, pu, w)
}

// syncNew copies a user known only to the provider into Subscribe (SUBSCRIBE_USER_UPDATE: the
// published pages describe it as synchronising, not creating).
func (o *Orchestrator) syncNew(ctx context.Context, c Call, pu provider.User, w Workflow) (found, error) {
	now := o.Now().UTC()
	reg := registration.Registration{
		Tenant:                 c.Tenant.Key,
		CustomerRegistrationID: pu.ID,
		Email:                  pu.Email,
		Verified:               pu.EmailVerified,
		Metadata:               maps.Clone(pu.Metadata),
		AuthSystem:             o.provider(c).Name(),
		AddDate:                now,
		AddSource:              c.SourceSystem,
		ChangeDate:             now,
		ChangeSource:           c.SourceSystem,
	}
	if pu.FirstName != "" {
		reg.FirstName = ptr(pu.FirstName)
	}
	if pu.LastName != "" {
		reg.LastName = ptr(pu.LastName)
	}
	start := o.Now()
	err := o.Store.Create(ctx, reg)
	o.observe(ctx, c, events.SubscribeUpdate, pu.ID, start, err)
	switch {
	case errors.Is(err, registration.ErrIDTaken):
		// A concurrent read copied the user in first: answer with its row.
		cur, gerr := o.Store.Get(ctx, c.Tenant.Key, pu.ID)
		if gerr != nil {
			return found{}, failed(w, gerr)
		}
		return found{reg: cur, provUser: &pu}, nil
	case errors.Is(err, registration.ErrEmailTaken):
		// Subscribe holds this email for another id: the two disagree, and copying the user in
		// would take the address from that registration. Answer the provider's view unsaved.
		o.Log.WarnContext(ctx, "a provider user's email belongs to another registration; not copied into Subscribe",
			"provider", o.provider(c).Name(), "customer_registration_id", pu.ID, "request_id", c.RequestID)
		return found{reg: reg, provUser: &pu}, nil
	case err != nil:
		return found{}, failed(w, err)
	}
	reg.Version = 1
	return found{reg: reg, provUser: &pu}, nil
}

// sync brings the registration in step with the provider, which is the system of record for what
// it holds; Subscribe-only metadata keys are kept.
func (o *Orchestrator) sync(ctx context.Context, c Call, reg registration.Registration, pu provider.User, w Workflow) (found, error) {
	merged, changed := merge(reg, pu)
	if !changed {
		return found{reg: reg, provUser: &pu}, nil
	}
	merged.AuthSystem = o.provider(c).Name()
	merged.ChangeDate = o.Now().UTC()
	merged.ChangeSource = c.SourceSystem
	start := o.Now()
	updated, err := o.Store.Update(ctx, merged)
	o.observe(ctx, c, events.SubscribeUpdate, reg.CustomerRegistrationID, start, err)
	switch {
	case errors.Is(err, registration.ErrConflict):
		// Changed since it was read (a concurrent read synced it, or a write): answer with the
		// stored row; the next read brings it in step if it still differs.
		cur, gerr := o.Store.Get(ctx, c.Tenant.Key, reg.CustomerRegistrationID)
		if gerr != nil {
			return found{}, failed(w, gerr)
		}
		return found{reg: cur, provUser: &pu}, nil
	case errors.Is(err, registration.ErrEmailTaken):
		o.Log.WarnContext(ctx, "a provider user's new email belongs to another registration; not copied into Subscribe",
			"provider", o.provider(c).Name(), "customer_registration_id", reg.CustomerRegistrationID, "request_id", c.RequestID)
		return found{reg: reg, provUser: &pu}, nil
	case err != nil:
		return found{}, failed(w, err)
	}
	return found{reg: updated, provUser: &pu}, nil
}

func merge(reg registration.Registration, pu provider.User) (registration.Registration, bool) {
	out := reg
	changed := false
	if pu.Email != "" && pu.Email != reg.Email {
		out.Email, changed = pu.Email, true
	}
	if pu.FirstName != "" && (reg.FirstName == nil || *reg.FirstName != pu.FirstName) {
		out.FirstName, changed = ptr(pu.FirstName), true
	}
	if pu.LastName != "" && (reg.LastName == nil || *reg.LastName != pu.LastName) {
		out.LastName, changed = ptr(pu.LastName), true
	}
	// A pending registration stays unverified until Verify Email, whatever the provider says.
	if !reg.Pending && pu.EmailVerified != reg.Verified {
		out.Verified, changed = pu.EmailVerified, true
	}
	var md map[string]string
	for k, v := range pu.Metadata {
		if cur, ok := reg.Metadata[k]; ok && cur == v {
			continue
		}
		if md == nil {
			md = maps.Clone(reg.Metadata)
			if md == nil {
				md = map[string]string{}
			}
		}
		md[k] = v
	}
	if md != nil {
		out.Metadata, changed = md, true
	}
	if reg.AuthSystem == "" {
		changed = true // the registration becomes linked to the provider that holds its user
	}
	return out, changed
}

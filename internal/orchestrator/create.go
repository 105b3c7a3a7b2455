package orchestrator

import (
	"context"
	"errors"
	"maps"
	"strings"

	"usersorchestrator/internal/events"
	"usersorchestrator/internal/mail"
	"usersorchestrator/internal/provider"
	"usersorchestrator/internal/registration"
)

// CreateInput is Create User (Password set) or Create Passwordless User (Password empty).
type CreateInput struct {
	Email    string
	Password string
	// CustomerRegistrationID (or its encrypted form) is optional: without a provider it becomes
	// the new user's id; with one it must name an existing provider user, whose registration
	// this creates.
	CustomerRegistrationID          string
	EncryptedCustomerRegistrationID string
	VerifyEmail                     bool
	ReturnURL                       string
	FirstName                       *string
	LastName                        *string
	Metadata                        map[string]string
	IgnoreProvider                  bool
}

// Create is POST /v4/Users. Nothing is left half-written: a provider failure writes nothing to
// Subscribe, and a Subscribe failure removes the provider user this call made.
func (o *Orchestrator) Create(ctx context.Context, c Call, in CreateInput) (UserRef, error) {
	link, err := returnURL(c, in.ReturnURL)
	if err != nil {
		return UserRef{}, err
	}
	crid, err := o.requestedID(c, in)
	if err != nil {
		return UserRef{}, err
	}
	if err := o.checkAvailable(ctx, c, in.Email, crid); err != nil {
		return UserRef{}, err
	}
	if o.askProvider(c, in.IgnoreProvider) {
		return o.createWithProvider(ctx, c, in, crid, link)
	}
	return o.createLocal(ctx, c, in, crid, link)
}

// requestedID is the id the caller asked for, plain or encrypted ("" for none); the two forms
// must agree when both are given.
func (o *Orchestrator) requestedID(c Call, in CreateInput) (string, error) {
	crid := in.CustomerRegistrationID
	if in.EncryptedCustomerRegistrationID == "" {
		return crid, nil
	}
	id, err := o.open(c, purposeID, in.EncryptedCustomerRegistrationID)
	if err != nil {
		return "", err
	}
	if crid != "" && crid != id {
		return "", ErrInvalidEncrypted
	}
	return id, nil
}

// createLocal makes a Subscribe-only user: the id is the caller's or a new one, and Subscribe
// holds the password hash.
func (o *Orchestrator) createLocal(ctx context.Context, c Call, in CreateInput, crid, link string) (UserRef, error) {
	reg := o.newRegistration(c, in)
	reg.CustomerRegistrationID = crid
	if reg.CustomerRegistrationID == "" {
		reg.CustomerRegistrationID = o.NewID()
	}
	if in.Password != "" {
		var err error
		if reg.PasswordHash, err = o.Hasher.Hash(in.Password); err != nil {
			return UserRef{}, failed(WorkflowCreate, err)
		}
	}
	return o.saveNew(ctx, c, in, reg, crid, link, "")
}

// createWithProvider finds or makes the provider user first, then its registration; the provider
// user this call made is removed again when the registration cannot be written.
func (o *Orchestrator) createWithProvider(ctx context.Context, c Call, in CreateInput, crid, link string) (UserRef, error) {
	pu, created, err := o.createInProvider(ctx, c, crid, in)
	if err != nil {
		return UserRef{}, err
	}
	made := "" // the provider user this call created, to undo on failure
	if created {
		made = pu.ID
	}
	reg := o.newRegistration(c, in)
	reg.CustomerRegistrationID, reg.AuthSystem = pu.ID, o.provider(c).Name()
	var setPasswordURL string
	if in.Password == "" && created {
		if setPasswordURL, err = o.providerPasswordLink(ctx, c, pu.ID, link); err != nil {
			o.undoProviderCreate(ctx, c, made)
			return UserRef{}, err
		}
	}
	ref, err := o.saveNew(ctx, c, in, reg, crid, link, setPasswordURL)
	if err != nil {
		o.undoProviderCreate(ctx, c, made)
	}
	return ref, err
}

// newRegistration is the registration in as the caller described it, without id or password.
func (o *Orchestrator) newRegistration(c Call, in CreateInput) registration.Registration {
	now := o.Now().UTC()
	return registration.Registration{
		Tenant:       c.Tenant.Key,
		Email:        in.Email,
		Verified:     !in.VerifyEmail,
		Pending:      in.VerifyEmail,
		FirstName:    in.FirstName,
		LastName:     in.LastName,
		Metadata:     maps.Clone(in.Metadata),
		AddDate:      now,
		AddSource:    c.SourceSystem,
		ChangeDate:   now,
		ChangeSource: c.SourceSystem,
	}
}

// saveNew writes the new registration, its first email and its event in one transaction. crid is
// the id the caller asked for ("" for none); setPasswordURL is the provider's password link.
func (o *Orchestrator) saveNew(ctx context.Context, c Call, in CreateInput, reg registration.Registration, crid, link, setPasswordURL string) (UserRef, error) {
	ev := events.SubscribeCreate
	if in.VerifyEmail {
		ev = events.SubscribeCreatePending
	}
	start := o.Now()
	err := o.inTx(ctx, func(tx Store) error {
		if err := tx.Create(ctx, reg); err != nil {
			return err
		}
		// Without a provider a passwordless user has no password at all (Lite) until they choose
		// one through this link, which is a forgot-password link of long life.
		if in.Password == "" && setPasswordURL == "" && !o.passwordInProvider(c, reg) {
			l, _, err := o.issueResetLink(ctx, tx, c, reg, link, welcomeLinkTTL)
			if err != nil {
				return err
			}
			setPasswordURL = l
		}
		var email registration.Email
		if in.VerifyEmail {
			code, err := o.issueCode(ctx, tx, c, reg)
			if err != nil {
				return err
			}
			email = mail.VerificationCodeThenPassword(c.Tenant, reg.Email, code, verificationLink(link, reg.Email, code), setPasswordURL)
		} else {
			email = mail.Welcome(c.Tenant, reg.Email, deref(reg.FirstName), setPasswordURL)
		}
		if err := o.enqueue(ctx, tx, email); err != nil {
			return err
		}
		_, err := tx.RecordEvent(ctx, o.event(c, ev, reg.CustomerRegistrationID, start, nil))
		return err
	})
	if err != nil {
		o.observe(ctx, c, ev, reg.CustomerRegistrationID, start, err)
		return UserRef{}, o.createRefused(ctx, c, reg, crid, err)
	}
	o.MailQueued()
	return o.refOf(c, reg.CustomerRegistrationID), nil
}

// createRefused is the outcome of a registration the store would not write.
func (o *Orchestrator) createRefused(ctx context.Context, c Call, reg registration.Registration, crid string, err error) error {
	switch {
	case errors.Is(err, registration.ErrEmailTaken):
		// A concurrent create won; answer as the pre-check would have for its registration.
		if other, gerr := o.Store.GetByEmail(ctx, c.Tenant.Key, reg.Email); gerr == nil && other.Pending {
			return ErrEmailPending
		}
		return ErrEmailInUse
	case errors.Is(err, registration.ErrIDTaken) && crid != "":
		return ErrIDInUse
	}
	// Without an id from the caller, a clash is the provider's id colliding with a registration
	// Subscribe holds already: not the caller's mistake.
	return failed(WorkflowCreate, err)
}

// checkAvailable refuses an email or id Subscribe already has. It records no event: the published
// create flow names only the provider read, the provider create and the Subscribe create, and the
// store's unique keys guard against races anyway.
func (o *Orchestrator) checkAvailable(ctx context.Context, c Call, email, crid string) error {
	existing, err := o.Store.GetByEmail(ctx, c.Tenant.Key, email)
	switch {
	case err == nil && existing.Pending:
		return ErrEmailPending
	case err == nil:
		return ErrEmailInUse
	case !errors.Is(err, registration.ErrNotFound):
		return failed(WorkflowGetByID, err)
	}
	if crid == "" {
		return nil
	}
	_, err = o.Store.Get(ctx, c.Tenant.Key, crid)
	switch {
	case err == nil:
		return ErrIDInUse
	case !errors.Is(err, registration.ErrNotFound):
		return failed(WorkflowGetByID, err)
	}
	return nil
}

// createInProvider finds or makes the provider user. created tells whether this call made it.
func (o *Orchestrator) createInProvider(ctx context.Context, c Call, crid string, in CreateInput) (pu provider.User, created bool, err error) {
	p := o.provider(c)
	if crid != "" {
		pu, err = timed(ctx, o, c, step{ev: events.AuthSystemGet, crid: crid, notFoundIsAnswer: true}, func() (provider.User, error) {
			return p.GetUser(ctx, crid)
		})
		switch {
		case errors.Is(err, provider.ErrNotFound):
			return pu, false, &InvalidInputError{Field: "body.customerRegistrationId", Problem: "no user of the provider has this id"}
		case err != nil:
			return pu, false, fromProvider(WorkflowGetByID, err)
		case !strings.EqualFold(pu.Email, in.Email):
			return pu, false, &InvalidInputError{Field: "body.email", Problem: "differs from the email of the provider's user"}
		}
		return pu, false, nil
	}
	_, err = timed(ctx, o, c, step{ev: events.AuthSystemGet, notFoundIsAnswer: true}, func() (provider.User, error) {
		return p.FindByEmail(ctx, in.Email)
	})
	switch {
	case err == nil:
		return pu, false, ErrEmailInUse
	case !errors.Is(err, provider.ErrNotFound):
		return pu, false, fromProvider(WorkflowGetByID, err)
	}
	password := in.Password
	if password == "" {
		// The provider needs a password; nobody will ever know this one.
		if password, err = o.NewPassword(); err != nil {
			return pu, false, failed(WorkflowCreate, err)
		}
	}
	nu := provider.NewUser{
		Email:         in.Email,
		Password:      password,
		FirstName:     deref(in.FirstName),
		LastName:      deref(in.LastName),
		Metadata:      in.Metadata,
		EmailVerified: !in.VerifyEmail,
	}
	pu, err = timed(ctx, o, c, step{ev: events.AuthSystemCreate}, func() (provider.User, error) {
		return p.Create(ctx, nu)
	})
	switch {
	case errors.Is(err, provider.ErrUserExists):
		return pu, false, ErrEmailInUse
	case errors.Is(err, provider.ErrRejected):
		return pu, false, errors.Join(ErrRejected, err)
	case err != nil:
		return pu, false, fromProvider(WorkflowCreate, err)
	}
	return pu, true, nil
}

// providerPasswordLink asks the provider for the link a passwordless user chooses a password with.
func (o *Orchestrator) providerPasswordLink(ctx context.Context, c Call, id, returnTo string) (string, error) {
	u, err := timed(ctx, o, c, step{ev: events.AuthSystemChangePassword, crid: id}, func() (string, error) {
		return o.provider(c).PasswordChangeURL(ctx, id, returnTo)
	})
	if err != nil {
		return "", fromProvider(WorkflowCreate, err)
	}
	return u, nil
}

// undoProviderCreate removes the provider user of a create that failed later. If even that fails
// the user is an orphan in the provider: the failed AUTHSYSTEM_USER_DELETE event and an error log
// line say so, with the id to clean up.
func (o *Orchestrator) undoProviderCreate(ctx context.Context, c Call, id string) {
	if id == "" {
		return
	}
	ctx = context.WithoutCancel(ctx)
	err := timedErr(ctx, o, c, step{ev: events.AuthSystemDelete, crid: id}, func() error {
		return o.provider(c).Delete(ctx, id)
	})
	if err != nil {
		o.Log.ErrorContext(ctx, "removing the provider user of a failed create failed; it is left orphaned in the provider",
			"provider", o.provider(c).Name(), "customer_registration_id", id, "request_id", c.RequestID, "error", err)
	}
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}

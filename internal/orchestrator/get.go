package orchestrator

import (
	"context"
	"errors"

	"usersorchestrator/internal/events"
	"usersorchestrator/internal/provider"
	"usersorchestrator/internal/registration"
)

// GetByID is Get By Id: the user, merged with the provider's data when routed there.
func (o *Orchestrator) GetByID(ctx context.Context, c Call, crid string, ignoreProvider bool) (User, error) {
	f, err := o.readUser(ctx, c, crid, o.askProvider(c, ignoreProvider), readByID, WorkflowGetByID)
	if err != nil {
		return User{}, err
	}
	return o.userOf(c, f.reg), nil
}

// GetUsersInput is GET /v4/Users: at most one selector, or search filters.
type GetUsersInput struct {
	// Selectors; the contract validator already refused combinations.
	EncryptedEmail string
	EncryptedID    string
	Token          string
	// Email alone is the Get By Email selector; with other filters it is a search filter.
	Email string
	// Filters.
	CustomerRegistrationID string
	FirstName              string
	LastName               string
	Verified               *bool
	State                  State
	// Paging and order.
	PageSize       int
	PageNumber     int
	OrderBy        OrderField
	Descending     bool
	IgnoreProvider bool
}

// OrderField is a field a search is sorted by, named as the contract's orderBy values.
type OrderField string

// The sortable fields.
const (
	OrderByID         OrderField = "customerRegistrationId"
	OrderByEmail      OrderField = "email"
	OrderByFirstName  OrderField = "firstName"
	OrderByLastName   OrderField = "lastName"
	OrderByAddDate    OrderField = "addDate"
	OrderByChangeDate OrderField = "changeDate"
)

// orderColumns are the store's names of the sortable fields; any other sorts by id.
var orderColumns = map[OrderField]registration.OrderField{
	OrderByID:         registration.OrderByID,
	OrderByEmail:      registration.OrderByEmail,
	OrderByFirstName:  registration.OrderByFirstName,
	OrderByLastName:   registration.OrderByLastName,
	OrderByAddDate:    registration.OrderByAddDate,
	OrderByChangeDate: registration.OrderByChangeDate,
}

// UserPage is one page of users.
type UserPage struct {
	Users      []User
	PageSize   int
	PageNumber int
	TotalCount int64
}

func (in GetUsersInput) searching() bool {
	return in.CustomerRegistrationID != "" || in.FirstName != "" || in.LastName != "" || in.Verified != nil || in.State != ""
}

// GetUsers is Get By Email / Encrypted Email / Encrypted Id / Token / Query String.
func (o *Orchestrator) GetUsers(ctx context.Context, c Call, in GetUsersInput) (UserPage, error) {
	if in.Email != "" {
		email, err := canonicalEmail("query parameter email", in.Email)
		if err != nil {
			return UserPage{}, err
		}
		in.Email = email
	}
	page := UserPage{PageSize: max(in.PageSize, 1), PageNumber: max(in.PageNumber, 1)}
	ask := o.askProvider(c, in.IgnoreProvider)
	var (
		f   found
		err error
	)
	switch {
	case in.EncryptedID != "":
		crid, oerr := o.open(c, purposeID, in.EncryptedID)
		if oerr != nil {
			return UserPage{}, oerr
		}
		f, err = o.readUser(ctx, c, crid, ask, readByEncrypted, WorkflowGet)
	case in.EncryptedEmail != "":
		email, oerr := o.open(c, purposeEmail, in.EncryptedEmail)
		if oerr != nil {
			return UserPage{}, oerr
		}
		f, err = o.readUserByEmail(ctx, c, email, ask, readByEncrypted, WorkflowGet)
	case in.Token != "":
		f, err = o.userForToken(ctx, c, in.Token, ask, readByEncrypted, WorkflowGet)
	case in.Email != "" && !in.searching():
		f, err = o.readUserByEmail(ctx, c, in.Email, ask, readEvents{events.AuthSystemSearch, events.SubscribeGet}, WorkflowGet)
	default:
		return o.search(ctx, c, in, page, ask)
	}
	switch {
	case errors.Is(err, ErrUserNotFound):
		return page, nil // nothing found is an empty list, not an error
	case err != nil:
		return UserPage{}, err
	}
	if page.PageNumber == 1 {
		page.Users = []User{o.userOf(c, f.reg)}
	}
	page.TotalCount = 1
	return page, nil
}

// search runs a query over Subscribe. With a provider, the provider is searched first and the
// users it knows that Subscribe lacks are copied in, so that the page Subscribe answers is whole.
func (o *Orchestrator) search(ctx context.Context, c Call, in GetUsersInput, page UserPage, ask bool) (UserPage, error) {
	q := registration.Query{
		CustomerRegistrationID: in.CustomerRegistrationID,
		Email:                  in.Email,
		FirstNamePrefix:        in.FirstName,
		LastNamePrefix:         in.LastName,
		Verified:               in.Verified,
		OrderBy:                orderColumns[in.OrderBy],
		Descending:             in.Descending,
		Limit:                  page.PageSize,
		Offset:                 (page.PageNumber - 1) * page.PageSize,
	}
	if q.OrderBy == "" {
		q.OrderBy = registration.OrderByID
	}
	if in.State != "" {
		// The state shown (stateOf): on a provider tenant the users it holds are Standard, and
		// those created with ignoreProvider follow the MG2-auth rules, as their login does.
		q.State = registration.State(in.State)
		q.ProviderAccounts = o.provider(c) != nil
	}
	if ask && (in.Email != "" || in.FirstName != "" || in.LastName != "" || in.CustomerRegistrationID != "") {
		if err := o.importFromProvider(ctx, c, in, q.Offset+q.Limit); err != nil {
			return UserPage{}, err
		}
	}
	start := o.Now()
	regs, total, err := o.Store.Search(ctx, c.Tenant.Key, q)
	o.observe(ctx, c, events.SubscribeGet, "", start, err)
	if err != nil {
		return UserPage{}, failed(WorkflowGet, err)
	}
	page.TotalCount = total
	page.Users = make([]User, 0, len(regs))
	for _, r := range regs {
		page.Users = append(page.Users, o.userOf(c, r))
	}
	return page, nil
}

// maxImported bounds how many provider users one search reads (and copies into Subscribe): the
// page asked for and every page before it, up to the 1000 matches Auth0's search can reach at
// all. The adapters read the provider page by page to that bound.
const maxImported = 1000

// importFromProvider copies the provider users matching the search into Subscribe when missing.
func (o *Orchestrator) importFromProvider(ctx context.Context, c Call, in GetUsersInput, limit int) error {
	if in.CustomerRegistrationID != "" {
		_, err := o.readUser(ctx, c, in.CustomerRegistrationID, true, readEvents{events.AuthSystemSearch, events.SubscribeGet}, WorkflowGet)
		if errors.Is(err, ErrUserNotFound) {
			return nil
		}
		return err
	}
	users, err := timed(ctx, o, c, step{ev: events.AuthSystemSearch}, func() ([]provider.User, error) {
		return o.provider(c).Search(ctx, provider.Query{Email: in.Email, FirstName: in.FirstName, LastName: in.LastName, Limit: min(limit, maxImported)})
	})
	if err != nil {
		return fromProvider(WorkflowGet, err)
	}
	for _, pu := range users {
		_, err := o.Store.Get(ctx, c.Tenant.Key, pu.ID)
		switch {
		case err == nil:
			continue
		case !errors.Is(err, registration.ErrNotFound):
			return failed(WorkflowGet, err)
		}
		if _, err := o.syncNew(ctx, c, pu, WorkflowGet); err != nil && !errors.Is(err, registration.ErrEmailTaken) {
			return err
		}
	}
	return nil
}

// userForToken resolves a token: a uo_session issued by Authenticate, or else an access token of
// the tenant's provider. ErrInvalidToken when neither accepts it, or when the user is blocked.
// ev names the reads as the calling flow records them (Get By Token and Authenticate differ).
func (o *Orchestrator) userForToken(ctx context.Context, c Call, token string, ask bool, ev readEvents, w Workflow) (found, error) {
	if s, err := o.Sessions.Parse(c.Tenant.Key, token, o.Now()); err == nil {
		f, err := o.readUser(ctx, c, s.CustomerRegistrationID, ask, ev, w)
		switch {
		case errors.Is(err, ErrUserNotFound):
			return found{}, ErrInvalidToken
		case err != nil:
			return found{}, err
		}
		// A logout ends every session issued before it.
		if lo := f.reg.LastLogoutDate; lo != nil && !s.IssuedAt.After(*lo) {
			return f, ErrInvalidToken
		}
		// So does a password change: whoever knew the old password may hold one of them.
		if pc := f.reg.PasswordChangedAt; pc != nil && s.IssuedBefore(*pc) {
			return f, ErrInvalidToken
		}
		if f.provUser != nil && f.provUser.Blocked {
			return f, ErrInvalidToken
		}
		return f, nil
	}
	if !ask {
		return found{}, ErrInvalidToken
	}
	pu, err := timed(ctx, o, c, step{ev: ev.provider}, func() (provider.User, error) {
		return o.provider(c).UserForToken(ctx, token)
	})
	switch {
	case errors.Is(err, provider.ErrInvalidToken), errors.Is(err, provider.ErrNotFound), errors.Is(err, provider.ErrBlocked):
		// A blocked user's token is refused like an expired one (as a blocked login is refused
		// like a wrong password).
		return found{}, ErrInvalidToken
	case err != nil:
		return found{}, fromProvider(w, err)
	case pu.Blocked:
		return found{}, ErrInvalidToken
	}
	reg, err := timed(ctx, o, c, step{ev: ev.subscribe, crid: pu.ID, notFoundIsAnswer: true}, func() (registration.Registration, error) {
		return o.Store.Get(ctx, c.Tenant.Key, pu.ID)
	})
	return o.settle(ctx, c, reg, err, &pu, w)
}

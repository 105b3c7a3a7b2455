// Package providertest is an in-memory identity provider for the tests of the workflows above the
// port: users, passwords and tokens live in maps, faults are injected per operation, and a journal
// keeps every call made, so a test can assert which provider calls a workflow made (and which it
// did not) in microseconds. The adapters' wire protocols are proven by their own tests and the e2e
// suite against WireMock; this fake proves the rules that sit above them.
package providertest

import (
	"context"
	"fmt"
	"maps"
	"net/url"
	"slices"
	"strings"
	"sync"
	"time"

	"usersorchestrator/internal/provider"
)

// Op names a method of provider.AuthSystem.
type Op string

// The operations, one per method of provider.AuthSystem (Name excepted).
const (
	OpGetUser           Op = "GetUser"
	OpFindByEmail       Op = "FindByEmail"
	OpSearch            Op = "Search"
	OpCreate            Op = "Create"
	OpUpdate            Op = "Update"
	OpDelete            Op = "Delete"
	OpLogin             Op = "Login"
	OpUserForToken      Op = "UserForToken"
	OpChangePassword    Op = "ChangePassword"
	OpChangeEmail       Op = "ChangeEmail"
	OpPasswordChangeURL Op = "PasswordChangeURL"
)

// MinPassword is the fake's password policy: shorter passwords are rejected (provider.ErrRejected),
// as a real provider's policy would.
const MinPassword = 8

// TokenName is the name of the token Login hands out.
const TokenName = "fake_access_token"

// Call is one entry of the journal: the operation and the user it named (the id, or the email
// for FindByEmail, Create and Login).
type Call struct {
	Op    Op
	ID    string
	Email string
}

func (c Call) String() string {
	switch {
	case c.ID != "" && c.Email != "":
		return fmt.Sprintf("%s(%s, %s)", c.Op, c.ID, c.Email)
	case c.ID != "":
		return fmt.Sprintf("%s(%s)", c.Op, c.ID)
	case c.Email != "":
		return fmt.Sprintf("%s(%s)", c.Op, c.Email)
	}
	return string(c.Op)
}

type account struct {
	user     provider.User
	password string
}

// Fake is an in-memory provider.AuthSystem. The zero value is not usable; call New. It is safe
// for concurrent use.
type Fake struct {
	name string

	mu       sync.Mutex
	users    map[string]*account // by id
	tokens   map[string]string   // access token -> user id
	journal  []Call
	next     int
	failNext map[Op][]error
	failAll  map[Op]error
	delay    map[Op]time.Duration

	requireVerified bool
}

// New makes an empty provider answering to name ("Auth0", ...).
func New(name string) *Fake {
	return &Fake{
		name: name, users: map[string]*account{}, tokens: map[string]string{},
		failNext: map[Op][]error{}, failAll: map[Op]error{}, delay: map[Op]time.Duration{},
	}
}

// Add puts a user into the provider, as if made there by someone else. A user without an ID gets
// a new one. It returns the user as stored.
func (f *Fake) Add(u provider.User, password string) provider.User {
	f.mu.Lock()
	defer f.mu.Unlock()
	if u.ID == "" {
		u.ID = f.newID()
	}
	u.Metadata = maps.Clone(u.Metadata)
	f.users[u.ID] = &account{user: u, password: password}
	return u
}

// User is the provider's user with this id, as it holds it now.
func (f *Fake) User(id string) (provider.User, bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	a, ok := f.users[id]
	if !ok {
		return provider.User{}, false
	}
	return clone(a.user), true
}

// Password is the password the provider holds for the user.
func (f *Fake) Password(id string) string {
	f.mu.Lock()
	defer f.mu.Unlock()
	if a, ok := f.users[id]; ok {
		return a.password
	}
	return ""
}

// Len is the number of users.
func (f *Fake) Len() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return len(f.users)
}

// Block blocks (or unblocks) the user: logins and tokens are refused with provider.ErrBlocked.
func (f *Fake) Block(id string, blocked bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if a, ok := f.users[id]; ok {
		a.user.Blocked = blocked
	}
}

// RequireVerified makes Login refuse users whose email is not verified, as providers configured
// so do (provider.ErrNotVerified).
func (f *Fake) RequireVerified(on bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.requireVerified = on
}

// IssueToken makes an access token for the user, as a login at the provider would.
func (f *Fake) IssueToken(id string) string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.issue(id)
}

// FailNext makes the next call of op fail with kind (provider.ErrUnavailable, ErrRejected, ...),
// without doing anything. Several calls queue: a nil kind lets that call through, so
// FailNext(op, nil); FailNext(op, kind) fails the second call.
func (f *Fake) FailNext(op Op, kind error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.failNext[op] = append(f.failNext[op], kind)
}

// Fail makes every call of op fail with kind until Heal.
func (f *Fake) Fail(op Op, kind error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.failAll[op] = kind
}

// Slow makes every call of op take d before it answers; a call whose context ends first answers
// provider.ErrUnavailable, as an adapter whose timeout ran out does.
func (f *Fake) Slow(op Op, d time.Duration) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.delay[op] = d
}

// Heal removes every injected fault and delay.
func (f *Fake) Heal() {
	f.mu.Lock()
	defer f.mu.Unlock()
	clear(f.failNext)
	clear(f.failAll)
	clear(f.delay)
}

// Journal is the calls made so far, oldest first.
func (f *Fake) Journal() []Call {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]Call(nil), f.journal...)
}

// Ops is the journal's operations, oldest first.
func (f *Fake) Ops() []Op {
	f.mu.Lock()
	defer f.mu.Unlock()
	ops := make([]Op, len(f.journal))
	for i, c := range f.journal {
		ops[i] = c.Op
	}
	return ops
}

// ClearJournal forgets the calls made so far.
func (f *Fake) ClearJournal() {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.journal = nil
}

// Name is the Flow.UserProvider value New was given.
func (f *Fake) Name() string { return f.name }

// begin journals a call, waits out its delay, and returns the fault it must answer with (nil for
// none). It is called without the lock held and returns with it held.
func (f *Fake) begin(ctx context.Context, c Call) error {
	f.mu.Lock()
	f.journal = append(f.journal, c)
	d := f.delay[c.Op]
	f.mu.Unlock()
	if d > 0 {
		t := time.NewTimer(d)
		defer t.Stop()
		select {
		case <-ctx.Done():
			f.mu.Lock()
			return f.fail(c.Op, provider.ErrUnavailable, "%v", ctx.Err())
		case <-t.C:
		}
	}
	f.mu.Lock()
	if q := f.failNext[c.Op]; len(q) > 0 {
		f.failNext[c.Op] = q[1:]
		if q[0] == nil {
			return nil
		}
		return f.fail(c.Op, q[0], "injected")
	}
	if kind := f.failAll[c.Op]; kind != nil {
		return f.fail(c.Op, kind, "injected")
	}
	return nil
}

func (f *Fake) fail(op Op, kind error, format string, args ...any) error {
	return provider.Errorf(f.name, string(op), kind, 0, format, args...)
}

func (f *Fake) newID() string {
	f.next++
	return fmt.Sprintf("%s|%06d", strings.ToLower(f.name), f.next)
}

func (f *Fake) issue(id string) string {
	f.next++
	tok := fmt.Sprintf("tok-%s-%d", id, f.next)
	f.tokens[tok] = id
	return tok
}

func (f *Fake) byEmail(email string) *account {
	for _, a := range f.users {
		if strings.EqualFold(a.user.Email, email) {
			return a
		}
	}
	return nil
}

func clone(u provider.User) provider.User {
	u.Metadata = maps.Clone(u.Metadata)
	return u
}

// GetUser implements provider.AuthSystem.
func (f *Fake) GetUser(ctx context.Context, id string) (provider.User, error) {
	err := f.begin(ctx, Call{Op: OpGetUser, ID: id})
	defer f.mu.Unlock()
	if err != nil {
		return provider.User{}, err
	}
	a, ok := f.users[id]
	if !ok {
		return provider.User{}, f.fail(OpGetUser, provider.ErrNotFound, "no user %s", id)
	}
	return clone(a.user), nil
}

// FindByEmail implements provider.AuthSystem; the email matches ignoring case.
func (f *Fake) FindByEmail(ctx context.Context, email string) (provider.User, error) {
	err := f.begin(ctx, Call{Op: OpFindByEmail, Email: email})
	defer f.mu.Unlock()
	if err != nil {
		return provider.User{}, err
	}
	a := f.byEmail(email)
	if a == nil {
		return provider.User{}, f.fail(OpFindByEmail, provider.ErrNotFound, "no user with this email")
	}
	return clone(a.user), nil
}

// Search implements provider.AuthSystem: the email matches whole and the names by prefix,
// ignoring case; the users come in id order.
func (f *Fake) Search(ctx context.Context, q provider.Query) ([]provider.User, error) {
	err := f.begin(ctx, Call{Op: OpSearch, Email: q.Email})
	defer f.mu.Unlock()
	if err != nil {
		return nil, err
	}
	prefix := func(s, p string) bool { return strings.HasPrefix(strings.ToLower(s), strings.ToLower(p)) }
	var out []provider.User
	for _, id := range slices.Sorted(maps.Keys(f.users)) {
		u := f.users[id].user
		if (q.Email == "" || strings.EqualFold(u.Email, q.Email)) && prefix(u.FirstName, q.FirstName) && prefix(u.LastName, q.LastName) {
			out = append(out, clone(u))
		}
		if q.Limit > 0 && len(out) == q.Limit {
			break
		}
	}
	return out, nil
}

// Create implements provider.AuthSystem.
func (f *Fake) Create(ctx context.Context, nu provider.NewUser) (provider.User, error) {
	err := f.begin(ctx, Call{Op: OpCreate, Email: nu.Email})
	defer f.mu.Unlock()
	switch {
	case err != nil:
		return provider.User{}, err
	case f.byEmail(nu.Email) != nil:
		return provider.User{}, f.fail(OpCreate, provider.ErrUserExists, "email taken")
	case len(nu.Password) < MinPassword:
		return provider.User{}, f.fail(OpCreate, provider.ErrRejected, "password too short")
	}
	u := provider.User{
		ID: f.newID(), Email: nu.Email, EmailVerified: nu.EmailVerified, FirstName: nu.FirstName,
		LastName: nu.LastName, Metadata: maps.Clone(nu.Metadata),
	}
	f.users[u.ID] = &account{user: u, password: nu.Password}
	f.journal[len(f.journal)-1].ID = u.ID
	return clone(u), nil
}

// Update implements provider.AuthSystem.
func (f *Fake) Update(ctx context.Context, id string, up provider.Update) (provider.User, error) {
	err := f.begin(ctx, Call{Op: OpUpdate, ID: id})
	defer f.mu.Unlock()
	if err != nil {
		return provider.User{}, err
	}
	a, ok := f.users[id]
	if !ok {
		return provider.User{}, f.fail(OpUpdate, provider.ErrNotFound, "no user %s", id)
	}
	if up.FirstName != nil {
		a.user.FirstName = *up.FirstName
	}
	if up.LastName != nil {
		a.user.LastName = *up.LastName
	}
	if up.EmailVerified != nil {
		a.user.EmailVerified = *up.EmailVerified
	}
	for k, v := range up.Metadata {
		if a.user.Metadata == nil {
			a.user.Metadata = map[string]string{}
		}
		if v == nil {
			delete(a.user.Metadata, k)
		} else {
			a.user.Metadata[k] = *v
		}
	}
	return clone(a.user), nil
}

// Delete implements provider.AuthSystem; deleting a missing user is not an error.
func (f *Fake) Delete(ctx context.Context, id string) error {
	err := f.begin(ctx, Call{Op: OpDelete, ID: id})
	defer f.mu.Unlock()
	if err != nil {
		return err
	}
	delete(f.users, id)
	return nil
}

// Login implements provider.AuthSystem: an unknown login name and a wrong password both answer
// provider.ErrInvalidCredentials, as the providers do.
func (f *Fake) Login(ctx context.Context, loginName, password string) (provider.Session, error) {
	err := f.begin(ctx, Call{Op: OpLogin, Email: loginName})
	defer f.mu.Unlock()
	if err != nil {
		return provider.Session{}, err
	}
	a := f.byEmail(loginName)
	switch {
	case a == nil, a.password != password:
		return provider.Session{}, f.fail(OpLogin, provider.ErrInvalidCredentials, "wrong login name or password")
	case a.user.Blocked:
		return provider.Session{}, f.fail(OpLogin, provider.ErrBlocked, "blocked")
	case f.requireVerified && !a.user.EmailVerified:
		return provider.Session{}, f.fail(OpLogin, provider.ErrNotVerified, "email not verified")
	}
	f.journal[len(f.journal)-1].ID = a.user.ID
	return provider.Session{UserID: a.user.ID, Tokens: []provider.Token{
		{Name: TokenName, Content: f.issue(a.user.ID), ExpiresIn: 36 * time.Hour},
	}}, nil
}

// UserForToken implements provider.AuthSystem; a blocked user's token answers the user, Blocked
// set, as Auth0's /userinfo does.
func (f *Fake) UserForToken(ctx context.Context, token string) (provider.User, error) {
	err := f.begin(ctx, Call{Op: OpUserForToken})
	defer f.mu.Unlock()
	if err != nil {
		return provider.User{}, err
	}
	id, ok := f.tokens[token]
	if !ok {
		return provider.User{}, f.fail(OpUserForToken, provider.ErrInvalidToken, "unknown token")
	}
	a, ok := f.users[id]
	if !ok {
		return provider.User{}, f.fail(OpUserForToken, provider.ErrNotFound, "the token's user is gone")
	}
	f.journal[len(f.journal)-1].ID = id
	return clone(a.user), nil
}

// ChangePassword implements provider.AuthSystem.
func (f *Fake) ChangePassword(ctx context.Context, id, password string) error {
	err := f.begin(ctx, Call{Op: OpChangePassword, ID: id})
	defer f.mu.Unlock()
	if err != nil {
		return err
	}
	a, ok := f.users[id]
	switch {
	case !ok:
		return f.fail(OpChangePassword, provider.ErrNotFound, "no user %s", id)
	case len(password) < MinPassword:
		return f.fail(OpChangePassword, provider.ErrRejected, "password too short")
	}
	a.password = password
	return nil
}

// ChangeEmail implements provider.AuthSystem.
func (f *Fake) ChangeEmail(ctx context.Context, id, email string) (provider.User, error) {
	err := f.begin(ctx, Call{Op: OpChangeEmail, ID: id, Email: email})
	defer f.mu.Unlock()
	if err != nil {
		return provider.User{}, err
	}
	a, ok := f.users[id]
	if !ok {
		return provider.User{}, f.fail(OpChangeEmail, provider.ErrNotFound, "no user %s", id)
	}
	if other := f.byEmail(email); other != nil && other != a {
		return provider.User{}, f.fail(OpChangeEmail, provider.ErrUserExists, "email taken")
	}
	a.user.Email = email
	return clone(a.user), nil
}

// PasswordChangeURL implements provider.AuthSystem: a ticket link naming the user and returnURL.
func (f *Fake) PasswordChangeURL(ctx context.Context, id, returnURL string) (string, error) {
	err := f.begin(ctx, Call{Op: OpPasswordChangeURL, ID: id})
	defer f.mu.Unlock()
	if err != nil {
		return "", err
	}
	if _, ok := f.users[id]; !ok {
		return "", f.fail(OpPasswordChangeURL, provider.ErrNotFound, "no user %s", id)
	}
	return "https://provider.test/ticket?" + url.Values{"user": {id}, "returnTo": {returnURL}}.Encode(), nil
}

var _ provider.AuthSystem = (*Fake)(nil)

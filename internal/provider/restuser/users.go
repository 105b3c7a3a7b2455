package restuser

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"usersorchestrator/internal/provider"
)

// Operation names, as they appear in errors.
const (
	opGetUser      = "get user"
	opFindByEmail  = "find user by email"
	opSearch       = "search users"
	opCreate       = "create user"
	opUpdate       = "update user"
	opDelete       = "delete user"
	opLogin        = "authenticate"
	opUserForToken = "user for token"
	opPassword     = "change password"
	opEmail        = "change email"
	opPasswordLink = "password-change link"
)

// checkID answers ErrNotFound for an id the provider cannot have issued, without a call: such a
// user cannot exist, and an id like "me" would reach a different endpoint.
func (c *Client) checkID(op, id string) error {
	if !c.validID(id) {
		return provider.Errorf(c.name, op, provider.ErrNotFound, 0, "not a valid %s user id", c.name)
	}
	return nil
}

// sameUser refuses an answer about another user than the one asked for: passing it on would mix
// up two accounts.
func (c *Client) sameUser(op string, status int, id string, u provider.User) error {
	if !strings.EqualFold(u.ID, id) {
		return provider.Errorf(c.name, op, provider.ErrProtocol, status, "answer is about another user")
	}
	return nil
}

// oneUser sends cl, decodes the user it answers, and checks that it is user id (when given).
func (c *Client) oneUser(ctx context.Context, cl call, id string) (provider.User, error) {
	resp, err := c.do(ctx, cl)
	if err != nil {
		return provider.User{}, err
	}
	var w wireUser
	if err := resp.Decode(c.name, cl.op, &w); err != nil {
		return provider.User{}, err
	}
	u, err := c.user(cl.op, resp.Status, w)
	if err != nil {
		return provider.User{}, err
	}
	if id != "" {
		if err := c.sameUser(cl.op, resp.Status, id, u); err != nil {
			return provider.User{}, err
		}
	}
	return u, nil
}

// GetUser is GET /users/{id}.
func (c *Client) GetUser(ctx context.Context, id string) (provider.User, error) {
	if err := c.checkID(opGetUser, id); err != nil {
		return provider.User{}, err
	}
	return c.oneUser(ctx, call{op: opGetUser, method: http.MethodGet, path: userPath(id, ""), idempotent: true}, id)
}

// search is GET /users with the given filters.
func (c *Client) search(ctx context.Context, op string, query url.Values) ([]provider.User, int, error) {
	resp, err := c.do(ctx, call{op: op, method: http.MethodGet, path: "/users", query: query, idempotent: true})
	if err != nil {
		return nil, 0, err
	}
	var a usersAnswer
	if err := resp.Decode(c.name, op, &a); err != nil {
		return nil, 0, err
	}
	if a.Users == nil {
		return nil, 0, provider.Errorf(c.name, op, provider.ErrProtocol, resp.Status, "answer without users")
	}
	users := make([]provider.User, 0, len(*a.Users))
	for _, w := range *a.Users {
		u, err := c.user(op, resp.Status, w)
		if err != nil {
			return nil, 0, err
		}
		users = append(users, u)
	}
	return users, resp.Status, nil
}

// FindByEmail is GET /users?email=. The answer is checked rather than trusted: a provider that
// ignored the filter would otherwise hand over somebody else's account.
func (c *Client) FindByEmail(ctx context.Context, email string) (provider.User, error) {
	if email == "" {
		// Without the filter the search would list everybody.
		return provider.User{}, provider.Errorf(c.name, opFindByEmail, provider.ErrNotFound, 0, "empty email")
	}
	users, status, err := c.search(ctx, opFindByEmail, url.Values{"email": {email}})
	if err != nil {
		return provider.User{}, err
	}
	var found []provider.User
	for _, u := range users {
		if strings.EqualFold(u.Email, email) {
			found = append(found, u)
		}
	}
	switch {
	case len(found) == 1:
		return found[0], nil
	case len(found) > 1:
		return provider.User{}, provider.Errorf(c.name, opFindByEmail, provider.ErrProtocol, status, "several users with one email")
	case len(users) > 0:
		return provider.User{}, provider.Errorf(c.name, opFindByEmail, provider.ErrProtocol, status, "search ignored the email filter")
	default:
		return provider.User{}, provider.Errorf(c.name, opFindByEmail, provider.ErrNotFound, status, "%s", codeUserNotFound)
	}
}

// Search is GET /users?email=&firstName=&lastName=&limit= with the non-empty filters.
func (c *Client) Search(ctx context.Context, q provider.Query) ([]provider.User, error) {
	query := url.Values{}
	for name, v := range map[string]string{"email": q.Email, "firstName": q.FirstName, "lastName": q.LastName} {
		if v != "" {
			query.Set(name, v)
		}
	}
	if q.Limit > 0 {
		query.Set("limit", strconv.Itoa(q.Limit))
	}
	users, _, err := c.search(ctx, opSearch, query)
	return users, err
}

// Create is POST /users. Not retried: a lost answer after a successful create would turn the
// retry into user_exists.
func (c *Client) Create(ctx context.Context, u provider.NewUser) (provider.User, error) {
	metadata := u.Metadata
	if metadata == nil {
		metadata = map[string]string{}
	}
	body := createBody{Email: u.Email, Password: u.Password, FirstName: u.FirstName, LastName: u.LastName,
		EmailVerified: u.EmailVerified, Metadata: metadata}
	return c.oneUser(ctx, call{op: opCreate, method: http.MethodPost, path: "/users", body: body}, "")
}

// Update is PATCH /users/{id} with only the fields to change. Retried: setting the same values
// twice leaves the same user.
func (c *Client) Update(ctx context.Context, id string, u provider.Update) (provider.User, error) {
	if err := c.checkID(opUpdate, id); err != nil {
		return provider.User{}, err
	}
	body := patchBody{FirstName: u.FirstName, LastName: u.LastName, EmailVerified: u.EmailVerified, Metadata: u.Metadata}
	return c.oneUser(ctx, call{op: opUpdate, method: http.MethodPatch, path: userPath(id, ""), body: body, idempotent: true}, id)
}

// Delete is DELETE /users/{id}; a user that is not there (or cannot be, by its id) is already
// deleted. Not retried, as decision 21 allows retries for GET, PUT and PATCH only.
func (c *Client) Delete(ctx context.Context, id string) error {
	if !c.validID(id) {
		return nil
	}
	_, err := c.do(ctx, call{op: opDelete, method: http.MethodDelete, path: userPath(id, "")})
	if errors.Is(err, provider.ErrNotFound) {
		return nil
	}
	return err
}

// Login is POST /users/authenticate. Not retried: a provider counting failed logins would count
// a retry as another attempt.
func (c *Client) Login(ctx context.Context, loginName, password string) (provider.Session, error) {
	resp, err := c.do(ctx, call{op: opLogin, method: http.MethodPost, path: "/users/authenticate",
		body: authenticateBody{Email: loginName, Password: password}, kind: loginCall})
	if err != nil {
		return provider.Session{}, err
	}
	var a authenticateAnswer
	if err := resp.Decode(c.name, opLogin, &a); err != nil {
		return provider.Session{}, err
	}
	if !c.validID(a.UserID) || a.AccessToken == "" || a.ExpiresIn <= 0 {
		return provider.Session{}, provider.Errorf(c.name, opLogin, provider.ErrProtocol, resp.Status, "incomplete authentication answer")
	}
	return provider.Session{UserID: a.UserID, Tokens: []provider.Token{{
		Name: c.tokenName, Content: a.AccessToken, ExpiresIn: time.Duration(a.ExpiresIn) * time.Second,
	}}}, nil
}

// UserForToken is GET /users/me with the user's access token as the bearer.
func (c *Client) UserForToken(ctx context.Context, token string) (provider.User, error) {
	if token == "" {
		return provider.User{}, provider.Errorf(c.name, opUserForToken, provider.ErrInvalidToken, 0, "empty token")
	}
	return c.oneUser(ctx, call{op: opUserForToken, method: http.MethodGet, path: "/users/me", idempotent: true,
		kind: tokenCall, userToken: token}, "")
}

// ChangePassword is PUT /users/{id}/password.
func (c *Client) ChangePassword(ctx context.Context, id, password string) error {
	if err := c.checkID(opPassword, id); err != nil {
		return err
	}
	_, err := c.do(ctx, call{op: opPassword, method: http.MethodPut, path: userPath(id, "/password"),
		body: passwordBody{NewPassword: password}, idempotent: true})
	return err
}

// ChangeEmail is PUT /users/{id}/email with verify=true: the orchestrator, not the provider,
// confirms new addresses (and marks them verified with Update).
func (c *Client) ChangeEmail(ctx context.Context, id, email string) (provider.User, error) {
	if err := c.checkID(opEmail, id); err != nil {
		return provider.User{}, err
	}
	return c.oneUser(ctx, call{op: opEmail, method: http.MethodPut, path: userPath(id, "/email"),
		body: emailBody{Email: email, Verify: true}, idempotent: true}, id)
}

// PasswordChangeURL is POST /users/{id}/password-link. Not retried: every call mints a link.
func (c *Client) PasswordChangeURL(ctx context.Context, id, returnURL string) (string, error) {
	if err := c.checkID(opPasswordLink, id); err != nil {
		return "", err
	}
	resp, err := c.do(ctx, call{op: opPasswordLink, method: http.MethodPost, path: userPath(id, "/password-link"),
		body: passwordLinkBody{ReturnURL: returnURL}})
	if err != nil {
		return "", err
	}
	var a passwordLinkAnswer
	if err := resp.Decode(c.name, opPasswordLink, &a); err != nil {
		return "", err
	}
	// The link is a credential of its own: it is checked, but never quoted in the error.
	if u, err := url.Parse(a.URL); err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		return "", provider.Errorf(c.name, opPasswordLink, provider.ErrProtocol, resp.Status, "answer without an absolute link")
	}
	return a.URL, nil
}

package auth0

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"usersorchestrator/internal/provider"
	"usersorchestrator/internal/provider/httpx"
)

// user is Auth0's user object (providers.md §1.2), as far as the adapter reads it.
type user struct {
	UserID        string                     `json:"user_id"`
	Email         string                     `json:"email"`
	EmailVerified bool                       `json:"email_verified"`
	GivenName     string                     `json:"given_name"`
	FamilyName    string                     `json:"family_name"`
	UserMetadata  map[string]json.RawMessage `json:"user_metadata"`
	Blocked       bool                       `json:"blocked"`
	CreatedAt     time.Time                  `json:"created_at"`
	UpdatedAt     time.Time                  `json:"updated_at"`
	// LastPasswordReset is set once the password was changed (PATCH or a reset ticket).
	LastPasswordReset *time.Time `json:"last_password_reset"`
	// Only the connection is read: identities[].user_id is a number for some social providers.
	Identities []struct {
		Connection string `json:"connection"`
	} `json:"identities"`
}

func (u user) toProvider(op string, status int) (provider.User, error) {
	if u.UserID == "" {
		return provider.User{}, provider.Errorf(Name, op, provider.ErrProtocol, status, "user without user_id")
	}
	var md map[string]string
	for k, raw := range u.UserMetadata {
		v, ok := metadataString(raw)
		if !ok {
			continue
		}
		if md == nil {
			md = make(map[string]string, len(u.UserMetadata))
		}
		md[k] = v
	}
	var pwChanged time.Time
	if u.LastPasswordReset != nil {
		pwChanged = u.LastPasswordReset.UTC()
	}
	return provider.User{
		PasswordChangedAt: pwChanged,
		ID:                u.UserID,
		Email:             u.Email,
		EmailVerified:     u.EmailVerified,
		FirstName:         u.GivenName,
		LastName:          u.FamilyName,
		Metadata:          md,
		Blocked:           u.Blocked,
		CreatedAt:         u.CreatedAt,
		UpdatedAt:         u.UpdatedAt,
	}, nil
}

// metadataString renders one user_metadata value for provider.User.Metadata: strings as they
// are, anything else (numbers, booleans, objects written by other applications) as its compact
// JSON text, so nothing is lost or reformatted (1e3 stays 1e3). null is skipped: Auth0 removes
// keys set to null, so a null is no value.
func metadataString(raw json.RawMessage) (string, bool) {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 || string(raw) == "null" {
		return "", false
	}
	var s string
	if raw[0] == '"' && json.Unmarshal(raw, &s) == nil {
		return s, true
	}
	var buf bytes.Buffer
	if json.Compact(&buf, raw) != nil {
		return string(raw), true
	}
	return buf.String(), true
}

// inConnection reports whether the user has an identity in the connection. A user object
// without identities (fields filtered away) cannot be told apart and is accepted.
func (u user) inConnection(connection string) bool {
	if len(u.Identities) == 0 {
		return true
	}
	for _, id := range u.Identities {
		if id.Connection == connection {
			return true
		}
	}
	return false
}

func decodeUser(op string, resp *httpx.Response) (provider.User, error) {
	var u user
	if err := resp.Decode(Name, op, &u); err != nil {
		return provider.User{}, err
	}
	return u.toProvider(op, resp.Status)
}

// GetUser reads GET /api/v2/users/{id}.
func (c *Client) GetUser(ctx context.Context, id string) (provider.User, error) {
	const op = "get user"
	if id == "" {
		// "/api/v2/users/" is the list endpoint: an empty id must not reach it.
		return provider.User{}, provider.Errorf(Name, op, provider.ErrNotFound, 0, "empty user id")
	}
	resp, err := c.management(ctx, httpx.Request{Op: op, Method: http.MethodGet, Path: userPath(id), Idempotent: true})
	if err != nil {
		return provider.User{}, err
	}
	if resp.Status != http.StatusOK {
		return provider.User{}, managementError(op, resp)
	}
	return decodeUser(op, resp)
}

// FindByEmail reads GET /api/v2/users-by-email, which (unlike search) is immediately consistent,
// so a user created a moment ago is found. The lookup is case-sensitive and Auth0 stores database
// users' emails lower-cased, hence the lower-casing. The same email can exist in several
// connections (social logins); only the user of Config.Connection is ours.
func (c *Client) FindByEmail(ctx context.Context, email string) (provider.User, error) {
	const op = "find user by email"
	email = strings.ToLower(strings.TrimSpace(email))
	if email == "" {
		return provider.User{}, provider.Errorf(Name, op, provider.ErrNotFound, 0, "empty email")
	}
	resp, err := c.management(ctx, httpx.Request{
		Op: op, Method: http.MethodGet, Path: "/api/v2/users-by-email",
		Query: url.Values{"email": {email}}, Idempotent: true,
	})
	if err != nil {
		return provider.User{}, err
	}
	if resp.Status != http.StatusOK {
		return provider.User{}, managementError(op, resp)
	}
	var users []user
	if err := resp.Decode(Name, op, &users); err != nil {
		return provider.User{}, err
	}
	for _, u := range users {
		if u.inConnection(c.cfg.Connection) {
			return u.toProvider(op, resp.Status)
		}
	}
	return provider.User{}, provider.Errorf(Name, op, provider.ErrNotFound, resp.Status, "no user in the connection")
}

// Search reads GET /api/v2/users with a Lucene query (search engine v3): every non-empty field
// of q is a prefix match, and only users of Config.Connection are asked for. Results are
// eventually consistent (Auth0 indexes asynchronously). Pages are read until q.Limit users are
// found, a page comes back short, or Auth0's bound is reached: search answers only the first
// 1000 matches (page × per_page must stay below 1000), so q.Limit <= 0 means those 1000.
func (c *Client) Search(ctx context.Context, q provider.Query) ([]provider.User, error) {
	const op = "search users"
	want := q.Limit
	if want <= 0 || want > maxSearchResults {
		want = maxSearchResults
	}
	perPage := min(want, maxPerPage)
	query := searchQuery(c.cfg.Connection, q)
	var out []provider.User
	for page := 0; len(out) < want && page*perPage < maxSearchResults; page++ {
		users, err := c.searchPage(ctx, op, query, page, perPage)
		if err != nil {
			return nil, err
		}
		for _, u := range users {
			pu, err := u.toProvider(op, http.StatusOK)
			if err != nil {
				return nil, err
			}
			out = append(out, pu)
		}
		if len(users) < perPage {
			break
		}
	}
	if len(out) > want {
		out = out[:want]
	}
	if out == nil {
		out = []provider.User{}
	}
	return out, nil
}

func (c *Client) searchPage(ctx context.Context, op, query string, page, perPage int) ([]user, error) {
	resp, err := c.management(ctx, httpx.Request{
		Op: op, Method: http.MethodGet, Path: "/api/v2/users",
		Query: url.Values{
			"q":             {query},
			"search_engine": {"v3"},
			"per_page":      {strconv.Itoa(perPage)},
			"page":          {strconv.Itoa(page)},
		},
		Idempotent: true,
	})
	if err != nil {
		return nil, err
	}
	if resp.Status != http.StatusOK {
		return nil, managementError(op, resp)
	}
	var users []user
	if err := resp.Decode(Name, op, &users); err != nil {
		return nil, err
	}
	return users, nil
}

// searchQuery builds the Lucene query. User input is escaped character by character, so that a
// name like `x OR email:*` stays a literal prefix and cannot widen the search. Values are
// lower-cased: Auth0 matches these normalized fields case-insensitively, and Lucene's prefix
// terms are not analyzed.
func searchQuery(connection string, q provider.Query) string {
	terms := []string{`identities.connection:"` + escapePhrase(connection) + `"`}
	for _, f := range []struct{ field, value string }{
		{"email", q.Email}, {"given_name", q.FirstName}, {"family_name", q.LastName},
	} {
		if v := strings.TrimSpace(f.value); v != "" {
			terms = append(terms, f.field+":"+escapeTerm(strings.ToLower(v))+"*")
		}
	}
	return strings.Join(terms, " AND ")
}

// luceneSpecial are the characters Lucene's query parser gives a meaning to.
const luceneSpecial = `+-&|!(){}[]^"~*?:\/`

// escapeTerm backslash-escapes Lucene's special characters and whitespace in a bare term.
func escapeTerm(s string) string {
	var b strings.Builder
	for _, r := range s {
		if strings.ContainsRune(luceneSpecial, r) || r == ' ' || r == '\t' || r == '\n' || r == '\r' {
			b.WriteByte('\\')
		}
		b.WriteRune(r)
	}
	return b.String()
}

// escapePhrase escapes what is special inside a quoted phrase.
func escapePhrase(s string) string {
	return strings.NewReplacer(`\`, `\\`, `"`, `\"`).Replace(s)
}

// createBody is POST /api/v2/users. verify_email is always false: the orchestrator sends its own
// verification and welcome emails, Auth0 must not send a second one.
type createBody struct {
	Connection    string            `json:"connection"`
	Email         string            `json:"email"`
	Password      string            `json:"password,omitempty"`
	GivenName     string            `json:"given_name,omitempty"`
	FamilyName    string            `json:"family_name,omitempty"`
	UserMetadata  map[string]string `json:"user_metadata,omitempty"`
	EmailVerified bool              `json:"email_verified"`
	VerifyEmail   bool              `json:"verify_email"`
}

// Create makes the user with POST /api/v2/users. Not retried: a create whose answer was lost
// may have happened, and a second one would answer 409 for the user just made.
func (c *Client) Create(ctx context.Context, u provider.NewUser) (provider.User, error) {
	const op = "create user"
	resp, err := c.management(ctx, httpx.Request{
		Op: op, Method: http.MethodPost, Path: "/api/v2/users",
		JSON: createBody{
			Connection:    c.cfg.Connection,
			Email:         u.Email,
			Password:      u.Password,
			GivenName:     u.FirstName,
			FamilyName:    u.LastName,
			UserMetadata:  u.Metadata,
			EmailVerified: u.EmailVerified,
			VerifyEmail:   false,
		},
	})
	if err != nil {
		return provider.User{}, err
	}
	if resp.Status != http.StatusCreated && resp.Status != http.StatusOK {
		return provider.User{}, managementError(op, resp)
	}
	return decodeUser(op, resp)
}

// Update changes the given fields with PATCH /api/v2/users/{id}. An empty name is sent as null
// (Auth0 refuses empty strings; null removes the attribute). user_metadata is merged by Auth0 one
// level deep and a key set to null is removed, which is exactly provider.Update's rule. Setting
// values is idempotent, so the call is retried.
func (c *Client) Update(ctx context.Context, id string, u provider.Update) (provider.User, error) {
	const op = "update user"
	if id == "" {
		return provider.User{}, provider.Errorf(Name, op, provider.ErrNotFound, 0, "empty user id")
	}
	body := map[string]any{}
	name := func(key string, v *string) {
		if v == nil {
			return
		}
		if *v == "" {
			body[key] = nil
		} else {
			body[key] = *v
		}
	}
	name("given_name", u.FirstName)
	name("family_name", u.LastName)
	if u.EmailVerified != nil {
		body["email_verified"] = *u.EmailVerified
		// Auth0 wants the connection with email_verified (providers.md §1.2, PATCH specifics).
		body["connection"] = c.cfg.Connection
	}
	if len(u.Metadata) > 0 {
		md := make(map[string]any, len(u.Metadata))
		for k, v := range u.Metadata {
			if v == nil {
				md[k] = nil
			} else {
				md[k] = *v
			}
		}
		body["user_metadata"] = md
	}
	if len(body) == 0 {
		// Nothing to change: Auth0 refuses an empty PATCH, and the caller wants the user back.
		return c.GetUser(ctx, id)
	}
	return c.patchUser(ctx, op, id, body, true)
}

func (c *Client) patchUser(ctx context.Context, op, id string, body any, idempotent bool) (provider.User, error) {
	resp, err := c.management(ctx, httpx.Request{Op: op, Method: http.MethodPatch, Path: userPath(id), JSON: body, Idempotent: idempotent})
	if err != nil {
		return provider.User{}, err
	}
	if resp.Status != http.StatusOK {
		return provider.User{}, managementError(op, resp)
	}
	return decodeUser(op, resp)
}

// Delete removes the user with DELETE /api/v2/users/{id}; a user that is already gone is fine
// (Auth0 answers 204 then too, or 404). Not retried (contract decision 21: only GET and PATCH
// of values are), so a failure is left to the caller's compensation bookkeeping.
func (c *Client) Delete(ctx context.Context, id string) error {
	const op = "delete user"
	if id == "" {
		// Not "already gone": an empty id means the caller lost the id of the user it wants to
		// undo, and answering nil would leave that user orphaned without anyone noticing.
		return provider.Errorf(Name, op, provider.ErrRejected, 0, "empty user id")
	}
	resp, err := c.management(ctx, httpx.Request{Op: op, Method: http.MethodDelete, Path: userPath(id)})
	if err != nil {
		return err
	}
	if resp.Status == http.StatusNoContent || resp.Status == http.StatusOK {
		return nil
	}
	if err := managementError(op, resp); !errors.Is(err, provider.ErrNotFound) {
		return err
	}
	return nil
}

// ChangePassword sets the password with PATCH {password, connection}. Not retried although it
// sets a value: with a password-history policy a replay of a change that did happen is refused
// ("PasswordHistoryError"), which would turn a success into ErrRejected.
func (c *Client) ChangePassword(ctx context.Context, id, password string) error {
	const op = "change password"
	if id == "" {
		return provider.Errorf(Name, op, provider.ErrNotFound, 0, "empty user id")
	}
	resp, err := c.management(ctx, httpx.Request{
		Op: op, Method: http.MethodPatch, Path: userPath(id),
		JSON: map[string]string{"password": password, "connection": c.cfg.Connection},
	})
	if err != nil {
		return err
	}
	if resp.Status != http.StatusOK {
		return managementError(op, resp)
	}
	return nil
}

// ChangeEmail sets the email with PATCH {email, connection, email_verified:false,
// verify_email:false}. The new address is unproven, so it is marked unverified; the orchestrator
// runs its own verification (and sets email_verified through Update), so Auth0 sends no mail.
// Replaying the same values is harmless, so the call is retried. Auth0 answers 400 "The
// specified new email already exists" when the address is taken.
func (c *Client) ChangeEmail(ctx context.Context, id, email string) (provider.User, error) {
	const op = "change email"
	if id == "" {
		return provider.User{}, provider.Errorf(Name, op, provider.ErrNotFound, 0, "empty user id")
	}
	return c.patchUser(ctx, op, id, map[string]any{
		"email":          email,
		"connection":     c.cfg.Connection,
		"email_verified": false,
		"verify_email":   false,
	}, true)
}

// PasswordChangeURL asks for a password-change ticket (POST /api/v2/tickets/password-change):
// a link to Auth0's reset page that sends the user to returnURL afterwards. The orchestrator
// mails it itself (contract decision 18). Not retried: each POST mints another valid link.
func (c *Client) PasswordChangeURL(ctx context.Context, id, returnURL string) (string, error) {
	const op = "password-change ticket"
	if id == "" {
		return "", provider.Errorf(Name, op, provider.ErrNotFound, 0, "empty user id")
	}
	body := map[string]any{"user_id": id, "ttl_sec": int64(c.cfg.TicketTTL / time.Second)}
	if returnURL != "" {
		body["result_url"] = returnURL
	}
	resp, err := c.management(ctx, httpx.Request{Op: op, Method: http.MethodPost, Path: "/api/v2/tickets/password-change", JSON: body})
	if err != nil {
		return "", err
	}
	if resp.Status != http.StatusCreated && resp.Status != http.StatusOK {
		return "", managementError(op, resp)
	}
	var t struct {
		Ticket string `json:"ticket"`
	}
	if err := resp.Decode(Name, op, &t); err != nil {
		return "", err
	}
	if t.Ticket == "" {
		return "", provider.Errorf(Name, op, provider.ErrProtocol, resp.Status, "no ticket in the answer")
	}
	return t.Ticket, nil
}

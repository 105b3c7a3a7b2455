package restuser

import (
	"time"

	"usersorchestrator/internal/provider"
)

// wireUser is the contract's user object.
type wireUser struct {
	ID            string            `json:"id"`
	Email         string            `json:"email"`
	EmailVerified bool              `json:"emailVerified"`
	FirstName     string            `json:"firstName"`
	LastName      string            `json:"lastName"`
	Blocked       bool              `json:"blocked"`
	CreatedAt     time.Time         `json:"createdAt"`
	UpdatedAt     time.Time         `json:"updatedAt"`
	Metadata      map[string]string `json:"metadata"`
}

// createBody is POST /users.
type createBody struct {
	Email         string            `json:"email"`
	Password      string            `json:"password"`
	FirstName     string            `json:"firstName"`
	LastName      string            `json:"lastName"`
	EmailVerified bool              `json:"emailVerified"`
	Metadata      map[string]string `json:"metadata"`
}

// patchBody is PATCH /users/{id}: absent fields stay as they are, a null metadata value removes
// the key.
type patchBody struct {
	FirstName     *string            `json:"firstName,omitempty"`
	LastName      *string            `json:"lastName,omitempty"`
	EmailVerified *bool              `json:"emailVerified,omitempty"`
	Metadata      map[string]*string `json:"metadata,omitempty"`
}

type authenticateBody struct {
	Email    string `json:"email"`
	Password string `json:"password"`
}

type authenticateAnswer struct {
	UserID      string `json:"userId"`
	AccessToken string `json:"accessToken"`
	ExpiresIn   int64  `json:"expiresIn"`
}

type passwordBody struct {
	NewPassword string `json:"newPassword"`
}

type emailBody struct {
	Email string `json:"email"`
	// Verify true: the new address counts as unverified until the orchestrator confirms it.
	Verify bool `json:"verify"`
}

type passwordLinkBody struct {
	ReturnURL string `json:"returnUrl,omitempty"`
}

type passwordLinkAnswer struct {
	URL string `json:"url"`
}

type usersAnswer struct {
	// A pointer, so that an answer without "users" is told apart from an empty list.
	Users *[]wireUser `json:"users"`
}

// user converts a decoded user, refusing one whose id this provider could not have issued:
// handing such an id on would store a customerRegistrationId nobody can resolve later.
func (c *Client) user(op string, status int, w wireUser) (provider.User, error) {
	if !c.validID(w.ID) {
		return provider.User{}, provider.Errorf(c.name, op, provider.ErrProtocol, status, "user without a valid id")
	}
	return provider.User{
		ID:            w.ID,
		Email:         w.Email,
		EmailVerified: w.EmailVerified,
		FirstName:     w.FirstName,
		LastName:      w.LastName,
		Metadata:      w.Metadata,
		Blocked:       w.Blocked,
		CreatedAt:     w.CreatedAt,
		UpdatedAt:     w.UpdatedAt,
	}, nil
}

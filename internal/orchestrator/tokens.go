package orchestrator

import (
	"context"
	"crypto/hmac"
	"errors"
	"net/url"
	"strconv"
	"strings"
	"time"

	"usersorchestrator/internal/events"
	"usersorchestrator/internal/registration"
	"usersorchestrator/internal/secrets"
)

// welcomeLinkTTL is the life of the link a passwordless user chooses a password with: longer than
// a forgot-password link, since a welcome email may sit unread for days.
const welcomeLinkTTL = 7 * 24 * time.Hour

// verificationCodeDigits is the length of the emailed codes.
const verificationCodeDigits = 6

// issueCode makes a new verification code for reg (replacing any earlier one) and stores its hash.
func (o *Orchestrator) issueCode(ctx context.Context, tx Store, c Call, reg registration.Registration) (string, error) {
	code, err := secrets.RandomDigits(verificationCodeDigits)
	if err != nil {
		return "", err
	}
	now := o.Now().UTC()
	err = tx.PutToken(ctx, registration.Token{
		Tenant:                 c.Tenant.Key,
		Purpose:                registration.PurposeVerifyEmail,
		ID:                     reg.CustomerRegistrationID,
		CustomerRegistrationID: reg.CustomerRegistrationID,
		SecretHash:             o.codeHash(c, reg.CustomerRegistrationID, code),
		CreatedAt:              now,
		ExpiresAt:              now.Add(o.VerificationTTL),
	})
	return code, err
}

// The hashes are keyed (MAC), so a copy of the database does not let anyone try the million
// possible codes offline.
func (o *Orchestrator) codeHash(c Call, crid, code string) []byte {
	return o.Sealer.MAC(purposeVerifyCode, []byte(c.Tenant.Key.String()), []byte(crid), []byte(code))
}

func (o *Orchestrator) resetHash(c Call, id, secret string) []byte {
	return o.Sealer.MAC(purposeForgotPassword, []byte(c.Tenant.Key.String()), []byte(id), []byte(secret))
}

// issueResetLink starts a forgot-password flow for reg inside tx: the STARTFORGOTPASSWORD event,
// whose id the link carries, and the token holding the hash of the link's secret. The link is
// base with encryptedEventId added; encryptedEventId seals "<event id>.<secret>" for the tenant.
func (o *Orchestrator) issueResetLink(ctx context.Context, tx Store, c Call, reg registration.Registration, base string, ttl time.Duration) (link, encryptedEventID string, err error) {
	eventID, err := tx.RecordEvent(ctx, o.event(c, events.SubscribeStartForgotPassword, reg.CustomerRegistrationID, o.Now(), nil))
	if err != nil {
		return "", "", err
	}
	secret, err := secrets.RandomToken(32)
	if err != nil {
		return "", "", err
	}
	id := strconv.FormatInt(eventID, 10)
	now := o.Now().UTC()
	err = tx.PutToken(ctx, registration.Token{
		Tenant:                 c.Tenant.Key,
		Purpose:                registration.PurposeForgotPassword,
		ID:                     id,
		CustomerRegistrationID: reg.CustomerRegistrationID,
		SecretHash:             o.resetHash(c, id, secret),
		EventID:                eventID,
		CreatedAt:              now,
		ExpiresAt:              now.Add(ttl),
	})
	if err != nil {
		return "", "", err
	}
	enc := o.seal(c, purposeForgotPassword, id+"."+secret)
	return withQuery(base, "encryptedEventId", enc), enc, nil
}

// fakeEventID is what Start answers for an unknown login name: sealed like a real one, so the
// answer does not tell whether the account exists, and refused by Validity like an expired one.
func (o *Orchestrator) fakeEventID(c Call) (string, error) {
	secret, err := secrets.RandomToken(32)
	if err != nil {
		return "", err
	}
	return o.seal(c, purposeForgotPassword, "0."+secret), nil
}

// resetToken finds the live token an encryptedEventId stands for; ErrInvalidToken when it is
// forged, for another tenant, used or expired (with the token, when there is one).
func (o *Orchestrator) resetToken(ctx context.Context, c Call, encryptedEventID string) (registration.Token, error) {
	plain, err := o.open(c, purposeForgotPassword, encryptedEventID)
	if err != nil {
		return registration.Token{}, ErrInvalidToken
	}
	id, secret, ok := strings.Cut(plain, ".")
	if !ok || id == "0" {
		return registration.Token{}, ErrInvalidToken
	}
	tok, err := o.Store.GetToken(ctx, c.Tenant.Key, registration.PurposeForgotPassword, id)
	switch {
	case errors.Is(err, registration.ErrNotFound):
		return registration.Token{}, ErrInvalidToken
	case err != nil:
		return registration.Token{}, failed(WorkflowForgotPassword, err)
	}
	if !hmac.Equal(tok.SecretHash, o.resetHash(c, id, secret)) || tok.UsedAt != nil || !o.Now().Before(tok.ExpiresAt) {
		// The token is returned with the error so that the failed attempt's event is recorded
		// against the user whose link it is.
		return tok, ErrInvalidToken
	}
	return tok, nil
}

// enqueue queues an email inside tx, due now by the orchestrator's clock (the worker compares
// with the same clock).
func (o *Orchestrator) enqueue(ctx context.Context, tx Store, e registration.Email) error {
	now := o.Now().UTC()
	e.CreatedAt, e.NextAttemptAt = now, now
	_, err := tx.EnqueueEmail(ctx, e)
	return err
}

func verificationLink(base, email, code string) string {
	return withQuery(base, "email", email, "verificationCode", code)
}

// withQuery adds query parameters to a link, keeping the ones it has.
func withQuery(base string, kv ...string) string {
	u, err := url.Parse(base)
	if err != nil {
		return base
	}
	q := u.Query()
	for i := 0; i+1 < len(kv); i += 2 {
		q.Set(kv[i], kv[i+1])
	}
	u.RawQuery = q.Encode()
	return u.String()
}

// returnURL applies the tenant's policy to a returnUrl from a request.
func returnURL(c Call, requested string) (string, error) {
	u, ok := c.Tenant.ReturnURL(requested)
	if !ok {
		return "", &InvalidInputError{Field: "body.returnUrl", Problem: "its host is not allowed for this tenant"}
	}
	return u, nil
}

package apitest

import (
	"context"
	"net/url"
	"strconv"
	"strings"
	"time"

	"usersorchestrator/gen/client"
	"usersorchestrator/internal/mail/mailtest"
	"usersorchestrator/internal/orchestrator"
)

// CreateUser creates a user and fails the test unless it answers S200_06.
func (e *Env) CreateUser(body client.CreateUserRequest, editors ...client.RequestEditorFn) client.UserReference {
	e.T.Helper()
	resp, err := e.Client.CreateUserWithResponse(context.Background(), &client.CreateUserParams{}, body, editors...)
	if err != nil {
		e.T.Fatal(err)
	}
	if resp.JSON200 == nil {
		e.T.Fatalf("create %s: %d %s", body.Email, resp.StatusCode(), resp.Body)
	}
	return resp.JSON200.Data
}

// GetUser reads a user by id and fails the test unless it answers S200_01.
func (e *Env) GetUser(crid string, editors ...client.RequestEditorFn) client.User {
	e.T.Helper()
	resp, err := e.Client.GetUserByIdWithResponse(context.Background(), crid, &client.GetUserByIdParams{}, editors...)
	if err != nil {
		e.T.Fatal(err)
	}
	if resp.JSON200 == nil {
		e.T.Fatalf("get %s: %d %s", crid, resp.StatusCode(), resp.Body)
	}
	return resp.JSON200.Data
}

// Events lists a user's events, newest first.
func (e *Env) Events(crid string) []client.Event {
	e.T.Helper()
	size := 100
	resp, err := e.Client.GetUserEventsWithResponse(context.Background(), crid, &client.GetUserEventsParams{PageSize: &size})
	if err != nil {
		e.T.Fatal(err)
	}
	if resp.JSON200 == nil {
		e.T.Fatalf("events of %s: %d %s", crid, resp.StatusCode(), resp.Body)
	}
	return resp.JSON200.Data.Events
}

// EventCodes lists a user's event type codes, oldest first, as "CODE id outcome".
func (e *Env) EventCodes(crid string) []string {
	e.T.Helper()
	evs := e.Events(crid)
	out := make([]string, 0, len(evs))
	for i := len(evs) - 1; i >= 0; i-- {
		ev := evs[i]
		out = append(out, string(ev.EventTypeCode)+" "+strconv.Itoa(ev.EventTypeId)+" "+string(ev.Outcome))
	}
	return out
}

// MailTo waits for the newest email to addr.
func (e *Env) MailTo(addr string) mailtest.Message {
	e.T.Helper()
	return e.Mail.WaitFor(e.T, addr, 10*time.Second)
}

// MailWhere waits for an email to addr for which match is true (the outbox is delivered
// asynchronously, so the newest message may not be the one a test waits for yet).
func (e *Env) MailWhere(addr string, match func(mailtest.Message) bool) mailtest.Message {
	e.T.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		msgs := e.Mail.Messages()
		for i := len(msgs) - 1; i >= 0; i-- {
			for _, to := range msgs[i].To {
				if strings.EqualFold(to, addr) && match(msgs[i]) {
					return msgs[i]
				}
			}
		}
		if time.Now().After(deadline) {
			e.T.Fatalf("no matching email to %s within 10 s (got %d messages)", addr, len(msgs))
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// MailWithSubject waits for an email to addr whose subject contains part (ignoring case).
func (e *Env) MailWithSubject(addr, part string) mailtest.Message {
	e.T.Helper()
	return e.MailWhere(addr, func(m mailtest.Message) bool {
		return strings.Contains(strings.ToLower(m.Subject), strings.ToLower(part))
	})
}

// LinkParam finds, in an email's links, the value of a query parameter.
func LinkParam(m mailtest.Message, param string) (string, bool) {
	for _, l := range mailtest.Links(m.Body) {
		u, err := url.Parse(l)
		if err != nil {
			continue
		}
		if v := u.Query().Get(param); v != "" {
			return v, true
		}
	}
	return "", false
}

// SealEmail encrypts an email address for the encryptedEmail selector, as the service does.
func (e *Env) SealEmail(email string) string {
	e.T.Helper()
	t, ok := e.App.Tenant(e.Tenant)
	if !ok {
		e.T.Fatalf("tenant %s is not configured", e.Tenant)
	}
	return e.App.Orchestrator.SealEmail(orchestrator.Call{Tenant: t}, email)
}

// Ptr returns a pointer to v.
func Ptr[T any](v T) *T { return &v }

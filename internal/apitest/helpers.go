package apitest

import (
	"context"
	"net/url"
	"strconv"
	"time"

	"usersorchestrator/gen/client"
	"usersorchestrator/internal/mail/mailtest"
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

// Ptr returns a pointer to v.
func Ptr[T any](v T) *T { return &v }

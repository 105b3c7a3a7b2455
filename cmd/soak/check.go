package main

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"

	"usersorchestrator/internal/soak/mailsink"
)

// readCodes are the event types of reads, which the soak's retention prunes after 30 s.
var readCodes = map[string]bool{"SUBSCRIBE_USER_GET": true, "SUBSCRIBE_USER_GETBYID": true}

// events lists a registration's event type codes (every page) and when its oldest read event
// occurred.
func events(ctx context.Context, a *api, id string) (map[string]int, time.Time, int, error) {
	counts := map[string]int{}
	var oldest time.Time
	total := 0
	for page := 1; ; page++ {
		ans, err := a.expect(ctx, http.StatusOK, http.MethodGet,
			fmt.Sprintf("/v4/Users/%s/Events?pageSize=100&pageNumber=%d", url.PathEscape(id), page), nil)
		if err != nil {
			return nil, oldest, 0, err
		}
		var env struct {
			Data struct {
				Events []struct {
					Code       string    `json:"eventTypeCode"`
					OccurredAt time.Time `json:"occurredAt"`
				} `json:"events"`
			} `json:"data"`
			Meta struct {
				TotalCount int `json:"totalCount"`
			} `json:"meta"`
		}
		if err := json.Unmarshal(ans.body, &env); err != nil {
			return nil, oldest, 0, err
		}
		total = env.Meta.TotalCount
		for _, e := range env.Data.Events {
			counts[e.Code]++
			if readCodes[e.Code] && (oldest.IsZero() || e.OccurredAt.Before(oldest)) {
				oldest = e.OccurredAt
			}
		}
		if len(env.Data.Events) < 100 || page*100 >= total {
			return counts, oldest, total, nil
		}
	}
}

// lookup finds a registration by email: its id, or "" when there is none.
func lookup(ctx context.Context, a *api, email string) (string, error) {
	ans, err := a.call(ctx, http.MethodGet, "/v4/Users?email="+url.QueryEscape(email), nil)
	if err != nil {
		return "", err
	}
	if ans.status == http.StatusNotFound {
		return "", nil
	}
	if ans.status != http.StatusOK {
		return "", fmt.Errorf("GET by email %s: status %d: %s", email, ans.status, ans.body)
	}
	var env struct {
		Data struct {
			Users []struct {
				ID    string `json:"customerRegistrationId"`
				Email string `json:"email"`
			} `json:"users"`
		} `json:"data"`
	}
	if err := json.Unmarshal(ans.body, &env); err != nil {
		return "", err
	}
	for _, u := range env.Data.Users {
		if strings.EqualFold(u.Email, email) {
			return u.ID, nil
		}
	}
	return "", nil
}

// integrity is what the kill-and-restart check found.
type integrity struct {
	problems []string
	// figures for the report
	creates, unknownCreates, unknownWritten, updates, forgot, codes, verified, unknownCodes int
	mailsOwed, mailsDelivered                                                               int
}

func (r *integrity) fail(format string, args ...any) {
	if len(r.problems) < 50 {
		r.problems = append(r.problems, fmt.Sprintf(format, args...))
	} else if len(r.problems) == 50 {
		r.problems = append(r.problems, "(more left out)")
	}
}

func hasMail(msgs []mailsink.Message, subjectPrefix string) bool {
	for _, m := range msgs {
		if strings.HasPrefix(m.Subject, subjectPrefix) {
			return true
		}
	}
	return false
}

// checkLedger compares what the service acknowledged with what it holds and what was mailed:
// every acknowledged create has its row, its create event and its welcome email; every
// acknowledged update its update event; every forgot-password start its event and email; every
// code its email. A create cut by the kill is either absent or whole (row, event, email).
func checkLedger(ctx context.Context, a *api, l *ledger, sink *mailsink.Sink) integrity {
	l.mu.Lock()
	defer l.mu.Unlock()
	r := integrity{creates: len(l.created), unknownCreates: len(l.unknownCreates), forgot: len(l.forgot),
		codes: len(l.codesSent), verified: len(l.verified), unknownCodes: len(l.unknownCodes)}
	forgot := map[string]bool{}
	for _, e := range l.forgot {
		forgot[e] = true
	}
	owe := func(email, subject, why string) {
		r.mailsOwed++
		if hasMail(sink.To(email), subject) {
			r.mailsDelivered++
		} else {
			r.fail("%s: no %q email delivered to %s", why, subject, email)
		}
	}
	for _, u := range l.created {
		ev, _, _, err := events(ctx, a, u.id)
		if err != nil {
			r.fail("acknowledged create %s (%s): %v", u.id, u.email, err)
			continue
		}
		if ev["SUBSCRIBE_USER_CREATE"] != 1 {
			r.fail("acknowledged create %s: %d SUBSCRIBE_USER_CREATE events", u.email, ev["SUBSCRIBE_USER_CREATE"])
		}
		if n := l.updates[u.id]; ev["SUBSCRIBE_USER_UPDATE"] < n {
			r.fail("%s: %d acknowledged updates, %d SUBSCRIBE_USER_UPDATE events", u.email, n, ev["SUBSCRIBE_USER_UPDATE"])
		}
		r.updates += l.updates[u.id]
		if id, err := lookup(ctx, a, u.email); err != nil || id != u.id {
			r.fail("acknowledged create %s: GET by email found %q (%v)", u.email, id, err)
		}
		owe(u.email, "Welcome to", "acknowledged create")
		if forgot[u.email] {
			if ev["SUBSCRIBE_USER_STARTFORGOTPASSWORD"] < 1 {
				r.fail("acknowledged forgot-password %s: no SUBSCRIBE_USER_STARTFORGOTPASSWORD event", u.email)
			}
			owe(u.email, "Reset your", "acknowledged forgot-password")
		}
	}
	for _, email := range l.unknownCreates {
		id, err := lookup(ctx, a, email)
		if err != nil {
			r.fail("create cut by the kill %s: %v", email, err)
			continue
		}
		if id == "" {
			continue // never written: fine
		}
		r.unknownWritten++
		ev, _, _, err := events(ctx, a, id)
		if err != nil || ev["SUBSCRIBE_USER_CREATE"] != 1 {
			r.fail("create cut by the kill %s was written without its create event (%v, %v)", email, ev, err)
		}
		owe(email, "Welcome to", "create cut by the kill but written")
	}
	for _, email := range l.codesSent {
		owe(email, "Your verification code", "acknowledged verification code")
	}
	for _, email := range l.unknownCodes {
		id, err := lookup(ctx, a, email)
		if err != nil {
			r.fail("verification code cut by the kill %s: %v", email, err)
		} else if id != "" {
			owe(email, "Your verification code", "verification code cut by the kill but written")
		}
	}
	return r
}

package main

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"time"

	"usersorchestrator/internal/bench"
	"usersorchestrator/internal/soak/load"
	"usersorchestrator/internal/soak/mailsink"
)

const password = "correct-horse-battery-staple"

type user struct{ id, email string }

// ledger is what the service acknowledged (answered 200 for) and what it may or may not have
// done (the request died with the process): the kill-and-restart check compares it with what
// the service holds and what the mail sink received afterwards.
type ledger struct {
	mu sync.Mutex
	// created are the acknowledged creates, in order; unknownCreates the emails of creates
	// cut by the kill (done or not: either is fine, half is not).
	created        []user
	unknownCreates []string
	// updates counts acknowledged updates per registration id.
	updates map[string]int
	// forgot are the emails whose forgot-password start was acknowledged.
	forgot []string
	// codesSent are the addresses a verification code was acknowledged for; toVerify those
	// waiting for their code to be read and used; verified those verified.
	codesSent, toVerify, verified []string
	unknownCodes                  []string
	// next* are cursors: the next created user to update and to send a reset to.
	nextUpdate, nextForgot int
}

func newLedger() *ledger { return &ledger{updates: map[string]int{}} }

// ops builds the operations of the load. s are the seeded users.
func ops(a *api, l *ledger, sink *mailsink.Sink, s seeded, run string, rates map[string]float64) []load.Op {
	status := func(ans answer, err error) load.Result {
		if err != nil {
			return load.Result{Status: ans.status, Err: err}
		}
		return load.Result{Status: ans.status}
	}
	return []load.Op{
		{Name: "get-id", Rate: rates["get-id"], Workers: 48, Do: func(ctx context.Context, seq int) load.Result {
			u := s.readers[seq%len(s.readers)]
			return status(a.expect(ctx, http.StatusOK, http.MethodGet, "/v4/Users/"+url.PathEscape(u.id), nil))
		}},
		{Name: "get-email", Rate: rates["get-email"], Workers: 48, Do: func(ctx context.Context, seq int) load.Result {
			u := s.readers[(seq*7919)%len(s.readers)]
			return status(a.expect(ctx, http.StatusOK, http.MethodGet, "/v4/Users?email="+url.QueryEscape(u.email), nil))
		}},
		{Name: "create", Rate: rates["create"], Workers: 8, Do: func(ctx context.Context, seq int) load.Result {
			email := fmt.Sprintf("c-%s-%06d@soak.example", run, seq)
			ans, err := a.expect(ctx, http.StatusOK, http.MethodPost, "/v4/Users", map[string]any{
				"email": email, "password": password, "firstName": "Ada", "lastName": "Lovelace", "metadata": map[string]string{"plan": "gold"}})
			if err != nil {
				if ans.status == 0 {
					l.mu.Lock()
					l.unknownCreates = append(l.unknownCreates, email)
					l.mu.Unlock()
				}
				return status(ans, err)
			}
			id, err := bench.RegistrationID(ans.body)
			if err != nil {
				return load.Result{Status: ans.status, Err: err}
			}
			l.mu.Lock()
			l.created = append(l.created, user{id: id, email: email})
			l.mu.Unlock()
			return load.Result{Status: ans.status}
		}},
		{Name: "login", Rate: rates["login"], Workers: 8, Do: func(ctx context.Context, seq int) load.Result {
			// A success resets the per-name limiter, so a few names suffice.
			u := s.logins[seq%len(s.logins)]
			return status(a.expect(ctx, http.StatusOK, http.MethodPost, "/v4/Users/Authentication",
				map[string]string{"loginName": u.email, "password": password}))
		}},
		{Name: "update", Rate: rates["update"], Workers: 4, Do: func(ctx context.Context, seq int) load.Result {
			l.mu.Lock()
			if len(l.created) == 0 {
				l.mu.Unlock()
				return load.Result{Skipped: true}
			}
			u := l.created[l.nextUpdate%len(l.created)]
			l.nextUpdate++
			l.mu.Unlock()
			ans, err := a.expect(ctx, http.StatusOK, http.MethodPut, "/v4/Users/"+url.PathEscape(u.id),
				map[string]any{"lastName": "Byron", "metadata": map[string]string{"soak": fmt.Sprint(seq)}})
			if err == nil {
				l.mu.Lock()
				l.updates[u.id]++
				l.mu.Unlock()
			}
			return status(ans, err)
		}},
		{Name: "forgot-password", Rate: rates["forgot-password"], Workers: 4, Do: func(ctx context.Context, seq int) load.Result {
			// Each created user gets one reset: the limiter allows a few per name and hour.
			l.mu.Lock()
			if l.nextForgot >= len(l.created) {
				l.mu.Unlock()
				return load.Result{Skipped: true}
			}
			u := l.created[l.nextForgot]
			l.nextForgot++
			l.mu.Unlock()
			ans, err := a.expect(ctx, http.StatusOK, http.MethodPost, "/v4/Users/ForgotPassword",
				map[string]string{"loginName": u.email})
			if err == nil {
				l.mu.Lock()
				l.forgot = append(l.forgot, u.email)
				l.mu.Unlock()
			}
			return status(ans, err)
		}},
		{Name: "send-code", Rate: rates["send-code"], Workers: 4, Do: func(ctx context.Context, seq int) load.Result {
			email := fmt.Sprintf("v-%s-%06d@soak.example", run, seq)
			ans, err := a.expect(ctx, http.StatusOK, http.MethodPost, "/v4/Users/VerificationCode", map[string]string{"email": email})
			l.mu.Lock()
			defer l.mu.Unlock()
			switch {
			case err == nil:
				l.codesSent = append(l.codesSent, email)
				l.toVerify = append(l.toVerify, email)
			case ans.status == 0:
				l.unknownCodes = append(l.unknownCodes, email)
			}
			return status(ans, err)
		}},
		{Name: "verify", Rate: rates["verify"], Workers: 4, Do: func(ctx context.Context, seq int) load.Result {
			// The oldest address whose code has arrived; none yet is nothing to do.
			l.mu.Lock()
			var email, code string
			for i, e := range l.toVerify {
				if c := lastCode(sink.To(e)); c != "" {
					email, code = e, c
					l.toVerify = append(l.toVerify[:i], l.toVerify[i+1:]...)
					break
				}
				if i > 50 {
					break
				}
			}
			l.mu.Unlock()
			if email == "" {
				return load.Result{Skipped: true}
			}
			ans, err := a.expect(ctx, http.StatusOK, http.MethodPost, "/v4/Users/Verification",
				map[string]string{"email": email, "verificationCode": code})
			if err == nil {
				l.mu.Lock()
				l.verified = append(l.verified, email)
				l.mu.Unlock()
			}
			return status(ans, err)
		}},
	}
}

// codePattern finds the code in a verification email ("... is:\n\n    CODE\n").
var codePattern = regexp.MustCompile(`is:\n\n +(\S+)\n`)

// lastCode is the code of the newest verification email among msgs ("" when none).
func lastCode(msgs []mailsink.Message) string {
	for i := len(msgs) - 1; i >= 0; i-- {
		if !strings.HasPrefix(msgs[i].Subject, "Your verification code") {
			continue
		}
		if m := codePattern.FindStringSubmatch(msgs[i].Body); m != nil {
			return m[1]
		}
	}
	return ""
}

// seeded are the users the reads and logins use.
type seeded struct{ readers, logins []user }

// seed creates the users through the API, 8 at a time.
func seed(ctx context.Context, a *api, readers, logins int) (seeded, error) {
	s := seeded{readers: make([]user, readers), logins: make([]user, logins)}
	type job struct {
		dst  *user
		body map[string]any
	}
	var jobs []job
	for i := range readers {
		email := fmt.Sprintf("reader-%05d@soak.example", i)
		jobs = append(jobs, job{&s.readers[i], map[string]any{"email": email, "firstName": "Ada", "lastName": "Lovelace",
			"metadata": map[string]string{"plan": "gold", "newsletter": "weekly"}}})
	}
	for i := range logins {
		email := fmt.Sprintf("login-%05d@soak.example", i)
		jobs = append(jobs, job{&s.logins[i], map[string]any{"email": email, "password": password, "firstName": "Ada"}})
	}
	work := make(chan job)
	var mu sync.Mutex
	var errs []error
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			for j := range work {
				ans, err := a.expect(ctx, http.StatusOK, http.MethodPost, "/v4/Users", j.body)
				var id string
				if err == nil {
					id, err = bench.RegistrationID(ans.body)
				}
				if err != nil {
					mu.Lock()
					errs = append(errs, err)
					mu.Unlock()
					continue
				}
				*j.dst = user{id: id, email: j.body["email"].(string)}
			}
		})
	}
	for _, j := range jobs {
		work <- j
	}
	close(work)
	wg.Wait()
	return s, errors.Join(errs...)
}

// since formats a duration for the report.
func since(d time.Duration) string { return d.Round(time.Second).String() }

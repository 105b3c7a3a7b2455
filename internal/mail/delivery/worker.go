package delivery

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"
	"unicode/utf8"

	"usersorchestrator/internal/registration"
)

// Outbox is the part of registration.Store the Worker needs.
type Outbox interface {
	// ClaimDueEmails takes due emails for this worker alone until now+lease.
	ClaimDueEmails(ctx context.Context, now time.Time, lease time.Duration, limit int) ([]registration.Email, error)
	MarkEmailSent(ctx context.Context, id int64, at time.Time) error
	MarkEmailFailed(ctx context.Context, id int64, next time.Time, lastError string) error
	// ScrubEmails blanks the bodies of unsent emails whose secret expired by now, and of ids.
	ScrubEmails(ctx context.Context, now time.Time, ids ...int64) (int64, error)
}

// Defaults of WorkerOptions and the retry schedule.
const (
	DefaultInterval    = 2 * time.Second
	DefaultBatch       = 50
	DefaultMaxAttempts = 8
	// DefaultLease is how long a claimed email stays the worker's. A worker starts no send in the
	// second half of its lease, so the lease must be well over twice the longest send (the SMTP
	// timeout, 10 s by default); an email left unsent by a worker that died or stopped is taken
	// again when its lease ends.
	DefaultLease = 2 * time.Minute

	// BackoffBase is the wait after the first failure; it doubles with every further failure
	// (10 s, 20 s, 40 s ...) up to BackoffMax. With the default 8 attempts a mail is retried
	// for about 21 minutes, long enough to ride out a relay restart, short enough that a
	// verification code is still valid when it arrives.
	BackoffBase = 10 * time.Second
	BackoffMax  = time.Hour

	// parkFor moves a row's next attempt out of reach: the row stays in the outbox (visible in
	// OutboxBacklog, with its lastError, for an operator) but is never picked up again.
	parkFor = 100 * 365 * 24 * time.Hour

	// ExpiredError is the lastError of a mail whose link or code expired before it could be sent.
	ExpiredError = "its link or code expired before delivery"

	// NoSMTPError is the lastError of a mail parked because no SMTP server is configured.
	NoSMTPError = "no SMTP server configured"

	// ScrubEvery is how often a worker blanks the bodies of unsent emails whose link or code has
	// expired (parked without SMTP, or still retrying): a copy of the database then holds no
	// live secret, and the expired ones are useless anyway.
	ScrubEvery = time.Minute

	maxLastError = 1000
	// minRedacted: body lines shorter than this ("--") are too common to be secrets.
	minRedacted = 4
)

// WorkerOptions tune the Worker; zero values take the defaults.
type WorkerOptions struct {
	// Interval is how often the outbox is polled; Notify wakes the worker sooner.
	Interval time.Duration
	// Batch is how many due emails one pass takes.
	Batch int
	// MaxAttempts is how many failed sends an email gets; after that it is parked (kept,
	// never retried) and an error is logged.
	MaxAttempts int
	// Lease is how long the emails of a batch stay claimed by this worker (default DefaultLease).
	Lease time.Duration
	// Now is the clock (tests); default time.Now.
	Now func() time.Time
}

// Worker delivers the outbox. Any number of Workers (one per instance of the service) may run on
// one outbox: each pass claims its batch for a lease, so no two passes get the same email.
type Worker struct {
	outbox Outbox
	sender Sender
	log    *slog.Logger
	opts   WorkerOptions
	wake   chan struct{}
	// nextScrub is when the next pass blanks expired bodies (passes run one at a time).
	nextScrub time.Time
}

// NewWorker builds a worker. sender nil means no SMTP server is configured (the embedded
// default): each email is logged once, without its body, and parked in the outbox. Retrying
// such mails every poll would only repeat the log line; parking keeps them inspectable, and
// their links expire long before anyone could configure SMTP and send them anyway.
func NewWorker(outbox Outbox, sender Sender, log *slog.Logger, o WorkerOptions) *Worker {
	if o.Interval <= 0 {
		o.Interval = DefaultInterval
	}
	if o.Batch <= 0 {
		o.Batch = DefaultBatch
	}
	if o.MaxAttempts <= 0 {
		o.MaxAttempts = DefaultMaxAttempts
	}
	if o.Lease <= 0 {
		o.Lease = DefaultLease
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	// `var s Sender; s, err = NewSMTPSender(...)` style wiring can hand over a typed nil,
	// which is not == nil and would panic on the first Send: it means "no SMTP" as well.
	if s, ok := sender.(*SMTPSender); ok && s == nil {
		sender = nil
	}
	return &Worker{outbox: outbox, sender: sender, log: log, opts: o, wake: make(chan struct{}, 1)}
}

// Notify wakes Run for a pass now, typically right after an email was enqueued so it does not
// wait for the next poll. It never blocks; wake-ups that arrive during a pass fold into one.
func (w *Worker) Notify() {
	select {
	case w.wake <- struct{}{}:
	default:
	}
}

// Run delivers due emails until ctx is done, then returns nil. A failing pass (the store is
// down) is logged and retried at the next poll.
func (w *Worker) Run(ctx context.Context) error {
	timer := time.NewTimer(0)
	defer timer.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-timer.C:
		case <-w.wake:
		}
		fetched, err := w.pass(ctx)
		if ctx.Err() != nil {
			return nil
		}
		if err != nil {
			w.log.ErrorContext(ctx, "outbox delivery pass failed", "error", err)
		}
		// A full batch means more may be due: go again at once rather than a poll later.
		next := w.opts.Interval
		if err == nil && fetched == w.opts.Batch {
			next = 0
		}
		timer.Reset(next)
	}
}

// DeliverDue makes one pass over the due emails and returns how many were sent. It stops at the
// first store error (the next pass picks up where this one stopped).
func (w *Worker) DeliverDue(ctx context.Context) (sent int, err error) {
	sent, _, err = w.deliver(ctx)
	return sent, err
}

func (w *Worker) pass(ctx context.Context) (fetched int, err error) {
	_, fetched, err = w.deliver(ctx)
	return fetched, err
}

func (w *Worker) deliver(ctx context.Context) (sent, fetched int, err error) {
	claimed := w.opts.Now()
	if !claimed.Before(w.nextScrub) {
		if _, err := w.outbox.ScrubEmails(ctx, claimed); err != nil {
			return 0, 0, fmt.Errorf("mail: scrub expired emails: %w", err)
		}
		w.nextScrub = claimed.Add(ScrubEvery)
	}
	due, err := w.outbox.ClaimDueEmails(ctx, claimed, w.opts.Lease, w.opts.Batch)
	if err != nil {
		return 0, 0, fmt.Errorf("mail: claim due emails: %w", err)
	}
	// A send started late in the lease could still run when the lease ends and another worker
	// claims the email: it would go out twice. Past half the lease the pass stops; the emails
	// left are taken again when their lease ends.
	stopAt := claimed.Add(w.opts.Lease / 2)
	for i, e := range due {
		if err := ctx.Err(); err != nil {
			return sent, len(due), err
		}
		if !w.opts.Now().Before(stopAt) {
			w.log.WarnContext(ctx, "outbox pass stopped at half its lease; the rest of the batch waits for the lease to end",
				"left", len(due)-i, "lease", w.opts.Lease)
			return sent, len(due), nil
		}
		ok, err := w.deliverOne(ctx, e)
		if err != nil {
			return sent, len(due), err
		}
		if ok {
			sent++
		}
	}
	return sent, len(due), nil
}

// deliverOne sends e and records the outcome; the error is the store's, or ctx's on shutdown.
func (w *Worker) deliverOne(ctx context.Context, e registration.Email) (bool, error) {
	attrs := []any{"email_id", e.ID, "kind", e.Kind, "tenant", e.Tenant.String()}
	if w.sender == nil {
		// The only trace of the mail in this mode: enough to see that it would have gone out
		// and to whom, nothing that could let a reader of the logs use it.
		w.log.InfoContext(ctx, "email not sent: no SMTP server configured",
			append(attrs, "recipient", e.To, "subject", e.Subject)...)
		if err := w.outbox.MarkEmailFailed(ctx, e.ID, w.opts.Now().Add(parkFor), NoSMTPError); err != nil {
			return false, fmt.Errorf("mail: park email %d: %w", e.ID, err)
		}
		return false, nil
	}
	if now := w.opts.Now(); e.Body == "" || (e.BodyExpiresAt != nil && !now.Before(*e.BodyExpiresAt)) {
		// Its link or code expired while it waited for a retry (and the scrub may have blanked
		// it): sending it would only deliver a dead link, or an empty message.
		w.log.WarnContext(ctx, "email not sent: its link or code expired before delivery", append(attrs, "recipient", e.To)...)
		if err := w.outbox.MarkEmailFailed(ctx, e.ID, now.Add(parkFor), ExpiredError); err != nil {
			return false, fmt.Errorf("mail: park email %d: %w", e.ID, err)
		}
		if _, err := w.outbox.ScrubEmails(ctx, now, e.ID); err != nil {
			return false, fmt.Errorf("mail: scrub expired email %d: %w", e.ID, err)
		}
		return false, nil
	}

	sendErr := w.sender.Send(ctx, e)
	if sendErr == nil {
		if err := w.outbox.MarkEmailSent(ctx, e.ID, w.opts.Now()); err != nil {
			// Delivered but not recorded: it is sent again once its lease ends. A duplicate mail is
			// better than a lost one.
			return false, fmt.Errorf("mail: mark email %d sent: %w", e.ID, err)
		}
		return true, nil
	}
	if ctx.Err() != nil {
		// Shutting down mid-send is not the mail's fault: leave it uncounted, to be taken again
		// when its lease ends.
		return false, ctx.Err()
	}

	reason := safeError(sendErr, e.Body)
	attempt := e.Attempts + 1
	now := w.opts.Now()
	if attempt >= w.opts.MaxAttempts || errors.Is(sendErr, ErrPermanent) {
		w.log.ErrorContext(ctx, "email delivery abandoned",
			append(attrs, "recipient", e.To, "attempt", attempt, "error", reason)...)
		lastError := truncate(fmt.Sprintf("gave up after attempt %d: %s", attempt, reason))
		if err := w.outbox.MarkEmailFailed(ctx, e.ID, now.Add(parkFor), lastError); err != nil {
			return false, fmt.Errorf("mail: park email %d: %w", e.ID, err)
		}
		// Nobody will send it: its link or code must not wait in the database for a reader.
		if _, err := w.outbox.ScrubEmails(ctx, now, e.ID); err != nil {
			return false, fmt.Errorf("mail: scrub abandoned email %d: %w", e.ID, err)
		}
		return false, nil
	}
	next := now.Add(Backoff(attempt))
	w.log.WarnContext(ctx, "email delivery failed, will retry",
		append(attrs, "recipient", e.To, "attempt", attempt, "next_attempt", next, "error", reason)...)
	if err := w.outbox.MarkEmailFailed(ctx, e.ID, next, truncate(reason)); err != nil {
		return false, fmt.Errorf("mail: mark email %d failed: %w", e.ID, err)
	}
	return false, nil
}

// Backoff is the wait after the given failed attempt (1 for the first): BackoffBase doubled
// per attempt, capped at BackoffMax.
func Backoff(attempt int) time.Duration {
	d := BackoffBase
	for i := 1; i < attempt && d < BackoffMax; i++ {
		d *= 2
	}
	return min(d, BackoffMax)
}

// safeError renders a send error for logs and the outbox row. Errors come from go-mail and the
// server's replies, which do not quote the message; should one ever echo it, every line of the
// body (the code and the links are lines of their own) is cut out rather than trusting that.
func safeError(err error, body string) string {
	s := oneLine(err.Error())
	for line := range strings.Lines(body) {
		if l := oneLine(line); len(l) >= minRedacted {
			s = strings.ReplaceAll(s, l, "[redacted]")
		}
	}
	return s
}

func truncate(s string) string {
	if len(s) <= maxLastError {
		return s
	}
	s = s[:maxLastError]
	for !utf8.ValidString(s) {
		s = s[:len(s)-1]
	}
	return s
}

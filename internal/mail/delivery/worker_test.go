package delivery_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"usersorchestrator/internal/mail"
	"usersorchestrator/internal/mail/delivery"
	"usersorchestrator/internal/mail/mailtest"
	"usersorchestrator/internal/registration"
	"usersorchestrator/internal/registration/sqlite"
	"usersorchestrator/internal/testkit/fakeclock"
)

// fakeOutbox keeps the outbox in memory with the store's semantics: due = unsent and
// NextAttemptAt <= now, oldest first; a claim moves NextAttemptAt to now+lease; a failure counts
// an attempt; sending clears the body.
type fakeOutbox struct {
	mu        sync.Mutex
	rows      []*registration.Email
	dueErr    error // returned (once) by the next ClaimDueEmails
	dueCall   atomic.Int32
	lastLease time.Duration
}

func (o *fakeOutbox) add(e registration.Email, created time.Time) int64 {
	o.mu.Lock()
	defer o.mu.Unlock()
	e.ID = int64(len(o.rows) + 1)
	e.CreatedAt = created
	if e.NextAttemptAt.IsZero() {
		e.NextAttemptAt = created
	}
	o.rows = append(o.rows, &e)
	return e.ID
}

func (o *fakeOutbox) get(id int64) registration.Email {
	o.mu.Lock()
	defer o.mu.Unlock()
	return *o.rows[id-1]
}

func (o *fakeOutbox) ClaimDueEmails(_ context.Context, now time.Time, lease time.Duration, limit int) ([]registration.Email, error) {
	o.dueCall.Add(1)
	o.mu.Lock()
	defer o.mu.Unlock()
	o.lastLease = lease
	if err := o.dueErr; err != nil {
		o.dueErr = nil
		return nil, err
	}
	var due []registration.Email
	for _, r := range o.rows {
		if r.SentAt == nil && !r.NextAttemptAt.After(now) && len(due) < limit {
			r.NextAttemptAt = now.Add(lease)
			due = append(due, *r)
		}
	}
	return due, nil
}

func (o *fakeOutbox) MarkEmailSent(_ context.Context, id int64, at time.Time) error {
	o.mu.Lock()
	defer o.mu.Unlock()
	r := o.rows[id-1]
	r.SentAt, r.Body = &at, ""
	return nil
}

func (o *fakeOutbox) MarkEmailFailed(_ context.Context, id int64, next time.Time, lastError string) error {
	o.mu.Lock()
	defer o.mu.Unlock()
	r := o.rows[id-1]
	r.Attempts++
	r.NextAttemptAt, r.LastError = next, lastError
	return nil
}

func (o *fakeOutbox) ScrubEmails(_ context.Context, now time.Time, ids ...int64) (int64, error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	var n int64
	for _, r := range o.rows {
		expired := r.BodyExpiresAt != nil && !r.BodyExpiresAt.After(now)
		if r.SentAt == nil && r.Body != "" && (expired || slices.Contains(ids, r.ID)) {
			r.Body = ""
			n++
		}
	}
	return n, nil
}

func newClock() *fakeclock.Clock { return fakeclock.New(time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)) }

// failingSender fails every send with err and counts the calls.
type failingSender struct {
	err   error
	calls atomic.Int32
}

func (f *failingSender) Send(context.Context, registration.Email) error {
	f.calls.Add(1)
	return f.err
}

// logBuffer captures the worker's log as JSON lines.
type logBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (l *logBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.Write(p)
}

func (l *logBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.String()
}

func newLog() (*slog.Logger, *logBuffer) {
	b := &logBuffer{}
	return slog.New(slog.NewJSONHandler(b, &slog.HandlerOptions{Level: slog.LevelDebug})), b
}

// The secrets of secretMail; none may ever reach a log line.
const (
	secretCode  = "739214"
	secretToken = "tok-5f2a9c0e81b3"
)

func secretMail(to string) registration.Email {
	return mail.VerificationCode(testTenant(), to, secretCode, "https://daily.example/verify?token="+secretToken)
}

func assertNoSecret(t *testing.T, where, s string) {
	t.Helper()
	for _, secret := range []string{secretCode, secretToken, "Your verification code for The Daily Example is"} {
		if strings.Contains(s, secret) {
			t.Errorf("%s holds %q:\n%s", where, secret, s)
		}
	}
}

func TestWorkerDeliversDueMail(t *testing.T) {
	sink := mailtest.NewSink(t)
	box := &fakeOutbox{}
	clk := newClock()
	log, logs := newLog()
	w := delivery.NewWorker(box, newSender(t, smtpConfig(sink, delivery.TLSNone)), log, delivery.WorkerOptions{Now: clk.Now})

	a := box.add(secretMail("a@example.com"), clk.Now().Add(-time.Minute))
	b := box.add(mail.PasswordChanged(testTenant(), "b@example.com"), clk.Now())
	later := mail.Welcome(testTenant(), "c@example.com", "Cy", "")
	later.NextAttemptAt = clk.Now().Add(time.Minute)
	c := box.add(later, clk.Now())

	sent, err := w.DeliverDue(t.Context())
	if err != nil || sent != 2 {
		t.Fatalf("DeliverDue = %d, %v; want 2, nil", sent, err)
	}
	if got := sink.WaitFor(t, "a@example.com", wait); !strings.Contains(got.Body, secretCode) {
		t.Errorf("a's mail lacks its code: %q", got.Body)
	}
	sink.WaitFor(t, "b@example.com", wait)
	for _, id := range []int64{a, b} {
		if r := box.get(id); r.SentAt == nil || !r.SentAt.Equal(clk.Now()) || r.Body != "" || r.Attempts != 0 {
			t.Errorf("row %d = %+v; want sent now, body cleared", id, r)
		}
	}
	if r := box.get(c); r.SentAt != nil || r.Attempts != 0 {
		t.Errorf("mail not yet due was touched: %+v", r)
	}
	if n := len(sink.Messages()); n != 2 {
		t.Errorf("sink holds %d messages, want 2", n)
	}

	clk.Advance(time.Minute)
	if sent, err := w.DeliverDue(t.Context()); err != nil || sent != 1 {
		t.Fatalf("second pass = %d, %v; want 1, nil", sent, err)
	}
	sink.WaitFor(t, "c@example.com", wait)
	if sent, err := w.DeliverDue(t.Context()); err != nil || sent != 0 {
		t.Fatalf("third pass = %d, %v; want nothing left", sent, err)
	}
	assertNoSecret(t, "log", logs.String())
}

func TestWorkerBacksOffThenGivesUp(t *testing.T) {
	box := &fakeOutbox{}
	clk := newClock()
	log, logs := newLog()
	// The error quotes the body, as a broken relay might: it must be cut out anyway.
	e := secretMail("a@example.com")
	sender := &failingSender{err: fmt.Errorf("421 4.3.0 try again later (%s)", e.Body)}
	w := delivery.NewWorker(box, sender, log, delivery.WorkerOptions{Now: clk.Now, MaxAttempts: 4})
	id := box.add(e, clk.Now())

	steps := []struct {
		wait     time.Duration // after the attempt
		attempts int
	}{
		{10 * time.Second, 1},
		{20 * time.Second, 2},
		{40 * time.Second, 3},
	}
	for _, s := range steps {
		start := clk.Now()
		if sent, err := w.DeliverDue(t.Context()); err != nil || sent != 0 {
			t.Fatalf("attempt %d: DeliverDue = %d, %v", s.attempts, sent, err)
		}
		r := box.get(id)
		if r.Attempts != s.attempts || !r.NextAttemptAt.Equal(start.Add(s.wait)) {
			t.Fatalf("after attempt %d: attempts %d, next in %s; want next in %s",
				s.attempts, r.Attempts, r.NextAttemptAt.Sub(start), s.wait)
		}
		if !strings.Contains(r.LastError, "421 4.3.0 try again later") {
			t.Errorf("lastError = %q", r.LastError)
		}
		assertNoSecret(t, "lastError", r.LastError)

		// Not due yet: a pass a moment before must not try again.
		clk.Advance(s.wait - time.Second)
		calls := sender.calls.Load()
		if _, err := w.DeliverDue(t.Context()); err != nil || sender.calls.Load() != calls {
			t.Fatalf("retried before its time (err %v)", err)
		}
		clk.Advance(time.Second)
	}

	// Fourth failure = MaxAttempts: parked, kept, never retried.
	if _, err := w.DeliverDue(t.Context()); err != nil {
		t.Fatal(err)
	}
	r := box.get(id)
	if r.Attempts != 4 || r.SentAt != nil || !strings.HasPrefix(r.LastError, "gave up after attempt 4") {
		t.Fatalf("after giving up: %+v", r)
	}
	if r.Body != "" {
		t.Errorf("an abandoned mail kept its body (and its secret) in the outbox")
	}
	if r.NextAttemptAt.Before(clk.Now().AddDate(50, 0, 0)) {
		t.Errorf("parked only until %s", r.NextAttemptAt)
	}
	calls := sender.calls.Load()
	clk.Advance(365 * 24 * time.Hour)
	if _, err := w.DeliverDue(t.Context()); err != nil || sender.calls.Load() != calls {
		t.Fatalf("a parked mail was retried (err %v)", err)
	}
	out := logs.String()
	if !strings.Contains(out, `"msg":"email delivery abandoned"`) || strings.Count(out, `"msg":"email delivery failed, will retry"`) != 3 {
		t.Errorf("log lacks the retries or the give-up:\n%s", out)
	}
	assertNoSecret(t, "log", out)
	assertNoSecret(t, "lastError", r.LastError)
}

func TestWorkerPermanentFailureGivesUpAtOnce(t *testing.T) {
	box := &fakeOutbox{}
	clk := newClock()
	sender := &failingSender{err: fmt.Errorf("%w: 550 5.1.1 no such user", delivery.ErrPermanent)}
	w := delivery.NewWorker(box, sender, nil, delivery.WorkerOptions{Now: clk.Now})
	id := box.add(mail.PasswordChanged(testTenant(), "gone@example.com"), clk.Now())
	if _, err := w.DeliverDue(t.Context()); err != nil {
		t.Fatal(err)
	}
	r := box.get(id)
	if r.Attempts != 1 || !strings.Contains(r.LastError, "550 5.1.1") || r.NextAttemptAt.Before(clk.Now().AddDate(50, 0, 0)) {
		t.Errorf("permanent failure not parked: %+v", r)
	}
}

// Through the real sender and sink: a 550 for one recipient parks that mail and the others of
// the batch still go out.
func TestWorkerRejectedRecipientDoesNotBlockOthers(t *testing.T) {
	sink := mailtest.NewSink(t, mailtest.WithRejectRecipient("gone@example.com"))
	box := &fakeOutbox{}
	clk := newClock()
	w := delivery.NewWorker(box, newSender(t, smtpConfig(sink, delivery.TLSNone)), nil, delivery.WorkerOptions{Now: clk.Now})
	gone := box.add(mail.PasswordChanged(testTenant(), "gone@example.com"), clk.Now())
	box.add(mail.PasswordChanged(testTenant(), "here@example.com"), clk.Now())
	if sent, err := w.DeliverDue(t.Context()); err != nil || sent != 1 {
		t.Fatalf("DeliverDue = %d, %v", sent, err)
	}
	sink.WaitFor(t, "here@example.com", wait)
	if r := box.get(gone); r.Attempts != 1 || !strings.HasPrefix(r.LastError, "gave up") {
		t.Errorf("rejected mail: %+v", r)
	}
}

func TestBackoff(t *testing.T) {
	tests := []struct {
		attempt int
		want    time.Duration
	}{
		{0, 10 * time.Second},
		{1, 10 * time.Second},
		{2, 20 * time.Second},
		{3, 40 * time.Second},
		{7, 640 * time.Second},
		{9, 2560 * time.Second},
		{10, time.Hour},
		{1000, time.Hour},
	}
	for _, tt := range tests {
		if got := delivery.Backoff(tt.attempt); got != tt.want {
			t.Errorf("Backoff(%d) = %s, want %s", tt.attempt, got, tt.want)
		}
	}
}

func TestWorkerWithoutSMTP(t *testing.T) {
	tests := []struct {
		name   string
		sender delivery.Sender
	}{
		{"nil sender", nil},
		{"typed nil SMTP sender", (*delivery.SMTPSender)(nil)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) { testWithoutSMTP(t, tt.sender) })
	}
}

func testWithoutSMTP(t *testing.T, sender delivery.Sender) {
	box := &fakeOutbox{}
	clk := newClock()
	log, logs := newLog()
	w := delivery.NewWorker(box, sender, log, delivery.WorkerOptions{Now: clk.Now})

	kinds := []registration.Email{
		secretMail("a@example.com"),
		mail.ForgotPassword(testTenant(), "b@example.com", "https://daily.example/reset?encryptedEventId="+secretToken),
		mail.Welcome(testTenant(), "c@example.com", "Cy", "https://daily.example/set-password?ticket="+secretToken),
	}
	var ids []int64
	for _, e := range kinds {
		ids = append(ids, box.add(e, clk.Now()))
	}
	if sent, err := w.DeliverDue(t.Context()); err != nil || sent != 0 {
		t.Fatalf("DeliverDue = %d, %v; want 0, nil", sent, err)
	}

	lines := strings.Split(strings.TrimSpace(logs.String()), "\n")
	if len(lines) != len(kinds) {
		t.Fatalf("%d log lines, want one per mail:\n%s", len(lines), logs.String())
	}
	for i, e := range kinds {
		for _, want := range []string{`"level":"INFO"`, `"recipient":"` + e.To + `"`, `"subject":"` + e.Subject + `"`, `"kind":"` + e.Kind + `"`} {
			if !strings.Contains(lines[i], want) {
				t.Errorf("log line %d lacks %s: %s", i, want, lines[i])
			}
		}
		r := box.get(ids[i])
		if r.SentAt != nil || r.Body == "" || r.LastError != delivery.NoSMTPError || r.NextAttemptAt.Before(clk.Now().AddDate(50, 0, 0)) {
			t.Errorf("row %d not parked with its body: %+v", ids[i], r)
		}
	}
	assertNoSecret(t, "log", logs.String())

	// Logged once: later polls neither pick the mails up again nor log them.
	clk.Advance(48 * time.Hour)
	before := logs.String()
	if _, err := w.DeliverDue(t.Context()); err != nil {
		t.Fatal(err)
	}
	if logs.String() != before {
		t.Errorf("mail logged again:\n%s", strings.TrimPrefix(logs.String(), before))
	}
}

func TestWorkerNotifyWakesRun(t *testing.T) {
	sink := mailtest.NewSink(t)
	box := &fakeOutbox{}
	// An hour between polls: only Notify can explain a prompt delivery.
	w := delivery.NewWorker(box, newSender(t, smtpConfig(sink, delivery.TLSNone)), nil, delivery.WorkerOptions{Interval: time.Hour})
	done := runWorker(t, w)
	waitUntil(t, func() bool { return box.dueCall.Load() >= 1 }) // the first pass, on start

	for _, to := range []string{"first@example.com", "second@example.com"} {
		box.add(mail.PasswordChanged(testTenant(), to), time.Now())
		start := time.Now()
		w.Notify()
		sink.WaitFor(t, to, wait)
		if d := time.Since(start); d > 2*time.Second {
			t.Errorf("delivered %s after Notify", d)
		}
	}
	// Notify never blocks, however often it is called.
	for range 1000 {
		w.Notify()
	}
	done()
}

func TestWorkerRunStopsOnCancel(t *testing.T) {
	box := &fakeOutbox{}
	w := delivery.NewWorker(box, &failingSender{err: errors.New("down")}, nil, delivery.WorkerOptions{Interval: time.Hour})
	done := runWorker(t, w)
	waitUntil(t, func() bool { return box.dueCall.Load() >= 1 })
	done() // fails the test unless Run returns nil promptly
}

// A store outage is logged and the next poll tries again.
func TestWorkerRunSurvivesStoreErrors(t *testing.T) {
	sink := mailtest.NewSink(t)
	box := &fakeOutbox{dueErr: errors.New("database is locked")}
	log, logs := newLog()
	box.add(mail.PasswordChanged(testTenant(), "a@example.com"), time.Now())
	w := delivery.NewWorker(box, newSender(t, smtpConfig(sink, delivery.TLSNone)), log, delivery.WorkerOptions{Interval: 20 * time.Millisecond})
	done := runWorker(t, w)
	sink.WaitFor(t, "a@example.com", wait)
	done()
	if !strings.Contains(logs.String(), "database is locked") {
		t.Errorf("store error not logged:\n%s", logs.String())
	}
}

// A full batch means more is due: Run takes the next batch at once, not a poll later.
func TestWorkerRunDrainsFullBatches(t *testing.T) {
	sink := mailtest.NewSink(t)
	box := &fakeOutbox{}
	var want []string
	for i := range 5 {
		to := fmt.Sprintf("r%d@example.com", i)
		want = append(want, to)
		box.add(mail.PasswordChanged(testTenant(), to), time.Now())
	}
	w := delivery.NewWorker(box, newSender(t, smtpConfig(sink, delivery.TLSNone)), nil, delivery.WorkerOptions{Interval: time.Hour, Batch: 2})
	done := runWorker(t, w)
	for _, to := range want {
		sink.WaitFor(t, to, wait)
	}
	done()
	var got []string
	for _, m := range sink.Messages() {
		got = append(got, m.To...)
	}
	slices.Sort(got)
	if !slices.Equal(got, want) {
		t.Errorf("delivered %v, want %v", got, want)
	}
}

// runWorker starts Run; the returned func cancels it and checks it returned nil promptly.
func runWorker(t *testing.T, w *delivery.Worker) func() {
	t.Helper()
	ctx, cancel := context.WithCancel(t.Context())
	errc := make(chan error, 1)
	go func() { errc <- w.Run(ctx) }()
	var once sync.Once
	stop := func() {
		once.Do(func() {
			cancel()
			select {
			case err := <-errc:
				if err != nil {
					t.Errorf("Run returned %v on shutdown, want nil", err)
				}
			case <-time.After(wait):
				t.Error("Run did not return after cancel")
			}
		})
	}
	t.Cleanup(stop)
	return stop
}

func waitUntil(t *testing.T, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(wait)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatal("condition not met in time")
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// clockSender succeeds after moving the clock forward by took, as a slow relay would.
type clockSender struct {
	clk  *fakeclock.Clock
	took time.Duration
	sent []string
}

func (c *clockSender) Send(_ context.Context, e registration.Email) error {
	c.clk.Advance(c.took)
	c.sent = append(c.sent, e.To)
	return nil
}

// A send started late in the lease could outlive it and meet another worker's claim: past half
// the lease, a pass starts no more sends, and the emails it leaves come back when the lease ends.
func TestWorkerStopsAtHalfLease(t *testing.T) {
	box := &fakeOutbox{}
	clk := newClock()
	sender := &clockSender{clk: clk, took: 20 * time.Second}
	w := delivery.NewWorker(box, sender, nil, delivery.WorkerOptions{Now: clk.Now, Lease: time.Minute})
	claimed := clk.Now()
	var ids []int64
	for i := range 5 {
		ids = append(ids, box.add(mail.PasswordChanged(testTenant(), fmt.Sprintf("r%d@example.com", i)), claimed))
	}

	// Sends start at 0 s and 20 s; at 40 s half the minute is gone.
	if sent, err := w.DeliverDue(t.Context()); err != nil || sent != 2 {
		t.Fatalf("DeliverDue = %d, %v; want 2 sent before half the lease", sent, err)
	}
	for _, id := range ids[2:] {
		if r := box.get(id); r.SentAt != nil || r.Attempts != 0 || !r.NextAttemptAt.Equal(claimed.Add(time.Minute)) {
			t.Fatalf("email %d left by the pass: %+v; want unsent, uncounted, claimed until the lease ends", id, r)
		}
	}
	clk.Advance(claimed.Add(time.Minute - time.Nanosecond).Sub(clk.Now()))
	if sent, err := w.DeliverDue(t.Context()); err != nil || sent != 0 {
		t.Fatalf("within the lease: DeliverDue = %d, %v; want nothing taken", sent, err)
	}
	clk.Advance(time.Nanosecond)
	if sent, err := w.DeliverDue(t.Context()); err != nil || sent != 2 {
		t.Fatalf("at the end of the lease: DeliverDue = %d, %v; want the next 2", sent, err)
	}
	if want := []string{"r0@example.com", "r1@example.com", "r2@example.com", "r3@example.com"}; !slices.Equal(sender.sent, want) {
		t.Fatalf("sent %v, want %v", sender.sent, want)
	}
}

func TestWorkerLease(t *testing.T) {
	tests := []struct {
		name  string
		lease time.Duration
		want  time.Duration
	}{
		{"default", 0, delivery.DefaultLease},
		{"negative takes the default", -time.Second, delivery.DefaultLease},
		{"configured", 7 * time.Minute, 7 * time.Minute},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			box := &fakeOutbox{}
			w := delivery.NewWorker(box, nil, nil, delivery.WorkerOptions{Lease: tt.lease})
			if _, err := w.DeliverDue(t.Context()); err != nil {
				t.Fatal(err)
			}
			if box.lastLease != tt.want {
				t.Fatalf("claimed with lease %v, want %v", box.lastLease, tt.want)
			}
		})
	}
}

// countingSender records every send; safe for concurrent use.
type countingSender struct {
	mu    sync.Mutex
	count map[int64]int
}

func (c *countingSender) Send(_ context.Context, e registration.Email) error {
	time.Sleep(time.Millisecond) // long enough for the other workers to claim meanwhile
	c.mu.Lock()
	defer c.mu.Unlock()
	c.count[e.ID]++
	return nil
}

// Instances behind a load balancer each run a worker on the one outbox: here two stores on one
// SQLite file (two instances), two workers each, all passing at once. Every email must go out
// exactly once.
func TestWorkersOnSharedOutboxSendEachEmailOnce(t *testing.T) {
	path := filepath.Join(t.TempDir(), "uo.db")
	var stores []*sqlite.Store
	for range 2 {
		s, err := sqlite.Open(t.Context(), path)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { s.Close() })
		stores = append(stores, s)
	}
	const emails = 60
	for i := range emails {
		if _, err := stores[0].EnqueueEmail(t.Context(), mail.PasswordChanged(testTenant(), fmt.Sprintf("r%d@example.com", i))); err != nil {
			t.Fatal(err)
		}
	}
	sender := &countingSender{count: map[int64]int{}}
	var wg sync.WaitGroup
	for i := range 4 {
		w := delivery.NewWorker(stores[i%2], sender, nil, delivery.WorkerOptions{Batch: 4})
		wg.Go(func() {
			deadline := time.Now().Add(wait)
			for {
				n, err := stores[0].OutboxBacklog(t.Context())
				if err != nil || n == 0 {
					return
				}
				if time.Now().After(deadline) {
					t.Errorf("%d emails still unsent", n)
					return
				}
				if _, err := w.DeliverDue(t.Context()); err != nil {
					t.Error(err)
					return
				}
			}
		})
	}
	wg.Wait()
	if len(sender.count) != emails {
		t.Fatalf("%d distinct emails sent, want %d", len(sender.count), emails)
	}
	for id, n := range sender.count {
		if n != 1 {
			t.Errorf("email %d sent %d times", id, n)
		}
	}
}

// An unsent email's secret does not outlive it: once the link or code has expired, a pass blanks
// the body (here parked without SMTP); one whose secret still works keeps it (issue 9, finding 10).
func TestWorkerScrubsExpiredBodies(t *testing.T) {
	box := &fakeOutbox{}
	clk := newClock()
	w := delivery.NewWorker(box, nil, nil, delivery.WorkerOptions{Now: clk.Now})
	soon, later := clk.Now().Add(time.Hour), clk.Now().Add(24*time.Hour)
	expiring := secretMail("a@example.com")
	expiring.BodyExpiresAt = &soon
	lasting := secretMail("b@example.com")
	lasting.BodyExpiresAt = &later
	plain := secretMail("c@example.com") // no expiry: it carries no secret of limited life
	ids := []int64{box.add(expiring, clk.Now()), box.add(lasting, clk.Now()), box.add(plain, clk.Now())}
	if _, err := w.DeliverDue(t.Context()); err != nil {
		t.Fatal(err)
	}
	for _, id := range ids {
		if box.get(id).Body == "" {
			t.Fatalf("email %d lost its body before its secret expired", id)
		}
	}
	clk.Advance(time.Hour + delivery.ScrubEvery)
	if _, err := w.DeliverDue(t.Context()); err != nil {
		t.Fatal(err)
	}
	if got := box.get(ids[0]); got.Body != "" || got.Subject == "" {
		t.Errorf("expired email: body %q subject %q; want the body blanked, the row kept", got.Body, got.Subject)
	}
	if box.get(ids[1]).Body == "" || box.get(ids[2]).Body == "" {
		t.Error("an email whose secret still works (or has none) was blanked")
	}
}

// A mail whose link or code expired while it waited for a retry is not sent (a dead link, or an
// empty body once scrubbed): it is parked as expired and its body blanked.
func TestWorkerDoesNotSendExpiredMail(t *testing.T) {
	box := &fakeOutbox{}
	clk := newClock()
	sender := &failingSender{err: errors.New("421 try again later")}
	w := delivery.NewWorker(box, sender, nil, delivery.WorkerOptions{Now: clk.Now})
	expires := clk.Now().Add(5 * time.Second)
	e := secretMail("a@example.com")
	e.BodyExpiresAt = &expires
	id := box.add(e, clk.Now())
	if _, err := w.DeliverDue(t.Context()); err != nil || sender.calls.Load() != 1 {
		t.Fatalf("first attempt: %v, %d sends", err, sender.calls.Load())
	}
	clk.Advance(delivery.Backoff(1))
	if _, err := w.DeliverDue(t.Context()); err != nil {
		t.Fatal(err)
	}
	if n := sender.calls.Load(); n != 1 {
		t.Fatalf("an expired mail was sent again (%d sends)", n)
	}
	r := box.get(id)
	if r.Body != "" || r.LastError != delivery.ExpiredError || r.NextAttemptAt.Before(clk.Now().AddDate(50, 0, 0)) {
		t.Fatalf("expired mail: %+v; want parked as expired, body blanked", r)
	}
}

package storetest

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"usersorchestrator/internal/registration"
)

// pruneAll calls prune with limit until it deletes fewer, checks that no call deleted more than
// limit, and returns the total.
func pruneAll(t *testing.T, what string, limit int, prune func(limit int) (int64, error)) int64 {
	t.Helper()
	var total int64
	for range 1000 {
		n, err := prune(limit)
		mustNoErr(t, what, err)
		if n > int64(limit) {
			t.Fatalf("%s: one call deleted %d rows, beyond its limit of %d", what, n, limit)
		}
		total += n
		if n < int64(limit) {
			return total
		}
	}
	t.Fatalf("%s: still deleting after 1000 batches", what)
	return 0
}

func retentionEvent(crid, code string, at time.Time) registration.Event {
	return registration.Event{Tenant: tenantA, CustomerRegistrationID: crid, TypeCode: code, TypeID: 4000,
		SourceSystem: "Web", Outcome: registration.OutcomeSuccess, OccurredAt: at, RequestID: "req-" + code}
}

// Events are pruned by type and age, in bounded batches: reads before their cutoff go, changes of
// the same age stay, and nothing at or after the cutoff goes.
func testPruneEvents(t *testing.T, s registration.Store) {
	ctx := t.Context()
	cutoff := base
	reads := []string{"SUBSCRIBE_USER_GET", "AUTHSYSTEM_USER_SEARCH"}
	// Types never recorded (here: no event at all yet) have nothing to prune.
	n, err := s.PruneEvents(ctx, reads, cutoff, 10)
	mustNoErr(t, "prune an empty table", err)
	mustEqual(t, "pruned from an empty table", n, int64(0))
	var recorded []registration.Event
	for i := range 5 {
		recorded = append(recorded,
			retentionEvent("u1", reads[i%2], cutoff.Add(-time.Duration(i+1)*time.Hour)),              // old read: goes
			retentionEvent("u1", "SUBSCRIBE_USER_UPDATE", cutoff.Add(-time.Duration(i+1)*time.Hour))) // old change: stays
	}
	recorded = append(recorded,
		retentionEvent("u1", "SUBSCRIBE_USER_GET", cutoff),                       // at the cutoff: stays
		retentionEvent("u1", "SUBSCRIBE_USER_GET", cutoff.Add(time.Microsecond)), // after: stays
		retentionEvent("u2", "SUBSCRIBE_USER_GETBYID", cutoff.Add(-time.Hour)),   // a read of another type: not asked for
		retentionEvent("", "SUBSCRIBE_USER_GET", cutoff.Add(-24*time.Hour)))      // no user: goes too
	mustNoErr(t, "record", s.RecordEvents(ctx, recorded))

	for _, tc := range []struct {
		name  string
		codes []string
		limit int
	}{{"no codes", nil, 10}, {"limit 0", reads, 0}} {
		if _, err := s.PruneEvents(ctx, tc.codes, cutoff, tc.limit); err == nil {
			t.Errorf("prune events with %s: no error", tc.name)
		}
	}
	n = pruneAll(t, "prune reads", 2, func(limit int) (int64, error) { return s.PruneEvents(ctx, reads, cutoff, limit) })
	mustEqual(t, "reads pruned", n, int64(6))

	codesOf := func(crid string) []string {
		es, total, err := s.ListEvents(ctx, tenantA, crid, 0, 0)
		mustNoErr(t, "list", err)
		mustEqual(t, "total of "+crid, total, int64(len(es)))
		var out []string
		for _, e := range es {
			out = append(out, fmt.Sprintf("%s@%+dus", e.TypeCode, e.OccurredAt.Sub(micro(cutoff)).Microseconds()))
		}
		slices.Sort(out)
		return out
	}
	mustEqual(t, "u1 kept", codesOf("u1"), []string{
		"SUBSCRIBE_USER_GET@+0us", "SUBSCRIBE_USER_GET@+1us",
		"SUBSCRIBE_USER_UPDATE@-10800000000us", "SUBSCRIBE_USER_UPDATE@-14400000000us", "SUBSCRIBE_USER_UPDATE@-18000000000us",
		"SUBSCRIBE_USER_UPDATE@-3600000000us", "SUBSCRIBE_USER_UPDATE@-7200000000us",
	})
	mustEqual(t, "u2 kept", codesOf("u2"), []string{"SUBSCRIBE_USER_GETBYID@-3600000000us"})
	mustEqual(t, "no-user events kept", codesOf(""), []string(nil))

	// Pruning again finds nothing; a later cutoff for the changes takes the three oldest.
	n, err = s.PruneEvents(ctx, reads, cutoff, 10)
	mustNoErr(t, "prune again", err)
	mustEqual(t, "pruned again", n, int64(0))
	n = pruneAll(t, "prune changes", 1000, func(limit int) (int64, error) {
		return s.PruneEvents(ctx, []string{"SUBSCRIBE_USER_UPDATE"}, cutoff.Add(-150*time.Minute), limit)
	})
	mustEqual(t, "changes pruned", n, int64(3))
	mustEqual(t, "u1 after the changes", len(codesOf("u1")), 4)
}

// Tokens go once expired before the cutoff, used or not; the registration stays.
func testPruneTokens(t *testing.T, s registration.Store) {
	ctx := t.Context()
	mustCreate(t, s, newRegistration(tenantA, "u1", "ada@example.com"))
	cutoff := base.Add(time.Hour)
	put := func(id string, expires time.Time, used bool) {
		tok := newToken(tenantA, registration.PurposeForgotPassword, id, "u1")
		tok.ExpiresAt = expires
		if used {
			tok.UsedAt = ptr(base)
		}
		mustNoErr(t, "put "+id, s.PutToken(ctx, tok))
	}
	put("expired", cutoff.Add(-time.Minute), false)
	put("used-expired", cutoff.Add(-time.Second), true)
	put("expired-long-ago", cutoff.Add(-30*24*time.Hour), false)
	put("at-cutoff", cutoff, false)
	put("used-live", cutoff.Add(time.Hour), true)
	put("live", cutoff.Add(time.Hour), false)
	if _, err := s.PruneTokens(ctx, cutoff, 0); err == nil {
		t.Error("prune tokens with limit 0: no error")
	}
	n := pruneAll(t, "prune tokens", 2, func(limit int) (int64, error) { return s.PruneTokens(ctx, cutoff, limit) })
	mustEqual(t, "tokens pruned", n, int64(3))
	for _, id := range []string{"expired", "used-expired", "expired-long-ago"} {
		_, err := s.GetToken(ctx, tenantA, registration.PurposeForgotPassword, id)
		mustErrIs(t, id+" is gone", err, registration.ErrNotFound)
	}
	for _, id := range []string{"at-cutoff", "used-live", "live"} {
		_, err := s.GetToken(ctx, tenantA, registration.PurposeForgotPassword, id)
		mustNoErr(t, id+" is kept", err)
	}
	mustGet(t, s, tenantA, "u1")
}

// Sent emails go some time after they were sent; unsent ones only when blanked (given up on, or
// their secret expired) and old; an unsent email that may still be delivered always stays.
func testPruneEmails(t *testing.T, s registration.Store) {
	ctx := t.Context()
	reader, ok := s.(emailReader)
	if !ok {
		t.Fatalf("%T has no Email(ctx, id) method", s)
	}
	cutoff := base.Add(24 * time.Hour)
	enqueue := func(created time.Time) int64 {
		id, err := s.EnqueueEmail(ctx, registration.Email{Tenant: tenantA, Kind: "welcome", From: "f@daily.example",
			To: "ada@example.com", Subject: "Hi", Body: "body", CreatedAt: created, NextAttemptAt: created})
		mustNoErr(t, "enqueue", err)
		return id
	}
	sentOld, sentAtCutoff, sentNew := enqueue(base), enqueue(base), enqueue(base)
	mustNoErr(t, "sent old", s.MarkEmailSent(ctx, sentOld, cutoff.Add(-time.Second)))
	mustNoErr(t, "sent at cutoff", s.MarkEmailSent(ctx, sentAtCutoff, cutoff))
	mustNoErr(t, "sent new", s.MarkEmailSent(ctx, sentNew, cutoff.Add(time.Hour)))
	blankOld, blankNew, pendingOld := enqueue(base), enqueue(cutoff.Add(time.Minute)), enqueue(base)
	_, err := s.ScrubEmails(ctx, base, blankOld, blankNew)
	mustNoErr(t, "scrub", err)

	for name, prune := range map[string]func(context.Context, time.Time, int) (int64, error){
		"sent": s.PruneSentEmails, "abandoned": s.PruneAbandonedEmails,
	} {
		if _, err := prune(ctx, cutoff, 0); err == nil {
			t.Errorf("prune %s emails with limit 0: no error", name)
		}
	}
	n := pruneAll(t, "prune sent", 1, func(limit int) (int64, error) { return s.PruneSentEmails(ctx, cutoff, limit) })
	mustEqual(t, "sent pruned", n, int64(1))
	n = pruneAll(t, "prune abandoned", 1, func(limit int) (int64, error) { return s.PruneAbandonedEmails(ctx, cutoff, limit) })
	mustEqual(t, "abandoned pruned", n, int64(1))
	for _, tc := range []struct {
		name string
		id   int64
		kept bool
	}{
		{"sent before the cutoff", sentOld, false}, {"sent at the cutoff", sentAtCutoff, true}, {"sent after", sentNew, true},
		{"blank and old", blankOld, false}, {"blank and new", blankNew, true}, {"unsent with its body", pendingOld, true},
	} {
		_, err := reader.Email(ctx, tc.id)
		if tc.kept {
			mustNoErr(t, tc.name+" is kept", err)
		} else {
			mustErrIs(t, tc.name+" is gone", err, registration.ErrNotFound)
		}
	}
	backlog, err := s.OutboxBacklog(ctx)
	mustNoErr(t, "backlog", err)
	mustEqual(t, "backlog after pruning", backlog, int64(2))
}

// Instances pruning at once share the work: every old row goes exactly once, none fails, and
// the rows retention keeps stay.
func testInstancesPruneTogether(t *testing.T, stores []registration.Store) {
	ctx := t.Context()
	const old, kept = 600, 50
	var es []registration.Event
	for i := range old {
		es = append(es, retentionEvent(fmt.Sprintf("u%d", i%7), "SUBSCRIBE_USER_GET", base.Add(-time.Duration(i+1)*time.Second)))
	}
	for i := range kept {
		es = append(es, retentionEvent("u0", "SUBSCRIBE_USER_GET", base.Add(time.Duration(i)*time.Second)))
	}
	mustNoErr(t, "record", stores[0].RecordEvents(ctx, es))
	var (
		wg    sync.WaitGroup
		mu    sync.Mutex
		total int64
	)
	for i := range 2 * len(stores) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			s := stores[i%len(stores)]
			for {
				n, err := s.PruneEvents(ctx, []string{"SUBSCRIBE_USER_GET"}, base, 25)
				if err != nil {
					t.Errorf("pruner %d: %v", i, err)
					return
				}
				mu.Lock()
				total += n
				mu.Unlock()
				if n == 0 {
					return
				}
			}
		}()
	}
	wg.Wait()
	mustEqual(t, "deleted in all", total, int64(old))
	_, left, err := stores[1].ListEvents(ctx, tenantA, "u0", 0, 0)
	mustNoErr(t, "list", err)
	mustEqual(t, "u0's events left", left, int64(kept))
}

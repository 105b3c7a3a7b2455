package orchestrator

import (
	"context"
	"errors"
	"log/slog"
	"time"

	"usersorchestrator/internal/events"
	"usersorchestrator/internal/provider"
	"usersorchestrator/internal/registration"
)

// observe records one event: the call ev made, for which user, how long it took and how it ended.
// Events are written even when the request's context is canceled; a failure to write one is
// logged and does not fail the call (the user's change matters more than its audit row).
func (o *Orchestrator) observe(ctx context.Context, c Call, ev events.Type, crid string, start time.Time, err error) {
	o.Events.Record(ctx, o.event(c, ev, crid, start, err))
}

// inTx runs fn in one transaction of the store. The events queued before it are written first,
// so that event ids follow the order of the calls even though the events fn writes get theirs
// at its commit, ahead of the queue.
func (o *Orchestrator) inTx(ctx context.Context, fn func(tx Store) error) error {
	if err := o.Events.Flush(ctx); err != nil {
		return err
	}
	return o.Store.InTx(ctx, func(tx registration.Store) error { return fn(tx) })
}

// inlineEvents writes each event as it comes (the recorder when none is given).
type inlineEvents struct {
	store Store
	log   *slog.Logger
}

func (r inlineEvents) Record(ctx context.Context, e registration.Event) {
	if _, err := r.store.RecordEvent(context.WithoutCancel(ctx), e); err != nil {
		r.log.ErrorContext(ctx, "recording an event failed", "event", e.TypeCode, "request_id", e.RequestID, "error", err)
	}
}

func (inlineEvents) Flush(context.Context) error { return nil }

// event builds the row observe writes; workflows that must write it inside a transaction use it
// directly.
func (o *Orchestrator) event(c Call, ev events.Type, crid string, start time.Time, err error) registration.Event {
	return o.eventTook(c, ev, crid, start, o.Now().Sub(start), err)
}

// eventTook is event for a call whose duration was measured apart.
func (o *Orchestrator) eventTook(c Call, ev events.Type, crid string, start time.Time, took time.Duration, err error) registration.Event {
	e := registration.Event{
		Tenant:                 c.Tenant.Key,
		CustomerRegistrationID: crid,
		TypeCode:               ev.Code,
		TypeID:                 ev.ID,
		SourceSystem:           c.SourceSystem,
		Outcome:                registration.OutcomeSuccess,
		DurationMs:             took.Milliseconds(),
		OccurredAt:             start,
		RequestID:              c.RequestID,
	}
	if err != nil {
		e.Outcome = registration.OutcomeFailure
		e.Detail = detail(err)
	}
	return e
}

// detail says why a step failed without quoting anything a user sent.
func detail(err error) string {
	var pe *provider.Error
	if errors.As(err, &pe) {
		return pe.Error()
	}
	if isOutcome(err) {
		return err.Error()
	}
	var we *WorkflowError
	if errors.As(err, &we) {
		return string(we.Workflow) + " workflow failed"
	}
	return "internal error"
}

// step is one call to the provider or the store as its event records it.
type step struct {
	ev events.Type
	// crid is the user the event is about; "" names the user the call answered with, if any.
	crid string
	// notFoundIsAnswer records "no such user" as a success: the callee did its job, and the
	// workflow decides what the absence means.
	notFoundIsAnswer bool
}

// timed runs call, timing it, and records s's event with the call's outcome.
func timed[T any](ctx context.Context, o *Orchestrator, c Call, s step, call func() (T, error)) (T, error) {
	start := o.Now()
	v, err := call()
	crid := s.crid
	if crid == "" && err == nil {
		crid = answeredID(v)
	}
	recorded := err
	if s.notFoundIsAnswer && isNotFound(err) {
		recorded = nil
	}
	o.observe(ctx, c, s.ev, crid, start, recorded)
	return v, err
}

// timedErr is timed for a call that answers nothing but its error.
func timedErr(ctx context.Context, o *Orchestrator, c Call, s step, call func() error) error {
	_, err := timed(ctx, o, c, s, func() (struct{}, error) { return struct{}{}, call() })
	return err
}

// answeredID is the id of the user a call answered with.
func answeredID(v any) string {
	switch v := v.(type) {
	case provider.User:
		return v.ID
	case provider.Session:
		return v.UserID
	case registration.Registration:
		return v.CustomerRegistrationID
	}
	return ""
}

func isNotFound(err error) bool {
	return errors.Is(err, provider.ErrNotFound) || errors.Is(err, registration.ErrNotFound)
}

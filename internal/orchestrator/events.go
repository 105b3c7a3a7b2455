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
func (o *Orchestrator) inTx(ctx context.Context, fn func(tx registration.Store) error) error {
	if err := o.Events.Flush(ctx); err != nil {
		return err
	}
	return o.Store.InTx(ctx, fn)
}

// inlineEvents writes each event as it comes (the recorder when none is given).
type inlineEvents struct {
	store registration.Store
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
	e := registration.Event{
		Tenant:                 c.Tenant.Key,
		CustomerRegistrationID: crid,
		TypeCode:               ev.Code,
		TypeID:                 ev.ID,
		SourceSystem:           c.SourceSystem,
		Outcome:                registration.OutcomeSuccess,
		DurationMs:             o.Now().Sub(start).Milliseconds(),
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

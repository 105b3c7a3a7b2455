package orchestrator

import (
	"context"
	"errors"
	"time"

	"usersorchestrator/internal/registration"
)

// Event is a recorded event as the Events endpoint lists it.
type Event struct {
	ID           int64
	TypeCode     string
	TypeID       int
	SourceSystem string
	Outcome      string
	DurationMs   int64
	OccurredAt   time.Time
}

// EventPage is one page of a user's events, newest first.
type EventPage struct {
	Events     []Event
	PageSize   int
	PageNumber int
	TotalCount int64
}

// UserEvents is GET /v4/Users/{customerRegistrationId}/Events. Reading events records none.
func (o *Orchestrator) UserEvents(ctx context.Context, c Call, crid string, pageSize, pageNumber int) (EventPage, error) {
	pageSize, pageNumber = max(pageSize, 1), max(pageNumber, 1)
	if _, err := o.Store.Get(ctx, c.Tenant.Key, crid); err != nil {
		if errors.Is(err, registration.ErrNotFound) {
			return EventPage{}, ErrUserNotFound
		}
		return EventPage{}, err
	}
	// The events of the caller's earlier calls may still be queued: list them too.
	if err := o.Events.Flush(ctx); err != nil {
		return EventPage{}, err
	}
	evs, total, err := o.Store.ListEvents(ctx, c.Tenant.Key, crid, pageSize, (pageNumber-1)*pageSize)
	if err != nil {
		return EventPage{}, err
	}
	page := EventPage{Events: make([]Event, 0, len(evs)), PageSize: pageSize, PageNumber: pageNumber, TotalCount: total}
	for _, e := range evs {
		page.Events = append(page.Events, Event{ID: e.ID, TypeCode: e.TypeCode, TypeID: e.TypeID,
			SourceSystem: e.SourceSystem, Outcome: e.Outcome, DurationMs: e.DurationMs, OccurredAt: e.OccurredAt})
	}
	return page, nil
}

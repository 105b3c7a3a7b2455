package apitest_test

import (
	"context"
	"net/http"
	"sync/atomic"
	"testing"

	"usersorchestrator/gen/client"
	"usersorchestrator/internal/apitest"
	"usersorchestrator/internal/registration"
	"usersorchestrator/internal/tenant"
)

// racingStore hides an existing email from the next lookup once armed: the create's pre-check
// then passes, as when a concurrent create commits between the check and the write.
type racingStore struct {
	registration.Store
	armed *atomic.Bool
}

func (s racingStore) GetByEmail(ctx context.Context, t tenant.Key, email string) (registration.Registration, error) {
	if s.armed.CompareAndSwap(true, false) {
		return registration.Registration{}, registration.ErrNotFound
	}
	return s.Store.GetByEmail(ctx, t, email)
}

// A create that loses the race for an email is recorded as what it answered (E400_08), against
// no registration: the id it made up never existed (issue 9, finding 10).
func TestLostCreateRaceIsAuditedAsItsAnswer(t *testing.T) {
	armed := &atomic.Bool{}
	env := apitest.Start(t, apitest.WithStore(func(s registration.Store) registration.Store { return racingStore{Store: s, armed: armed} }))
	winner := env.CreateUser(client.CreateUserRequest{Email: "jane@example.com", Password: apitest.Ptr("correct-horse")})

	armed.Store(true)
	status, got, _ := env.Do(http.MethodPost, "/v4/Users", `{"email":"jane@example.com","password":"correct-horse"}`)
	if status != 400 || got.Message.Code != "UsersOrchestrator_E400_08" {
		t.Fatalf("the losing create: %d %s, want E400_08", status, got.Raw)
	}
	if err := env.App.FlushEvents(t.Context()); err != nil {
		t.Fatal(err)
	}
	orphans, _, err := env.App.Store().ListEvents(t.Context(), env.Tenant, "", 50, 0)
	if err != nil {
		t.Fatal(err)
	}
	var lost []registration.Event
	for _, e := range orphans {
		if e.TypeCode == "SUBSCRIBE_USER_CREATE" {
			lost = append(lost, e)
		}
	}
	if len(lost) != 1 || lost[0].Outcome != registration.OutcomeFailure || lost[0].Detail != "the email is already in use" {
		t.Fatalf("the lost create's events without a registration: %+v, want one failure saying the email is in use", lost)
	}
	for _, e := range env.Events(winner.CustomerRegistrationId) {
		if e.Outcome == "Failure" {
			t.Errorf("the winner's trail holds the loser's failure: %+v", e)
		}
	}
}

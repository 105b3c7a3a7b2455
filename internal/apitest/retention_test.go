package apitest_test

import (
	"slices"
	"testing"
	"time"

	"usersorchestrator/gen/client"
	"usersorchestrator/internal/apitest"
	"usersorchestrator/internal/retention"
)

// What the Events endpoint answers follows the retention the README documents: a read's event
// is gone after 90 days, a change's stays 400 days; nothing younger is touched.
func TestEventsReachBackAsFarAsRetentionKeeps(t *testing.T) {
	env := apitest.Start(t)
	ref := env.CreateUser(client.CreateUserRequest{Email: "ada@example.com", Password: apitest.Ptr("correct-horse")})
	crid := ref.CustomerRegistrationId
	env.GetUser(crid)
	const day = 24 * time.Hour
	prune := func() retention.Report {
		t.Helper()
		if err := env.App.FlushEvents(t.Context()); err != nil {
			t.Fatal(err)
		}
		report, err := env.App.Pruner().RunOnce(t.Context())
		if err != nil {
			t.Fatal(err)
		}
		return report
	}
	create, get := "SUBSCRIBE_USER_CREATE 4002 Success", "SUBSCRIBE_USER_GETBYID 4001 Success"
	if got := env.EventCodes(crid); !slices.Contains(got, create) || !slices.Contains(got, get) {
		t.Fatalf("events before any pruning: %v", got)
	}

	env.Clock.Advance(90*day + time.Hour)
	env.GetUser(crid) // a read of today, kept
	prune()
	if got, want := env.EventCodes(crid), []string{create, get}; !slices.Equal(got, want) {
		t.Errorf("after 90 days: %v, want the create and only today's read %v", got, want)
	}

	env.Clock.Advance(310 * day)
	if report := prune(); report[retention.ChangeEvents] != 1 || report[retention.ReadEvents] != 1 {
		t.Errorf("after 400 days the run deleted %v, want the create and the read of 310 days ago", report)
	}
	if got := env.EventCodes(crid); len(got) != 0 {
		t.Errorf("after 400 days: %v, want none", got)
	}
	// The registration itself is never pruned.
	if u := env.GetUser(crid); u.Email != "ada@example.com" {
		t.Errorf("user %+v", u)
	}
}

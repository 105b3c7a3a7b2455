package app_test

import (
	"net/http"
	"testing"
	"time"

	"usersorchestrator/gen/client"
	"usersorchestrator/internal/apitest"
	"usersorchestrator/internal/config"
	"usersorchestrator/internal/registration"
	"usersorchestrator/internal/registration/postgres/pgtest"
)

// twoInstances starts two services on one PostgreSQL schema, as a load balancer would have them.
func twoInstances(t *testing.T) [2]*apitest.Env {
	db := apitest.WithDatabase(config.Database{Driver: "postgres", DSN: pgtest.FreshSchema(t)})
	return [2]*apitest.Env{apitest.Start(t, db), apitest.Start(t, db)}
}

// The login limit holds across instances: failures spread over both count together, and both
// refuse once the limit is reached. With a limiter per process each would allow the full count.
func TestInstancesShareTheLoginLimit(t *testing.T) {
	envs := twoInstances(t)
	envs[0].CreateUser(client.CreateUserRequest{Email: "jane@example.com", Password: apitest.Ptr("correct-horse")})
	attempts := envs[0].Config.Limits.Login.Attempts
	for i := range attempts {
		env := envs[i%2]
		if _, got, _ := env.Do(http.MethodPost, "/v4/Users/Authentication", `{"loginName":"jane@example.com","password":"wrong-horse"}`); got.Message.Code != "UsersOrchestrator_E400_10" {
			t.Fatalf("failure %d on instance %d: %s", i+1, i%2, got.Raw)
		}
	}
	for i, env := range envs {
		status, got, _ := env.Do(http.MethodPost, "/v4/Users/Authentication", `{"loginName":"jane@example.com","password":"correct-horse"}`)
		if status != http.StatusTooManyRequests {
			t.Errorf("instance %d after %d failures spread over both: %d %s, want 429", i, attempts, status, got.Raw)
		}
	}
}

// Both instances' workers deliver the one outbox: every email goes out once, through one of them.
func TestInstancesDeliverEachEmailOnce(t *testing.T) {
	envs := twoInstances(t)
	const emails = 30
	store := envs[0].App.Store()
	for range emails {
		if _, err := store.EnqueueEmail(t.Context(), registration.Email{Tenant: envs[0].Tenant, Kind: "test",
			From: "noreply@example.com", To: "jane@example.com", Subject: "hello", Body: "hello"}); err != nil {
			t.Fatal(err)
		}
	}
	for _, env := range envs {
		env.App.Worker().Notify()
	}
	deadline := time.Now().Add(20 * time.Second)
	for {
		n, err := store.OutboxBacklog(t.Context())
		if err != nil {
			t.Fatal(err)
		}
		if n == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d emails still unsent", n)
		}
		time.Sleep(20 * time.Millisecond)
	}
	// A worker marks an email sent after the relay accepted it: with the backlog empty, every
	// message is in one of the sinks.
	got := len(envs[0].Mail.Messages()) + len(envs[1].Mail.Messages())
	if got != emails {
		t.Fatalf("%d messages received by the two instances' relays, want %d", got, emails)
	}
}

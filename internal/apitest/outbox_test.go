package apitest_test

import (
	"database/sql"
	"net/http"
	"testing"
	"time"

	_ "modernc.org/sqlite"

	"usersorchestrator/gen/client"
	"usersorchestrator/internal/apitest"
	"usersorchestrator/internal/mail"
	"usersorchestrator/internal/mail/delivery"
)

// A copy of the database holds no live link: an email parked in the outbox (no SMTP server) keeps
// its body while its reset link works, and is blanked by the worker once the link has expired
// (issue 9, finding 10).
func TestParkedEmailsLoseTheirSecretWhenItExpires(t *testing.T) {
	env := apitest.Start(t, apitest.WithoutSMTP())
	env.CreateUser(client.CreateUserRequest{Email: "jane@example.com", Password: apitest.Ptr("correct-horse")})
	if status, got, _ := env.Do(http.MethodPost, "/v4/Users/ForgotPassword", `{"loginName":"jane@example.com"}`); status != 200 {
		t.Fatalf("forgot password: %d %s", status, got.Raw)
	}
	db, err := sql.Open("sqlite", env.Config.Database.Path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	row := func() (body string, expires sql.NullString) {
		t.Helper()
		if _, err := env.App.Worker().DeliverDue(t.Context()); err != nil {
			t.Fatal(err)
		}
		if err := db.QueryRowContext(t.Context(), `SELECT body, body_expires_at FROM outbox WHERE kind = ? ORDER BY id DESC LIMIT 1`, mail.KindForgotPassword).Scan(&body, &expires); err != nil {
			t.Fatal(err)
		}
		return body, expires
	}
	body, expires := row()
	if body == "" || !expires.Valid {
		t.Fatalf("a parked reset email before its link expired: body %q, expires %v; want the body and its expiry", body, expires)
	}
	env.Clock.Advance(time.Hour + delivery.ScrubEvery)
	if body, _ := row(); body != "" {
		t.Fatalf("the expired link is still in the outbox: %q", body)
	}
}

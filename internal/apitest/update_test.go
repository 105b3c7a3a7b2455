package apitest_test

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"usersorchestrator/gen/client"
	"usersorchestrator/internal/apitest"
	"usersorchestrator/internal/mail/mailtest"
)

func TestUpdateUser(t *testing.T) {
	env := apitest.Start(t)
	ref := env.CreateUser(client.CreateUserRequest{
		Email: "jane@example.com", Password: apitest.Ptr("correct-horse"), FirstName: apitest.Ptr("Jane"), LastName: apitest.Ptr("Doe"),
		Metadata: &client.Metadata{"phoneNumber": "5551234567", "photo": "me.png", "ebill_flag": "true"},
	})
	id := ref.CustomerRegistrationId

	// Only the fields present change; metadata merges key by key and null removes a key.
	status, got, _ := env.Do(http.MethodPut, "/v4/Users/"+id+"/", `{"firstName":"Janet","metadata":{"city":"Springfield","photo":null,"ebill_flag":"false"}}`,
		apitest.Header("X-SourceSystem", "CSR"))
	if status != 200 || got.Message.Code != "UsersOrchestrator_S200_07" || got.Message.Text != "Update completed." {
		t.Fatalf("update: %d %s", status, got.Raw)
	}
	u := env.GetUser(id)
	if u.FirstName.MustGet() != "Janet" || u.LastName.MustGet() != "Doe" {
		t.Errorf("names %v %v", u.FirstName, u.LastName)
	}
	want := map[string]string{"phoneNumber": "5551234567", "ebill_flag": "false", "city": "Springfield"}
	if len(u.Metadata) != len(want) || u.Metadata["city"] != "Springfield" || u.Metadata["ebill_flag"] != "false" || u.Metadata["phoneNumber"] != "5551234567" {
		t.Errorf("metadata %v, want %v", u.Metadata, want)
	}
	if u.ChangeSource.MustGet() != "CSR" || u.AddSource.MustGet() != "apitest" || !u.ChangeDate.After(u.AddDate) && !u.ChangeDate.Equal(u.AddDate) {
		t.Errorf("sources/dates %+v", u)
	}

	// Logout date set, then removed.
	at := time.Date(2026, 11, 23, 8, 30, 0, 0, time.UTC)
	resp, err := env.Client.UpdateUserWithResponse(context.Background(), id, &client.UpdateUserParams{}, client.UpdateUserRequest{LastLogoutDate: &at})
	if err != nil || resp.JSON200 == nil || !resp.JSON200.Data.LastLogoutDate.MustGet().Equal(at) {
		t.Fatalf("logout date: %v %s", err, resp.Body)
	}
	resp, err = env.Client.UpdateUserWithResponse(context.Background(), id, &client.UpdateUserParams{}, client.UpdateUserRequest{RemoveLastLogoutDate: apitest.Ptr(true)})
	if err != nil || resp.JSON200 == nil || !resp.JSON200.Data.LastLogoutDate.IsNull() {
		t.Fatalf("remove logout date: %v %s", err, resp.Body)
	}

	// verified=false makes a user without a provider Unverified.
	resp, _ = env.Client.UpdateUserWithResponse(context.Background(), id, &client.UpdateUserParams{}, client.UpdateUserRequest{Verified: apitest.Ptr(false)})
	if resp.JSON200 == nil || resp.JSON200.Data.State != client.Unverified || resp.JSON200.Data.Verified {
		t.Errorf("unverify: %s", resp.Body)
	}

	if got := env.EventCodes(id); !contains(got, "SUBSCRIBE_USER_UPDATE 4004 Success") || !contains(got, "SUBSCRIBE_USER_GETBYID 4001 Success") {
		t.Errorf("events %v", got)
	}
	status, got, _ = env.Do(http.MethodPut, "/v4/Users/nobody", `{"firstName":"X"}`)
	if status != 404 || got.Message.Code != "UsersOrchestrator_E404_01" {
		t.Errorf("update of a missing user: %d %s", status, got.Raw)
	}
	status, got, _ = env.Do(http.MethodPut, "/v4/Users/"+id, `{"metadata":{"bad key":"x"}}`)
	if status != 400 || got.Message.Code != "UsersOrchestrator_E400_09" {
		t.Errorf("bad metadata key: %d %s", status, got.Raw)
	}
}

func TestUpdatePassword(t *testing.T) {
	env := apitest.Start(t)
	ref := env.CreateUser(client.CreateUserRequest{Email: "jane@example.com", Password: apitest.Ptr("correct-horse")})
	id := ref.CustomerRegistrationId

	status, got, _ := env.Do(http.MethodPatch, "/v4/Users/"+id+"/Password", `{"password":"n3w-and-l0nger"}`)
	if status != 200 || got.Message.Code != "UsersOrchestrator_S200_11" || got.Message.Text != "Update password completed." || got.Data != nil {
		t.Fatalf("update password: %d %s", status, got.Raw)
	}
	if status, got, _ := env.Do(http.MethodPost, "/v4/Users/Authentication", `{"loginName":"jane@example.com","password":"correct-horse"}`); got.Message.Code != "UsersOrchestrator_E400_10" {
		t.Errorf("the old password still works: %d %s", status, got.Raw)
	}
	authenticate(t, env, "jane@example.com", "n3w-and-l0nger")
	env.MailWithSubject("jane@example.com", "password")
	codes := env.EventCodes(id)
	if !contains(codes, "SUBSCRIBE_USER_CHANGEPASSWORD 4010 Success") {
		t.Errorf("events %v", codes)
	}
	for _, tt := range []struct{ body, code string }{
		{`{"password":"short"}`, "UsersOrchestrator_E400"}, // the tenant's password policy
		{`{}`, "UsersOrchestrator_E400_00"},
		{`{"password":"long-enough-1","old":"x"}`, "UsersOrchestrator_E400_00"},
	} {
		if _, got, _ := env.Do(http.MethodPatch, "/v4/Users/"+id+"/Password", tt.body); got.Message.Code != tt.code {
			t.Errorf("%s: %s", tt.body, got.Raw)
		}
	}
	if status, got, _ := env.Do(http.MethodPatch, "/v4/Users/nobody/Password", `{"password":"long-enough-1"}`); status != 404 {
		t.Errorf("missing user: %d %s", status, got.Raw)
	}
}

func TestUpdateEmail(t *testing.T) {
	env := apitest.Start(t)
	jane := env.CreateUser(client.CreateUserRequest{Email: "jane@example.com", Password: apitest.Ptr("correct-horse")})
	env.CreateUser(client.CreateUserRequest{Email: "john@example.com", Password: apitest.Ptr("correct-horse")})
	id := jane.CustomerRegistrationId

	status, got, _ := env.Do(http.MethodPatch, "/v4/Users/"+id+"/Email", `{"email":"John@Example.com"}`)
	if status != 400 || got.Message.Code != "UsersOrchestrator_E400_08" || got.Message.Text != "The email is already in use by another user." {
		t.Fatalf("taken email: %d %s", status, got.Raw)
	}
	status, got, _ = env.Do(http.MethodPatch, "/v4/Users/"+id+"/Email", `{"email":"jane@example.org"}`)
	if status != 200 || got.Message.Code != "UsersOrchestrator_S200_12" || got.Message.Text != "Update Email completed." {
		t.Fatalf("update email: %d %s", status, got.Raw)
	}
	if u := env.GetUser(id); u.Email != "jane@example.org" {
		t.Errorf("email %q", u.Email)
	}
	authenticate(t, env, "jane@example.org", "correct-horse")
	if _, got, _ := env.Do(http.MethodPost, "/v4/Users/Authentication", `{"loginName":"jane@example.com","password":"correct-horse"}`); got.Message.Code != "UsersOrchestrator_E400_10" {
		t.Errorf("the old login name still works: %s", got.Raw)
	}
	env.MailWhere("jane@example.com", func(m mailtest.Message) bool { return strings.Contains(m.Body, "jane@example.org") })
	if codes := env.EventCodes(id); !contains(codes, "SUBSCRIBE_USER_CHANGEEMAIL 4011 Success") {
		t.Errorf("events %v", codes)
	}
	// The freed address can be registered again.
	env.CreateUser(client.CreateUserRequest{Email: "jane@example.com"})
}

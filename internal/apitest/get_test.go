package apitest_test

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"usersorchestrator/gen/client"
	"usersorchestrator/internal/apitest"
	"usersorchestrator/internal/config"
)

func TestGetUserByID(t *testing.T) {
	demo := config.Default().Tenants[0]
	other := demo
	other.ClientCode = "other"
	env := apitest.Start(t, apitest.WithTenants(demo, other))
	ref := env.CreateUser(client.CreateUserRequest{Email: "jane@example.com", Password: apitest.Ptr("correct-horse")})

	for _, path := range []string{"/v4/Users/" + ref.CustomerRegistrationId, "/v4/Users/" + ref.CustomerRegistrationId + "/"} {
		status, got, _ := env.Do(http.MethodGet, path, "")
		if status != 200 || got.Message.Code != "UsersOrchestrator_S200_01" || got.Message.Text != "Get completed." {
			t.Errorf("GET %s: %d %s", path, status, got.Raw)
		}
	}
	status, got, _ := env.Do(http.MethodGet, "/v4/Users/no-such-user", "")
	if status != 404 || got.Message.Code != "UsersOrchestrator_E404_01" || got.Message.Text != "The user was not found." {
		t.Errorf("missing user: %d %s", status, got.Raw)
	}
	if got.Meta["requestId"] == "" {
		t.Errorf("an error must carry meta.requestId: %s", got.Raw)
	}
	// Another tenant does not see the user, and its token may not act for this tenant.
	status, got, _ = env.Do(http.MethodGet, "/v4/Users/"+ref.CustomerRegistrationId, "", apitest.Header("X-ClientCode", "other"))
	if status != 404 || got.Message.Code != "UsersOrchestrator_E404_01" {
		t.Errorf("other tenant: %d %s", status, got.Raw)
	}
}

// userIDs decodes data.users into their ids.
func userIDs(t *testing.T, raw json.RawMessage) []string {
	t.Helper()
	var data struct {
		Users []struct {
			ID string `json:"customerRegistrationId"`
		} `json:"users"`
	}
	if err := json.Unmarshal(raw, &data); err != nil {
		t.Fatalf("data %s: %v", raw, err)
	}
	ids := make([]string, 0, len(data.Users))
	for _, u := range data.Users {
		ids = append(ids, u.ID)
	}
	return ids
}

func TestGetUsersSelectors(t *testing.T) {
	env := apitest.Start(t)
	jane := env.CreateUser(client.CreateUserRequest{Email: "Jane.Doe@example.com", Password: apitest.Ptr("correct-horse"), CustomerRegistrationId: apitest.Ptr("jane-1")})
	env.CreateUser(client.CreateUserRequest{Email: "john@example.com", Password: apitest.Ptr("correct-horse")})
	encEmail := env.SealEmail("jane.doe@example.com")
	auth := authenticate(t, env, "jane.doe@example.com", "correct-horse")
	session := auth.CookieTokens[0].Content

	tests := []struct {
		name   string
		query  string
		status int
		code   string
		ids    []string
	}{
		{"email, any case", "email=JANE.DOE@example.com", 200, "UsersOrchestrator_S200_01", []string{"jane-1"}},
		{"email, unknown: empty list", "email=nobody@example.com", 200, "UsersOrchestrator_S200_01", []string{}},
		{"encrypted email", "encryptedEmail=" + encEmail, 200, "UsersOrchestrator_S200_01", []string{"jane-1"}},
		{"encrypted id", "encryptedCustomerRegistrationId=" + jane.EncryptedCustomerRegistrationId, 200, "UsersOrchestrator_S200_01", []string{"jane-1"}},
		{"session token", "token=" + session, 200, "UsersOrchestrator_S200_01", []string{"jane-1"}},
		{"encrypted id malformed", "encryptedCustomerRegistrationId=***", 400, "UsersOrchestrator_E400_02", nil},
		{"encrypted id forged", "encryptedCustomerRegistrationId=" + tamper(jane.EncryptedCustomerRegistrationId), 400, "UsersOrchestrator_E400_02", nil},
		{"encrypted email used as an id", "encryptedCustomerRegistrationId=" + encEmail, 400, "UsersOrchestrator_E400_02", nil},
		{"token invalid", "token=not-a-token", 400, "UsersOrchestrator_E400_13", nil},
		{"malformed query string: refused, not a listing of everyone", "email=nobody%ZZ@example.com", 400, "UsersOrchestrator_E400_00", nil},
		{"two selectors", "token=" + session + "&encryptedEmail=" + encEmail, 400, "UsersOrchestrator_E400_00", nil},
		{"selector with a filter", "token=" + session + "&lastName=Doe", 400, "UsersOrchestrator_E400_00", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			status, got, _ := env.Do(http.MethodGet, "/v4/Users?"+tt.query, "")
			if status != tt.status || got.Message.Code != tt.code {
				t.Fatalf("got %d %s, want %d %s", status, got.Raw, tt.status, tt.code)
			}
			if tt.ids != nil {
				if ids := userIDs(t, got.Data); strings.Join(ids, ",") != strings.Join(tt.ids, ",") {
					t.Errorf("users %v, want %v", ids, tt.ids)
				}
			}
		})
	}
	// The encrypted GETs record the published events.
	codes := env.EventCodes("jane-1")
	if !contains(codes, "SUBSCRIBE_USER_GET 4000 Success") {
		t.Errorf("events %v lack SUBSCRIBE_USER_GET", codes)
	}
}

func TestGetUsersSearch(t *testing.T) {
	env := apitest.Start(t)
	for _, u := range []struct{ id, email, first, last, password string }{
		{"u1", "ann@example.com", "Ann", "Archer", "correct-horse"},
		{"u2", "bob@example.com", "Bob", "Baker", "correct-horse"},
		{"u3", "bea@example.com", "Bea", "Baxter", ""},
		{"u4", "cid@example.com", "Cid", "Carter", "correct-horse"},
	} {
		body := client.CreateUserRequest{Email: client.Email(u.email), CustomerRegistrationId: apitest.Ptr(u.id), FirstName: apitest.Ptr(u.first), LastName: apitest.Ptr(u.last)}
		if u.password != "" {
			body.Password = apitest.Ptr(u.password)
		}
		env.CreateUser(body)
	}
	env.CreateUser(client.CreateUserRequest{Email: "dee@example.com", CustomerRegistrationId: apitest.Ptr("u5"), VerifyEmail: apitest.Ptr(true)})

	tests := []struct {
		name  string
		query string
		ids   []string
		total float64
	}{
		{"everyone, by id", "", []string{"u1", "u2", "u3", "u4", "u5"}, 5},
		{"first name prefix, any case", "firstName=b", []string{"u2", "u3"}, 2},
		{"last name prefix", "lastName=Ba", []string{"u2", "u3"}, 2},
		{"email with a filter is exact", "email=BOB@example.com&lastName=B", []string{"u2"}, 1},
		{"verified", "verified=false", []string{"u5"}, 1},
		{"state Lite", "state=Lite", []string{"u3"}, 1},
		{"state Unverified", "state=Unverified", []string{"u5"}, 1},
		{"state Standard", "state=Standard", []string{"u1", "u2", "u4"}, 3},
		{"order by last name desc", "orderBy=lastName&orderByType=desc&verified=true", []string{"u4", "u3", "u2", "u1"}, 4},
		{"page 2, by email", "pageSize=2&pageNumber=2&orderBy=email", []string{"u2", "u4"}, 5},
		{"page past the end", "pageSize=2&pageNumber=9", []string{}, 5},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			status, got, _ := env.Do(http.MethodGet, "/v4/Users?"+tt.query, "")
			if status != 200 {
				t.Fatalf("%d %s", status, got.Raw)
			}
			if ids := userIDs(t, got.Data); strings.Join(ids, ",") != strings.Join(tt.ids, ",") {
				t.Errorf("users %v, want %v", ids, tt.ids)
			}
			if got.Meta["totalCount"] != tt.total {
				t.Errorf("meta %v, want totalCount %v", got.Meta, tt.total)
			}
		})
	}
}

// tamper flips one character in the middle of a sealed value.
func tamper(s string) string {
	b := []byte(s)
	i := len(b) / 2
	if b[i] == 'A' {
		b[i] = 'B'
	} else {
		b[i] = 'A'
	}
	return string(b)
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// authenticate logs in and fails the test unless it answers Subscribe_S200_01.
func authenticate(t *testing.T, env *apitest.Env, login, password string) client.AuthenticationResult {
	t.Helper()
	resp, err := env.Client.AuthenticateWithResponse(context.Background(), &client.AuthenticateParams{},
		client.AuthenticateRequest{LoginName: &login, Password: &password})
	if err != nil {
		t.Fatal(err)
	}
	if resp.JSON200 == nil {
		t.Fatalf("authenticate %s: %d %s", login, resp.StatusCode(), resp.Body)
	}
	return resp.JSON200.Data
}

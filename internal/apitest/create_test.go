package apitest_test

import (
	"context"
	"net/http"
	"strings"
	"sync"
	"testing"

	"usersorchestrator/gen/client"
	"usersorchestrator/internal/apitest"
)

func TestCreateUser(t *testing.T) {
	env := apitest.Start(t)
	ref := env.CreateUser(client.CreateUserRequest{
		Email: "jane@example.com", Password: apitest.Ptr("correct-horse"),
		FirstName: apitest.Ptr("Jane"), LastName: apitest.Ptr("Doe"),
		Metadata: &client.Metadata{"ebill_flag": "true", "phoneNumber": "5551234567"},
	})
	if ref.CustomerRegistrationId == "" || ref.EncryptedCustomerRegistrationId == "" {
		t.Fatalf("ids %+v", ref)
	}
	u := env.GetUser(ref.CustomerRegistrationId)
	if u.Email != "jane@example.com" || !u.Verified || u.State != client.Standard || u.Metadata["ebill_flag"] != "true" {
		t.Errorf("user %+v", u)
	}
	if u.FirstName.MustGet() != "Jane" || u.AddSource.MustGet() != "apitest" || u.EncryptedCustomerRegistrationId != ref.EncryptedCustomerRegistrationId {
		t.Errorf("user %+v", u)
	}
	welcome := env.MailTo("jane@example.com")
	if !strings.Contains(welcome.Subject, "Welcome") {
		t.Errorf("welcome mail %q", welcome.Subject)
	}
	if got := env.EventCodes(ref.CustomerRegistrationId); strings.Join(got, ",") != "SUBSCRIBE_USER_CREATE 4002 Success,SUBSCRIBE_USER_GETBYID 4001 Success" {
		t.Errorf("events %v", got)
	}
	// The password is stored hashed, never in clear.
	reg, err := env.App.Store().Get(context.Background(), env.Tenant, ref.CustomerRegistrationId)
	if err != nil || !strings.HasPrefix(reg.PasswordHash, "$argon2id$") || strings.Contains(reg.PasswordHash, "correct-horse") {
		t.Errorf("stored hash %q, %v", reg.PasswordHash, err)
	}
}

func TestCreateUserErrors(t *testing.T) {
	env := apitest.Start(t)
	env.CreateUser(client.CreateUserRequest{Email: "taken@example.com", Password: apitest.Ptr("correct-horse")})
	env.CreateUser(client.CreateUserRequest{Email: "pending@example.com", VerifyEmail: apitest.Ptr(true)})
	env.CreateUser(client.CreateUserRequest{Email: "idowner@example.com", CustomerRegistrationId: apitest.Ptr("crid-1")})
	tests := []struct {
		name    string
		body    string
		editors []client.RequestEditorFn
		status  int
		code    string
		text    string
	}{
		{"email taken", `{"email":"taken@example.com"}`, nil, 400, "UsersOrchestrator_E400_08", "The email is already in use by another user."},
		{"email taken, other case", `{"email":"TAKEN@example.com"}`, nil, 400, "UsersOrchestrator_E400_08", "The email is already in use by another user."},
		{"email pending", `{"email":"pending@example.com"}`, nil, 400, "UsersOrchestrator_E400_07", "The entered email address is still pending for verification."},
		{"id taken", `{"email":"new@example.com","customerRegistrationId":"crid-1"}`, nil, 400, "UsersOrchestrator_E400_23", "The customer registration id already exists."},
		{"unknown field", `{"email":"new@example.com","emial":"x"}`, nil, 400, "UsersOrchestrator_E400_00", "Invalid InputModel - body.emial: is not a known field"},
		{"metadata value too long", `{"email":"new@example.com","metadata":{"city":"` + strings.Repeat("x", 101) + `"}}`, nil, 400, "UsersOrchestrator_E400_17", "Metadata Key or Value cannot contain more than 100 characters."},
		{"metadata key not camelCase", `{"email":"new@example.com","metadata":{"City":"x"}}`, nil, 400, "UsersOrchestrator_E400_09", "The metadata is invalid."},
		{"broken JSON", `{"email":`, nil, 400, "UsersOrchestrator_E400_00", "Invalid InputModel - body: is not valid JSON"},
		{"missing header", `{"email":"new@example.com"}`, []client.RequestEditorFn{apitest.Header("X-PaperCode", "")}, 400, "UsersOrchestrator_E400_00", "Invalid InputModel - header X-PaperCode: is required"},
		{"return url host not allowed", `{"email":"new@example.com","returnUrl":"https://evil.example/steal"}`, nil, 400, "UsersOrchestrator_E400_00", "Invalid InputModel - body.returnUrl: its host is not allowed for this tenant"},
		{"encrypted id forged", `{"email":"new@example.com","encryptedCustomerRegistrationId":"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"}`, nil, 400, "UsersOrchestrator_E400_00", "Invalid InputModel - body.encryptedCustomerRegistrationId: is not an id this service encrypted for this tenant"},
		{"body too large", `{"email":"new@example.com","firstName":"` + strings.Repeat("x", 70<<10) + `"}`, nil, 413, "UsersOrchestrator_E413", "Request Entity Too Large"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			status, got, _ := env.Do(http.MethodPost, "/v4/Users", tt.body, tt.editors...)
			if status != tt.status || got.Message.Code != tt.code || got.Message.Text != tt.text {
				t.Errorf("got %d %s %q, want %d %s %q", status, got.Message.Code, got.Message.Text, tt.status, tt.code, tt.text)
			}
		})
	}
	// None of the refused creates left a registration behind.
	status, got, _ := env.Do(http.MethodGet, "/v4/Users?email=new@example.com", "")
	if status != 200 || !strings.Contains(string(got.Data), `"users":[]`) {
		t.Errorf("a refused create left a user: %d %s", status, got.Raw)
	}
}

// Two simultaneous creates of one email give one user and one E400_08.
func TestConcurrentCreateOfOneEmail(t *testing.T) {
	env := apitest.Start(t)
	const n = 8
	var wg sync.WaitGroup
	results := make(chan string, n)
	for range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, got, _ := env.Do(http.MethodPost, "/v4/Users", `{"email":"race@example.com","password":"correct-horse"}`)
			results <- got.Message.Code
		}()
	}
	wg.Wait()
	close(results)
	counts := map[string]int{}
	for c := range results {
		counts[c]++
	}
	if counts["UsersOrchestrator_S200_06"] != 1 || counts["UsersOrchestrator_E400_08"] != n-1 {
		t.Errorf("outcomes %v, want one S200_06 and %d E400_08", counts, n-1)
	}
}

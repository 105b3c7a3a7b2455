package apitest_test

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"strings"
	"sync"
	"testing"

	"usersorchestrator/gen/client"
	"usersorchestrator/internal/apitest"
	"usersorchestrator/internal/registration"
	"usersorchestrator/internal/tenant"
)

var errInjected = errors.New("injected store failure")

// faultyStore makes the named store calls fail (or panic) while a test wants them to.
type faultyStore struct {
	registration.Store
	mu      *sync.Mutex
	failing map[string]string // method -> "fail" | "panic"
}

func (f *faultyStore) set(method, how string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if how == "" {
		delete(f.failing, method)
	} else {
		f.failing[method] = how
	}
}

func (f *faultyStore) check(method string) error {
	f.mu.Lock()
	how := f.failing[method]
	f.mu.Unlock()
	switch how {
	case "panic":
		panic("injected store panic in " + method)
	case "fail":
		return errInjected
	}
	return nil
}

func (f *faultyStore) Get(ctx context.Context, t tenant.Key, id string) (registration.Registration, error) {
	if err := f.check("Get"); err != nil {
		return registration.Registration{}, err
	}
	return f.Store.Get(ctx, t, id)
}

func (f *faultyStore) GetByEmail(ctx context.Context, t tenant.Key, email string) (registration.Registration, error) {
	if err := f.check("GetByEmail"); err != nil {
		return registration.Registration{}, err
	}
	return f.Store.GetByEmail(ctx, t, email)
}

func (f *faultyStore) Search(ctx context.Context, t tenant.Key, q registration.Query) ([]registration.Registration, int64, error) {
	if err := f.check("Search"); err != nil {
		return nil, 0, err
	}
	return f.Store.Search(ctx, t, q)
}

func (f *faultyStore) Update(ctx context.Context, r registration.Registration) (registration.Registration, error) {
	if err := f.check("Update"); err != nil {
		return registration.Registration{}, err
	}
	return f.Store.Update(ctx, r)
}

func (f *faultyStore) GetToken(ctx context.Context, t tenant.Key, p registration.Purpose, id string) (registration.Token, error) {
	if err := f.check("GetToken"); err != nil {
		return registration.Token{}, err
	}
	return f.Store.GetToken(ctx, t, p, id)
}

func (f *faultyStore) InTx(ctx context.Context, fn func(tx registration.Store) error) error {
	if err := f.check("InTx"); err != nil {
		return err
	}
	// The methods called inside the transaction fail as injected too (an update writes there).
	return f.Store.InTx(ctx, func(tx registration.Store) error {
		return fn(&faultyStore{Store: tx, mu: f.mu, failing: f.failing})
	})
}

// A store failure answers the failing workflow's own E500 code, writes nothing half, and a panic
// answers E500: the published UsersOrchestrator_E500_0x codes that can occur without a provider.
func TestStoreFailuresAnswerTheWorkflowsCode(t *testing.T) {
	var store *faultyStore
	env := apitest.Start(t, apitest.WithStore(func(s registration.Store) registration.Store {
		store = &faultyStore{Store: s, mu: &sync.Mutex{}, failing: map[string]string{}}
		return store
	}))
	jane := env.CreateUser(client.CreateUserRequest{Email: "jane@example.com", Password: apitest.Ptr("correct-horse"), FirstName: apitest.Ptr("Jane")})
	env.CreateUser(client.CreateUserRequest{Email: "pending@example.com", VerifyEmail: apitest.Ptr(true)})
	_, started, _ := env.Do(http.MethodPost, "/v4/Users/ForgotPassword", `{"loginName":"jane@example.com"}`)
	var link struct {
		EncryptedEventID string `json:"encryptedEventId"`
	}
	_ = json.Unmarshal(started.Data, &link)
	id := jane.CustomerRegistrationId

	tests := []struct {
		name, method, path, body string
		fail, how                string
		status                   int
		code, text               string
	}{
		{"get by id", "GET", "/v4/Users/" + id, "", "Get", "fail", 500, "UsersOrchestrator_E500_01", "There was a problem during the GetById workflow."},
		{"search", "GET", "/v4/Users?firstName=J", "", "Search", "fail", 500, "UsersOrchestrator_E500_02", "There was a problem during the Get workflow."},
		{"get by email", "GET", "/v4/Users?email=jane@example.com", "", "GetByEmail", "fail", 500, "UsersOrchestrator_E500_02", "There was a problem during the Get workflow."},
		{"create: the check for an existing user", "POST", "/v4/Users", `{"email":"new@example.com","password":"correct-horse"}`, "GetByEmail", "fail", 500, "UsersOrchestrator_E500_01", "There was a problem during the GetById workflow."},
		{"create: the write", "POST", "/v4/Users", `{"email":"new@example.com","password":"correct-horse"}`, "InTx", "fail", 500, "UsersOrchestrator_E500_03", "There was a problem during the Create workflow."},
		{"update", "PUT", "/v4/Users/" + id, `{"firstName":"Janet"}`, "Update", "fail", 500, "UsersOrchestrator_E500_04", "There was a problem during the Update workflow."},
		{"update password", "PATCH", "/v4/Users/" + id + "/Password", `{"password":"n3w-and-l0nger"}`, "InTx", "fail", 500, "UsersOrchestrator_E500_04", "There was a problem during the Update workflow."},
		{"authenticate", "POST", "/v4/Users/Authentication", `{"loginName":"jane@example.com","password":"correct-horse"}`, "GetByEmail", "fail", 500, "UsersOrchestrator_E500_01", "There was a problem during the GetById workflow."},
		{"forgot password start", "POST", "/v4/Users/ForgotPassword", `{"loginName":"jane@example.com"}`, "GetByEmail", "fail", 500, "UsersOrchestrator_E500_06", "There was a problem during the ForgotPassword workflow."},
		{"forgot password validity", "POST", "/v4/Users/ForgotPassword/Validity", `{"encryptedEventId":"` + link.EncryptedEventID + `"}`, "GetToken", "fail", 500, "UsersOrchestrator_E500_06", "There was a problem during the ForgotPassword workflow."},
		{"verify email", "POST", "/v4/Users/Verification", `{"email":"pending@example.com","verificationCode":"123456"}`, "GetByEmail", "fail", 500, "UsersOrchestrator_E500_07", "There was a problem during the Verification workflow."},
		{"send verification code", "POST", "/v4/Users/VerificationCode", `{"email":"pending@example.com"}`, "GetByEmail", "fail", 500, "UsersOrchestrator_E500_07", "There was a problem during the Verification workflow."},
		{"a panic", "GET", "/v4/Users/" + id, "", "Get", "panic", 500, "UsersOrchestrator_E500", "Internal Server Error"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			store.set(tt.fail, tt.how)
			status, got, _ := env.Do(tt.method, tt.path, tt.body)
			store.set(tt.fail, "")
			if status != tt.status || got.Message.Code != tt.code || got.Message.Text != tt.text {
				t.Errorf("got %d %s %q, want %d %s %q", status, got.Message.Code, got.Message.Text, tt.status, tt.code, tt.text)
			}
			if strings.Contains(string(got.Raw), errInjected.Error()) || strings.Contains(string(got.Raw), "panic") {
				t.Errorf("the answer tells the internal error: %s", got.Raw)
			}
		})
	}
	// Nothing was half-written: the failed create left no user, the failed updates changed nothing.
	if status, got, _ := env.Do(http.MethodGet, "/v4/Users?email=new@example.com", ""); status != 200 || !strings.Contains(string(got.Data), `"users":[]`) {
		t.Errorf("a failed create left a user: %s", got.Raw)
	}
	if u := env.GetUser(id); u.FirstName.MustGet() != "Jane" {
		t.Errorf("a failed update changed the user: %+v", u)
	}
	authenticate(t, env, "jane@example.com", "correct-horse")
	// The failures are logged with their request id, for support.
	if logs := env.Logs.String(); !strings.Contains(logs, `"code":"UsersOrchestrator_E500_03"`) || !strings.Contains(logs, errInjected.Error()) || !strings.Contains(logs, "injected store panic") {
		t.Errorf("the failures are not in the logs")
	}
}

// A stored hash the service cannot read is an Authentication workflow failure, not a wrong password.
func TestUnreadablePasswordHashIsE500_05(t *testing.T) {
	env := apitest.Start(t)
	ref := env.CreateUser(client.CreateUserRequest{Email: "jane@example.com", Password: apitest.Ptr("correct-horse")})
	ctx := context.Background()
	reg, err := env.App.Store().Get(ctx, env.Tenant, ref.CustomerRegistrationId)
	if err != nil {
		t.Fatal(err)
	}
	reg.PasswordHash = "$argon2id$v=19$m=0,t=0,p=0$garbage$garbage"
	if _, err := env.App.Store().Update(ctx, reg); err != nil {
		t.Fatal(err)
	}
	_, got, _ := env.Do(http.MethodPost, "/v4/Users/Authentication", `{"loginName":"jane@example.com","password":"correct-horse"}`)
	if got.Message.Code != "UsersOrchestrator_E500_05" || got.Message.Text != "There was a problem during the Authentication workflow." {
		t.Errorf("got %s %q", got.Message.Code, got.Message.Text)
	}
}

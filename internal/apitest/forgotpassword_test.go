package apitest_test

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"usersorchestrator/gen/client"
	"usersorchestrator/internal/apitest"
	"usersorchestrator/internal/mail/mailtest"
)

func TestForgotPassword(t *testing.T) {
	env := apitest.Start(t)
	ref := env.CreateUser(client.CreateUserRequest{Email: "jane@example.com", Password: apitest.Ptr("correct-horse")})

	status, got, _ := env.Do(http.MethodPost, "/v4/Users/ForgotPassword", `{"loginName":"jane@example.com","returnUrl":"http://localhost:3000/reset"}`)
	if status != 200 || got.Message.Code != "UsersOrchestrator_S200_08" || got.Message.Text != "Start ForgotPassword completed." {
		t.Fatalf("start: %d %s", status, got.Raw)
	}
	var started struct {
		EncryptedEventID string `json:"encryptedEventId"`
	}
	_ = json.Unmarshal(got.Data, &started)

	// The emailed link leads to the returnUrl and carries the same encryptedEventId.
	mail := env.MailWithSubject("jane@example.com", "password")
	link, ok := apitest.LinkParam(mail, "encryptedEventId")
	if !ok || link != started.EncryptedEventID || !strings.Contains(mail.Body, "http://localhost:3000/reset?") {
		t.Fatalf("mail %q, link %q, answer %q", mail.Body, link, started.EncryptedEventID)
	}

	status, got, _ = env.Do(http.MethodPost, "/v4/Users/ForgotPassword/Validity", `{"encryptedEventId":"`+link+`"}`)
	var validity struct {
		EventID float64 `json:"eventId"`
		ID      string  `json:"customerRegistrationId"`
	}
	_ = json.Unmarshal(got.Data, &validity)
	if status != 200 || got.Message.Code != "UsersOrchestrator_S200_09" || validity.ID != ref.CustomerRegistrationId || validity.EventID <= 0 {
		t.Fatalf("validity: %d %s", status, got.Raw)
	}
	// Checking does not use the link up; finishing does, once.
	env.Do(http.MethodPost, "/v4/Users/ForgotPassword/Validity", `{"encryptedEventId":"`+link+`"}`)
	status, got, _ = env.Do(http.MethodPost, "/v4/Users/ForgotPassword/Finish", `{"encryptedEventId":"`+link+`","password":"n3w-and-l0nger"}`)
	if status != 200 || got.Message.Code != "UsersOrchestrator_S200_10" || got.Message.Text != "Finish ForgotPassword completed." {
		t.Fatalf("finish: %d %s", status, got.Raw)
	}
	authenticate(t, env, "jane@example.com", "n3w-and-l0nger")
	for _, path := range []string{"/v4/Users/ForgotPassword/Finish", "/v4/Users/ForgotPassword/Validity"} {
		_, got, _ = env.Do(http.MethodPost, path, `{"encryptedEventId":"`+link+`","password":"an0ther-passw0rd"}`)
		if path == "/v4/Users/ForgotPassword/Validity" {
			_, got, _ = env.Do(http.MethodPost, path, `{"encryptedEventId":"`+link+`"}`)
		}
		if got.Message.Code != "UsersOrchestrator_E400_13" {
			t.Errorf("%s with a used link: %s", path, got.Raw)
		}
	}
	codes := env.EventCodes(ref.CustomerRegistrationId)
	for _, want := range []string{"SUBSCRIBE_USER_STARTFORGOTPASSWORD 4009 Success", "SUBSCRIBE_USER_VALIDATEFORGOTPASSWORD 4007 Success",
		"SUBSCRIBE_USER_FINISHFORGOTPASSWORD 4008 Success", "SUBSCRIBE_USER_CHANGEPASSWORD 4010 Success", "SUBSCRIBE_USER_FINISHFORGOTPASSWORD 4008 Failure"} {
		if !contains(codes, want) {
			t.Errorf("events %v lack %s", codes, want)
		}
	}
}

func TestForgotPasswordLinkExpires(t *testing.T) {
	env := apitest.Start(t)
	env.CreateUser(client.CreateUserRequest{Email: "jane@example.com", Password: apitest.Ptr("correct-horse")})
	_, got, _ := env.Do(http.MethodPost, "/v4/Users/ForgotPassword", `{"loginName":"jane@example.com"}`)
	var started struct {
		EncryptedEventID string `json:"encryptedEventId"`
	}
	_ = json.Unmarshal(got.Data, &started)
	env.Clock.Advance(61 * time.Minute)
	if _, got, _ := env.Do(http.MethodPost, "/v4/Users/ForgotPassword/Finish", `{"encryptedEventId":"`+started.EncryptedEventID+`","password":"n3w-and-l0nger"}`); got.Message.Code != "UsersOrchestrator_E400_13" {
		t.Errorf("an expired link finished: %s", got.Raw)
	}
	authenticate(t, env, "jane@example.com", "correct-horse")
}

// An unknown login name gets the same kind of answer and no email: no account enumeration.
func TestForgotPasswordUnknownLoginName(t *testing.T) {
	env := apitest.Start(t)
	env.CreateUser(client.CreateUserRequest{Email: "jane@example.com", Password: apitest.Ptr("correct-horse")})
	env.MailTo("jane@example.com") // the welcome
	before := len(env.Mail.Messages())
	status, got, _ := env.Do(http.MethodPost, "/v4/Users/ForgotPassword", `{"loginName":"nobody@example.com"}`)
	var started struct {
		EncryptedEventID string `json:"encryptedEventId"`
	}
	_ = json.Unmarshal(got.Data, &started)
	if status != 200 || got.Message.Code != "UsersOrchestrator_S200_08" || len(started.EncryptedEventID) < 40 {
		t.Fatalf("unknown login name: %d %s", status, got.Raw)
	}
	if _, got, _ := env.Do(http.MethodPost, "/v4/Users/ForgotPassword/Validity", `{"encryptedEventId":"`+started.EncryptedEventID+`"}`); got.Message.Code != "UsersOrchestrator_E400_13" {
		t.Errorf("the look-alike answer validated: %s", got.Raw)
	}
	time.Sleep(300 * time.Millisecond)
	if after := len(env.Mail.Messages()); after != before {
		t.Errorf("an email was sent for an unknown login name")
	}
	if _, got, _ := env.Do(http.MethodPost, "/v4/Users/ForgotPassword", `{"loginName":"jane@example.com","returnUrl":"https://evil.example/x"}`); got.Message.Code != "UsersOrchestrator_E400_00" {
		t.Errorf("a foreign returnUrl was accepted: %s", got.Raw)
	}
}

func TestVerifyEmail(t *testing.T) {
	env := apitest.Start(t)
	ref := env.CreateUser(client.CreateUserRequest{Email: "john@example.com", Password: apitest.Ptr("correct-horse"), VerifyEmail: apitest.Ptr(true), ReturnUrl: apitest.Ptr("http://localhost:3000/verify")})
	if u := env.GetUser(ref.CustomerRegistrationId); u.Verified || u.State != client.Unverified {
		t.Fatalf("a verifyEmail create must be pending: %+v", u)
	}
	mail := env.MailWithSubject("john@example.com", "verif")
	code, ok := apitest.LinkParam(mail, "verificationCode")
	if !ok || len(code) != 6 || !strings.Contains(mail.Body, code) {
		t.Fatalf("verification mail %q", mail.Body)
	}
	tests := []struct {
		name, body, code string
	}{
		{"unknown email", `{"email":"nobody@example.com","verificationCode":"123456"}`, "UsersOrchestrator_E400_14"},
		{"wrong code", `{"email":"john@example.com","verificationCode":"` + wrongCode(code) + `"}`, "UsersOrchestrator_E400_15"},
		{"right code", `{"email":"JOHN@example.com","verificationCode":"` + code + `"}`, "UsersOrchestrator_S200_13"},
		{"already verified", `{"email":"john@example.com","verificationCode":"` + code + `"}`, "UsersOrchestrator_E400_16"},
	}
	for _, tt := range tests {
		_, got, _ := env.Do(http.MethodPost, "/v4/Users/Verification", tt.body)
		if got.Message.Code != tt.code {
			t.Errorf("%s: %s", tt.name, got.Raw)
		}
		if tt.code == "UsersOrchestrator_S200_13" && (got.Message.Text != "Verify Email completed." || !strings.Contains(string(got.Data), ref.CustomerRegistrationId)) {
			t.Errorf("%s: %s", tt.name, got.Raw)
		}
	}
	if u := env.GetUser(ref.CustomerRegistrationId); !u.Verified || u.State != client.Standard {
		t.Errorf("after Verify Email: %+v", u)
	}
	authenticate(t, env, "john@example.com", "correct-horse")
	if codes := env.EventCodes(ref.CustomerRegistrationId); !contains(codes, "SUBSCRIBE_USER_CREATEPENDING 4003 Success") || !contains(codes, "SUBSCRIBE_USER_CREATE 4002 Success") {
		t.Errorf("events %v", codes)
	}
}

func TestVerificationCodeRules(t *testing.T) {
	env := apitest.Start(t)
	// Send Verification Code creates the pending registration when there is none.
	status, got, _ := env.Do(http.MethodPost, "/v4/Users/VerificationCode", `{"email":"new@example.com"}`)
	if status != 200 || got.Message.Code != "UsersOrchestrator_S200_14" || got.Message.Text != "Send Verification Code completed." {
		t.Fatalf("send: %d %s", status, got.Raw)
	}
	var ref struct {
		ID string `json:"customerRegistrationId"`
	}
	_ = json.Unmarshal(got.Data, &ref)
	first := codeIn(t, env.MailWithSubject("new@example.com", "verif"))
	if codes := env.EventCodes(ref.ID); !contains(codes, "SUBSCRIBE_USER_CREATEPENDING 4003 Success") {
		t.Errorf("events %v", codes)
	}
	// A new code replaces the last one.
	env.Do(http.MethodPost, "/v4/Users/VerificationCode", `{"email":"new@example.com"}`)
	second := codeIn(t, env.MailWhere("new@example.com", func(m mailtest.Message) bool { return !strings.Contains(m.Body, first) }))
	if first != second {
		if _, got, _ := env.Do(http.MethodPost, "/v4/Users/Verification", `{"email":"new@example.com","verificationCode":"`+first+`"}`); got.Message.Code != "UsersOrchestrator_E400_15" {
			t.Errorf("the replaced code still works: %s", got.Raw)
		}
	}
	// A code expires.
	env.Clock.Advance(25 * time.Hour)
	if _, got, _ := env.Do(http.MethodPost, "/v4/Users/Verification", `{"email":"new@example.com","verificationCode":"`+second+`"}`); got.Message.Code != "UsersOrchestrator_E400_15" {
		t.Errorf("an expired code works: %s", got.Raw)
	}
	// Wrong codes are limited; five wrong guesses kill the code even within the limits.
	env.Do(http.MethodPost, "/v4/Users/VerificationCode", `{"email":"new@example.com"}`)
	third := codeIn(t, env.MailWhere("new@example.com", func(m mailtest.Message) bool {
		return !strings.Contains(m.Body, first) && !strings.Contains(m.Body, second)
	}))
	for range 5 {
		env.Do(http.MethodPost, "/v4/Users/Verification", `{"email":"new@example.com","verificationCode":"`+wrongCode(third)+`"}`)
	}
	status, got, _ = env.Do(http.MethodPost, "/v4/Users/Verification", `{"email":"new@example.com","verificationCode":"`+third+`"}`)
	if status != 429 && got.Message.Code != "UsersOrchestrator_E400_15" {
		t.Errorf("the right code after five wrong ones: %d %s", status, got.Raw)
	}
	// A verified address gets E400_16.
	env.CreateUser(client.CreateUserRequest{Email: "done@example.com", Password: apitest.Ptr("correct-horse")})
	if _, got, _ := env.Do(http.MethodPost, "/v4/Users/VerificationCode", `{"email":"done@example.com"}`); got.Message.Code != "UsersOrchestrator_E400_16" {
		t.Errorf("verified address: %s", got.Raw)
	}
}

// A passwordless user without a provider is Lite until they choose a password through the
// welcome email's link (a forgot-password link).
func TestPasswordlessCreate(t *testing.T) {
	env := apitest.Start(t)
	ref := env.CreateUser(client.CreateUserRequest{Email: "ann@example.com", FirstName: apitest.Ptr("Ann"), ReturnUrl: apitest.Ptr("http://localhost:3000/choose")})
	if u := env.GetUser(ref.CustomerRegistrationId); u.State != client.Lite || !u.Verified {
		t.Fatalf("passwordless: %+v", u)
	}
	welcome := env.MailWithSubject("ann@example.com", "welcome")
	link, ok := apitest.LinkParam(welcome, "encryptedEventId")
	if !ok || !strings.Contains(welcome.Body, "http://localhost:3000/choose?") {
		t.Fatalf("welcome mail %q", welcome.Body)
	}
	if _, got, _ := env.Do(http.MethodPost, "/v4/Users/Authentication", `{"loginName":"ann@example.com","password":"anything1"}`); got.Message.Code != "UsersOrchestrator_E400_12" {
		t.Errorf("Lite login: %s", got.Raw)
	}
	// The link outlives a forgot-password link (a welcome email may wait for days).
	env.Clock.Advance(3 * 24 * time.Hour)
	if _, got, _ := env.Do(http.MethodPost, "/v4/Users/ForgotPassword/Finish", `{"encryptedEventId":"`+link+`","password":"ch0sen-passw0rd"}`); got.Message.Code != "UsersOrchestrator_S200_10" {
		t.Fatalf("choose a password: %s", got.Raw)
	}
	if u := env.GetUser(ref.CustomerRegistrationId); u.State != client.Standard {
		t.Errorf("after choosing a password: %+v", u)
	}
	authenticate(t, env, "ann@example.com", "ch0sen-passw0rd")
}

func codeIn(t *testing.T, m mailtest.Message) string {
	t.Helper()
	code, ok := apitest.LinkParam(m, "verificationCode")
	if !ok {
		t.Fatalf("no code in %q", m.Body)
	}
	return code
}

func wrongCode(code string) string {
	if strings.HasPrefix(code, "0") {
		return "1" + code[1:]
	}
	return "0" + code[1:]
}

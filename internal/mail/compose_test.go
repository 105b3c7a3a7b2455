package mail_test

import (
	"strings"
	"testing"

	"usersorchestrator/internal/mail"
	"usersorchestrator/internal/registration"
	"usersorchestrator/internal/tenant"
)

func testTenant() *tenant.Tenant {
	return &tenant.Tenant{
		Key:      tenant.Key{ClientCode: "CL", PaperCode: "PA", ClientGroupCode: "GR"},
		Name:     "The Daily Example",
		MailFrom: "The Daily Example <no-reply@daily.example>",
	}
}

func TestCompose(t *testing.T) {
	tn := testTenant()
	const (
		to       = "reader@example.com"
		link     = "https://daily.example/account/reset?encryptedEventId=QUJDREVGR0hJSktMTU5PUA"
		code     = "739214"
		newEmail = "new.reader@example.com"
	)
	tests := []struct {
		name    string
		email   registration.Email
		kind    string
		to      string
		subject []string // substrings of the subject
		body    []string // substrings of the body
		notBody []string
	}{
		{
			name:    "welcome with a password",
			email:   mail.Welcome(tn, to, "Ada", ""),
			kind:    mail.KindWelcome,
			to:      to,
			subject: []string{"Welcome", tn.Name},
			body:    []string{"Hello Ada,", tn.Name},
			notBody: []string{"http", "choose your password"},
		},
		{
			name:    "welcome passwordless invites to choose a password",
			email:   mail.Welcome(tn, to, "", link),
			kind:    mail.KindWelcome,
			to:      to,
			subject: []string{tn.Name},
			body:    []string{"Hello,", "choose your password", "\n" + link + "\n"},
		},
		{
			name:    "verification code, then choose a password",
			email:   mail.VerificationCodeThenPassword(tn, to, code, link, link+"&new=1"),
			kind:    mail.KindVerificationCode,
			to:      to,
			subject: []string{"verification code", tn.Name},
			body:    []string{code, "\n" + link + "\n", "choose your password here:\n" + link + "&new=1\n"},
		},
		{
			name:    "verification code without a password link adds none",
			email:   mail.VerificationCodeThenPassword(tn, to, code, link, ""),
			kind:    mail.KindVerificationCode,
			to:      to,
			subject: []string{"verification code", tn.Name},
			body:    []string{code},
			notBody: []string{"choose your password"},
		},
		{
			name:    "verification code",
			email:   mail.VerificationCode(tn, to, code, link),
			kind:    mail.KindVerificationCode,
			to:      to,
			subject: []string{"verification code", tn.Name},
			body:    []string{code, "\n" + link + "\n", "ignore"},
		},
		{
			name:    "verification code without a link",
			email:   mail.VerificationCode(tn, to, code, ""),
			kind:    mail.KindVerificationCode,
			to:      to,
			subject: []string{tn.Name},
			body:    []string{code},
			notBody: []string{"http", "this link"},
		},
		{
			name:    "forgot password",
			email:   mail.ForgotPassword(tn, to, link),
			kind:    mail.KindForgotPassword,
			to:      to,
			subject: []string{"Reset", tn.Name},
			body:    []string{"\n" + link + "\n", "did not ask", "ignore"},
		},
		{
			name:    "password changed",
			email:   mail.PasswordChanged(tn, to),
			kind:    mail.KindPasswordChanged,
			to:      to,
			subject: []string{"password was changed", tn.Name},
			body:    []string{"password", tn.Name, "did not"},
			notBody: []string{"http"},
		},
		{
			name:    "email changed goes to the old address and names the new one",
			email:   mail.EmailChanged(tn, to, newEmail),
			kind:    mail.KindEmailChanged,
			to:      to,
			subject: []string{"email address was changed", tn.Name},
			body:    []string{to, newEmail, "did not"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := tt.email
			if e.Kind != tt.kind || e.To != tt.to || e.From != tn.MailFrom || e.Tenant != tn.Key {
				t.Errorf("envelope = kind %q to %q from %q tenant %v", e.Kind, e.To, e.From, e.Tenant)
			}
			for _, s := range tt.subject {
				if !strings.Contains(e.Subject, s) {
					t.Errorf("subject %q lacks %q", e.Subject, s)
				}
			}
			for _, s := range tt.body {
				if !strings.Contains(e.Body, s) {
					t.Errorf("body lacks %q:\n%s", s, e.Body)
				}
			}
			for _, s := range tt.notBody {
				if strings.Contains(e.Body, s) {
					t.Errorf("body holds %q:\n%s", s, e.Body)
				}
			}
			if strings.ContainsAny(e.Subject, "\r\n") {
				t.Errorf("subject has a line break: %q", e.Subject)
			}
			if e.ID != 0 || e.Attempts != 0 || !e.NextAttemptAt.IsZero() || e.SentAt != nil {
				t.Errorf("store fields set: %+v", e)
			}
		})
	}
}

// User input with line breaks must not add header or body lines of its own.
func TestComposeInjection(t *testing.T) {
	tn := testTenant()
	tn.Name = "Daily\r\nBcc: victim@evil.example"
	const evil = "Eve\r\nBcc: spy@evil.example\n\nFAKE LINE"
	tests := []struct {
		name  string
		email registration.Email
	}{
		{"welcome first name", mail.Welcome(tn, "r@example.com", evil, "https://daily.example/x\r\nBcc: y")},
		{"verification code", mail.VerificationCode(tn, "r@example.com", "12\r\n34", "https://daily.example/v\n?x")},
		{"forgot password", mail.ForgotPassword(tn, "r@example.com", "https://daily.example/f\r\n")},
		{"password changed", mail.PasswordChanged(tn, "r@example.com")},
		{"email changed new address", mail.EmailChanged(tn, "r@example.com", "x@example.com\r\nBcc: spy@evil.example")},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := tt.email
			if strings.ContainsAny(e.Subject, "\r\n") {
				t.Errorf("subject has a line break: %q", e.Subject)
			}
			if strings.Contains(e.Body, "\r") {
				t.Errorf("body has a CR: %q", e.Body)
			}
			for line := range strings.Lines(e.Body) {
				if strings.HasPrefix(line, "Bcc:") || strings.HasPrefix(line, "FAKE") || strings.HasPrefix(line, "?x") {
					t.Errorf("user input started a line of its own: %q", line)
				}
			}
		})
	}
}

// Package mail composes the emails the service sends: what each says, to whom, from which
// tenant. The workflows compose a message with one of the functions below and put it in the
// outbox (the store's EnqueueEmail) in the same transaction as the change it reports, so a mail
// is never lost nor sent for a change that rolled back; package mail/delivery then sends it.
// Bodies can hold secrets (verification codes, password links): nothing here logs a body or puts
// it in an error.
package mail

import (
	"fmt"
	"strings"
	"unicode"

	"usersorchestrator/internal/registration"
	"usersorchestrator/internal/tenant"
)

// The kinds of email, stored in registration.Email.Kind.
const (
	KindWelcome          = "welcome"
	KindVerificationCode = "verification-code"
	KindForgotPassword   = "forgot-password"
	KindPasswordChanged  = "password-changed"
	KindEmailChanged     = "email-changed"
)

// Welcome greets a new user. setPasswordURL is "" when the user chose a password; a
// passwordless create passes the link where the user can choose one (decision 8).
func Welcome(t *tenant.Tenant, to, firstName, setPasswordURL string) registration.Email {
	name := oneLine(t.Name)
	var b strings.Builder
	b.WriteString(greeting(firstName))
	fmt.Fprintf(&b, "Welcome to %s. Your account has been created.\n\n", name)
	if link := cleanLink(setPasswordURL); link != "" {
		b.WriteString("To start, choose your password at this link:\n\n")
		b.WriteString(link + "\n\n")
	}
	return compose(t, KindWelcome, to, "Welcome to "+name, b.String())
}

// VerificationCode sends the code that verifies an email address (decision 15) and a link
// that confirms it without typing the code.
func VerificationCode(t *tenant.Tenant, to, code, link string) registration.Email {
	name := oneLine(t.Name)
	var b strings.Builder
	b.WriteString(greeting(""))
	fmt.Fprintf(&b, "Your verification code for %s is:\n\n    %s\n\n", name, cleanLink(code))
	if l := cleanLink(link); l != "" {
		b.WriteString("Or confirm your email address with this link:\n\n")
		b.WriteString(l + "\n\n")
	}
	b.WriteString("The code works once and expires soon. If you did not ask for it, you can ignore this email.\n\n")
	return compose(t, KindVerificationCode, to, "Your verification code for "+name, b.String())
}

// VerificationCodeThenPassword is VerificationCode for a passwordless user created with
// verifyEmail: after confirming the address, they choose their password at setPasswordURL (no
// addition when it is "").
func VerificationCodeThenPassword(t *tenant.Tenant, to, code, link, setPasswordURL string) registration.Email {
	e := VerificationCode(t, to, code, link)
	if l := cleanLink(setPasswordURL); l != "" {
		e.Body += "\nAfter confirming, choose your password here:\n" + l + "\n"
	}
	return e
}

// ForgotPassword sends the link that lets the user choose a new password (decision 13).
func ForgotPassword(t *tenant.Tenant, to, link string) registration.Email {
	name := oneLine(t.Name)
	var b strings.Builder
	b.WriteString(greeting(""))
	fmt.Fprintf(&b, "Someone asked to reset the password of your %s account. Choose a new password at this link:\n\n", name)
	b.WriteString(cleanLink(link) + "\n\n")
	b.WriteString("The link works once and expires soon. If you did not ask for this, ignore this email: your password stays as it is.\n\n")
	return compose(t, KindForgotPassword, to, "Reset your "+name+" password", b.String())
}

// PasswordChanged tells the user their password changed, so that a change they did not make
// does not go unnoticed.
func PasswordChanged(t *tenant.Tenant, to string) registration.Email {
	name := oneLine(t.Name)
	var b strings.Builder
	b.WriteString(greeting(""))
	fmt.Fprintf(&b, "The password of your %s account was just changed.\n\n", name)
	fmt.Fprintf(&b, "If you did this, there is nothing more to do. If you did not, reset your password now and contact %s customer service.\n\n", name)
	return compose(t, KindPasswordChanged, to, "Your "+name+" password was changed", b.String())
}

// EmailChanged goes to the old address: its owner is the one to warn if the change was not
// theirs, and the new address may belong to whoever took the account over.
func EmailChanged(t *tenant.Tenant, oldAddress, newAddress string) registration.Email {
	name := oneLine(t.Name)
	var b strings.Builder
	b.WriteString(greeting(""))
	fmt.Fprintf(&b, "The email address of your %s account was changed from %s to %s. From now on, sign in with %s.\n\n",
		name, oneLine(oldAddress), oneLine(newAddress), oneLine(newAddress))
	fmt.Fprintf(&b, "If you did not make this change, contact %s customer service right away.\n\n", name)
	return compose(t, KindEmailChanged, oldAddress, "Your "+name+" email address was changed", b.String())
}

// compose fills the fields every kind shares. The subject only ever holds the tenant's name
// (configuration, never user input) and is flattened to one line all the same, because a
// subject is a header.
func compose(t *tenant.Tenant, kind, to, subject, body string) registration.Email {
	return registration.Email{
		Tenant:  t.Key,
		Kind:    kind,
		From:    t.MailFrom,
		To:      to,
		Subject: oneLine(subject),
		Body:    body + "-- \n" + oneLine(t.Name) + "\n",
	}
}

func greeting(firstName string) string {
	if fn := oneLine(firstName); fn != "" {
		return "Hello " + fn + ",\n\n"
	}
	return "Hello,\n\n"
}

// oneLine flattens user-supplied text (a first name, an address) to a single line: CR, LF,
// Unicode line separators and other control characters become one space, so the text can
// neither start a header nor fake extra lines in the body.
func oneLine(s string) string {
	return strings.Join(strings.FieldsFunc(s, func(r rune) bool {
		return unicode.IsSpace(r) || unicode.IsControl(r)
	}), " ")
}

// cleanLink drops every space and control character: a URL or code has none, and a stray
// line break would cut the link in two in the reader's mail client.
func cleanLink(s string) string {
	return strings.Map(func(r rune) rune {
		if unicode.IsSpace(r) || unicode.IsControl(r) {
			return -1
		}
		return r
	}, s)
}

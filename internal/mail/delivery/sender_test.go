package delivery_test

import (
	"bytes"
	"context"
	"errors"
	"net"
	netmail "net/mail"
	"strings"
	"testing"
	"time"

	"usersorchestrator/internal/mail"
	"usersorchestrator/internal/mail/delivery"
	"usersorchestrator/internal/mail/mailtest"
	"usersorchestrator/internal/registration"
)

const wait = 5 * time.Second

// smtpConfig points at sink; TLS follows the sink's own TLS mode.
func smtpConfig(sink *mailtest.Sink, mode string) delivery.SMTPConfig {
	return delivery.SMTPConfig{
		Host:      sink.Host(),
		Port:      sink.Port(),
		TLS:       mode,
		Timeout:   wait,
		HELO:      "usersorchestrator.test",
		TLSConfig: sink.ClientTLSConfig(),
	}
}

func newSender(t *testing.T, cfg delivery.SMTPConfig) *delivery.SMTPSender {
	t.Helper()
	s, err := delivery.NewSMTPSender(cfg)
	if err != nil {
		t.Fatalf("NewSMTPSender: %v", err)
	}
	return s
}

func TestSMTPSenderDelivers(t *testing.T) {
	tests := []struct {
		name     string
		sinkOpts []mailtest.Option
		mode     string
		user     string
		pass     string
	}{
		{"clear text, no auth", nil, delivery.TLSNone, "", ""},
		{"clear text, auth to localhost", []mailtest.Option{mailtest.WithAuth("mailer", "s3cret")}, delivery.TLSNone, "mailer", "s3cret"},
		{"starttls with auth", []mailtest.Option{mailtest.WithSTARTTLS(), mailtest.WithAuth("mailer", "s3cret")}, delivery.TLSStartTLS, "mailer", "s3cret"},
		{"implicit tls with auth", []mailtest.Option{mailtest.WithImplicitTLS(), mailtest.WithAuth("mailer", "s3cret")}, delivery.TLSImplicit, "mailer", "s3cret"},
		{"starttls is the default mode", []mailtest.Option{mailtest.WithSTARTTLS()}, "", "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			sink := mailtest.NewSink(t, tt.sinkOpts...)
			cfg := smtpConfig(sink, tt.mode)
			cfg.Username, cfg.Password = tt.user, tt.pass
			s := newSender(t, cfg)

			e := mail.VerificationCode(testTenant(), "reader@example.com", "739214", "https://daily.example/verify?code=739214")
			if err := s.Send(t.Context(), e); err != nil {
				t.Fatalf("Send: %v", err)
			}
			got := sink.WaitFor(t, "reader@example.com", wait)
			if got.From != "no-reply@daily.example" || len(got.To) != 1 {
				t.Errorf("envelope = from %q to %v", got.From, got.To)
			}
			if got.AuthUser != tt.user {
				t.Errorf("authenticated as %q, want %q", got.AuthUser, tt.user)
			}
			if got.Subject != e.Subject {
				t.Errorf("subject = %q, want %q", got.Subject, e.Subject)
			}
			if got.Body != e.Body {
				t.Errorf("body = %q, want %q", got.Body, e.Body)
			}
			hdr, err := netmail.ReadMessage(bytes.NewReader(got.Raw))
			if err != nil {
				t.Fatal(err)
			}
			if hdr.Header.Get("Auto-Submitted") != "auto-generated" || !strings.HasSuffix(hdr.Header.Get("Message-Id"), "@daily.example>") {
				t.Errorf("headers: Auto-Submitted %q Message-Id %q", hdr.Header.Get("Auto-Submitted"), hdr.Header.Get("Message-Id"))
			}
		})
	}
}

func TestSMTPSenderFailures(t *testing.T) {
	// A port where nothing listens: take a free one and release it.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	closedPort := ln.Addr().(*net.TCPAddr).Port
	_ = ln.Close()

	tests := []struct {
		name      string
		sinkOpts  []mailtest.Option
		cfg       func(delivery.SMTPConfig) delivery.SMTPConfig
		to        string
		permanent bool
	}{
		{
			name:     "wrong password is a configuration problem, retried",
			sinkOpts: []mailtest.Option{mailtest.WithAuth("mailer", "s3cret")},
			cfg: func(c delivery.SMTPConfig) delivery.SMTPConfig {
				c.Username, c.Password = "mailer", "wrong"
				return c
			},
		},
		{
			name:     "auth required but none configured",
			sinkOpts: []mailtest.Option{mailtest.WithAuth("mailer", "s3cret")},
		},
		{
			name: "starttls demanded, server cannot",
			cfg: func(c delivery.SMTPConfig) delivery.SMTPConfig {
				c.TLS = delivery.TLSStartTLS
				return c
			},
		},
		{
			name: "nobody listening",
			cfg: func(c delivery.SMTPConfig) delivery.SMTPConfig {
				c.Port = closedPort
				return c
			},
		},
		{
			name:      "recipient rejected with 550 is permanent",
			sinkOpts:  []mailtest.Option{mailtest.WithRejectRecipient("gone@example.com")},
			to:        "gone@example.com",
			permanent: true,
		},
		{
			name:      "recipient with a header injection is permanent",
			to:        "reader@example.com\r\nBcc: spy@evil.example",
			permanent: true,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			sink := mailtest.NewSink(t, tt.sinkOpts...)
			cfg := smtpConfig(sink, delivery.TLSNone)
			if tt.cfg != nil {
				cfg = tt.cfg(cfg)
			}
			to := tt.to
			if to == "" {
				to = "reader@example.com"
			}
			e := mail.ForgotPassword(testTenant(), to, "https://daily.example/reset?encryptedEventId=SECRET-EVENT-ID")
			err := newSender(t, cfg).Send(t.Context(), e)
			if err == nil {
				t.Fatal("Send succeeded")
			}
			if got := errors.Is(err, delivery.ErrPermanent); got != tt.permanent {
				t.Errorf("permanent = %v, want %v (%v)", got, tt.permanent, err)
			}
			if strings.Contains(err.Error(), "SECRET-EVENT-ID") {
				t.Errorf("error holds the body: %v", err)
			}
			if n := len(sink.Messages()); n != 0 {
				t.Errorf("sink received %d messages", n)
			}
		})
	}
}

func TestNewSMTPSenderConfig(t *testing.T) {
	tests := []struct {
		name    string
		cfg     delivery.SMTPConfig
		wantErr bool
	}{
		{"defaults", delivery.SMTPConfig{Host: "smtp.example"}, false},
		{"tls mode is case-insensitive", delivery.SMTPConfig{Host: "smtp.example", TLS: "TLS"}, false},
		{"empty host", delivery.SMTPConfig{TLS: delivery.TLSNone}, true},
		{"unknown tls mode", delivery.SMTPConfig{Host: "smtp.example", TLS: "ssl3"}, true},
		{"port out of range", delivery.SMTPConfig{Host: "smtp.example", Port: 70000}, true},
		{"negative port", delivery.SMTPConfig{Host: "smtp.example", Port: -1}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, err := delivery.NewSMTPSender(tt.cfg)
			if (err != nil) != tt.wantErr {
				t.Fatalf("err = %v, wantErr %v", err, tt.wantErr)
			}
			if err == nil && s == nil {
				t.Fatal("nil sender without error")
			}
		})
	}
}

// A link longer than a mail line (76 characters in quoted-printable) is split with soft line
// breaks on the wire; the sink must hand it back whole.
func TestLongLinkSurvivesQuotedPrintable(t *testing.T) {
	sink := mailtest.NewSink(t)
	s := newSender(t, smtpConfig(sink, delivery.TLSNone))
	link := "https://daily.example/account/set-password?ticket=" + strings.Repeat("AbC-12_x", 30) + "&returnUrl=https%3A%2F%2Fdaily.example%2F%3Fa%3D1%26b%3D2#top"
	e := mail.Welcome(testTenant(), "reader@example.com", "Zoë", link)
	if err := s.Send(context.Background(), e); err != nil {
		t.Fatal(err)
	}
	got := sink.WaitFor(t, "reader@example.com", wait)
	raw := string(got.Raw)
	if !strings.Contains(raw, "Content-Transfer-Encoding: quoted-printable") || !strings.Contains(raw, "=\r\n") {
		t.Fatalf("message was not sent quoted-printable with soft breaks:\n%s", raw)
	}
	if strings.Contains(raw, link) {
		t.Fatal("the link is whole on the wire: the test does not exercise decoding")
	}
	links := mailtest.Links(got.Body)
	if len(links) != 1 || links[0] != link {
		t.Errorf("links = %q, want [%q]", links, link)
	}
	if !strings.Contains(got.Body, "Hello Zoë,") {
		t.Errorf("non-ASCII name lost: %q", got.Body)
	}
}

// The headers on the wire must be exactly the ones we set, whatever the user typed.
func TestNoHeaderInjectionOnTheWire(t *testing.T) {
	sink := mailtest.NewSink(t)
	s := newSender(t, smtpConfig(sink, delivery.TLSNone))
	tn := testTenant()
	tn.Name = "Daily\r\nBcc: spy@evil.example"
	e := mail.Welcome(tn, "reader@example.com", "Eve\r\nBcc: spy@evil.example\r\n\r\nFAKE", "")
	e.Subject += "\r\nX-Injected: yes" // as if a row had been written by something else
	if err := s.Send(t.Context(), e); err != nil {
		t.Fatal(err)
	}
	got := sink.WaitFor(t, "reader@example.com", wait)
	msg, err := netmail.ReadMessage(bytes.NewReader(got.Raw))
	if err != nil {
		t.Fatal(err)
	}
	for _, h := range []string{"Bcc", "X-Injected"} {
		if v, ok := msg.Header[h]; ok {
			t.Errorf("injected header %s: %q", h, v)
		}
	}
	if len(got.To) != 1 || got.To[0] != "reader@example.com" {
		t.Errorf("recipients = %v", got.To)
	}
	if strings.ContainsAny(got.Subject, "\r\n") {
		t.Errorf("subject = %q", got.Subject)
	}
}

var _ delivery.Outbox = registration.Store(nil)

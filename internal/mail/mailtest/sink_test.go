package mailtest_test

import (
	"errors"
	"fmt"
	"net"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-sasl"
	"github.com/emersion/go-smtp"

	"usersorchestrator/internal/mail/mailtest"
)

// send delivers raw to the sink with go-smtp's client, as any SMTP client would.
func send(s *mailtest.Sink, auth sasl.Client, from string, to []string, raw string) error {
	c, err := smtp.Dial(net.JoinHostPort(s.Host(), strconv.Itoa(s.Port())))
	if err != nil {
		return fmt.Errorf("dial: %w", err)
	}
	defer c.Close()
	if auth != nil {
		if err := c.Auth(auth); err != nil {
			return err
		}
	}
	if err := c.SendMail(from, to, strings.NewReader(raw)); err != nil {
		return err
	}
	return c.Quit()
}

const longLink = "https://daily.example/account/reset?encryptedEventId=QUJDREVGR0hJSktMTU5PUFFSU1RVVldYWVphYmNkZWZnaGlqa2xtbm9wcXJzdHV2d3h5ejAxMjM0NTY3ODk&returnUrl=https%3A%2F%2Fdaily.example%2F"

// qp is longLink as a quoted-printable encoder writes it: soft breaks at 76 columns, '=' as =3D.
var qp = func() string {
	enc := strings.ReplaceAll(longLink, "=", "=3D")
	var b strings.Builder
	for len(enc) > 75 {
		cut := 75
		// never split an =XX escape
		if i := strings.LastIndex(enc[:cut], "="); i > cut-3 {
			cut = i
		}
		b.WriteString(enc[:cut] + "=\r\n")
		enc = enc[cut:]
	}
	b.WriteString(enc)
	return b.String()
}()

func TestParse(t *testing.T) {
	tests := []struct {
		name        string
		raw         string
		wantSubject string
		wantBody    string
		wantErr     bool
	}{
		{
			name:        "plain 7bit, no content type",
			raw:         "Subject: Hi\r\n\r\nline one\r\nline two\r\n",
			wantSubject: "Hi",
			wantBody:    "line one\nline two\n",
		},
		{
			name: "quoted-printable with a long link split by soft breaks",
			raw: "Subject: =?UTF-8?q?R=C3=A9initialiser?=\r\nMIME-Version: 1.0\r\nContent-Type: text/plain; charset=UTF-8\r\n" +
				"Content-Transfer-Encoding: quoted-printable\r\n\r\nBonjour Zo=C3=AB,\r\n\r\n" + qp + "\r\n",
			wantSubject: "Réinitialiser",
			wantBody:    "Bonjour Zoë,\n\n" + longLink + "\n",
		},
		{
			name: "base64 with line breaks",
			raw: "Subject: =?utf-8?b?V2VsY29tZQ==?=\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: base64\r\n\r\n" +
				"SGVsbG8g\r\nWm/DqyE=\r\n",
			wantSubject: "Welcome",
			wantBody:    "Hello Zoë!",
		},
		{
			name: "multipart: the text/plain part, decoded",
			raw: "Subject: Mixed\r\nMIME-Version: 1.0\r\nContent-Type: multipart/alternative; boundary=XYZ\r\n\r\n" +
				"--XYZ\r\nContent-Type: text/html; charset=utf-8\r\n\r\n<p>html</p>\r\n" +
				"--XYZ\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\n" + qp + "\r\n" +
				"--XYZ--\r\n",
			wantSubject: "Mixed",
			wantBody:    longLink,
		},
		{
			name:    "no text part",
			raw:     "Subject: x\r\nContent-Type: text/html\r\n\r\n<p>x</p>\r\n",
			wantErr: true,
		},
		{
			name:    "charset the sink cannot read",
			raw:     "Subject: x\r\nContent-Type: text/plain; charset=koi8-r\r\n\r\nx\r\n",
			wantErr: true,
		},
		{
			name:    "broken base64",
			raw:     "Subject: x\r\nContent-Transfer-Encoding: base64\r\n\r\n!!!!\r\n",
			wantErr: true,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m, err := mailtest.Parse([]byte(tt.raw))
			if (err != nil) != tt.wantErr {
				t.Fatalf("err = %v, wantErr %v", err, tt.wantErr)
			}
			if err != nil {
				return
			}
			if m.Subject != tt.wantSubject || m.Body != tt.wantBody {
				t.Errorf("got subject %q body %q\nwant subject %q body %q", m.Subject, m.Body, tt.wantSubject, tt.wantBody)
			}
			if string(m.Raw) != tt.raw {
				t.Error("Raw is not the input")
			}
		})
	}
}

func TestLinks(t *testing.T) {
	tests := []struct {
		body string
		want []string
	}{
		{"no links here", nil},
		{"Go to https://a.example/x?y=1&z=2 now", []string{"https://a.example/x?y=1&z=2"}},
		{"See https://a.example/x.\nOr http://b.example:8080/p#f, then", []string{"https://a.example/x", "http://b.example:8080/p#f"}},
		{"(https://a.example/p) and <https://b.example/q>", []string{"https://a.example/p", "https://b.example/q"}},
		{"\n" + longLink + "\n", []string{longLink}},
		{"ftp://not.example mailto:x@y.example", nil},
	}
	for _, tt := range tests {
		if got := mailtest.Links(tt.body); !slices.Equal(got, tt.want) {
			t.Errorf("Links(%q) = %q, want %q", tt.body, got, tt.want)
		}
	}
}

func TestSinkReceives(t *testing.T) {
	s := mailtest.NewSink(t)
	raw := "From: a@example.com\r\nTo: b@example.com\r\nSubject: One\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\n" + qp + "\r\n"
	if err := send(s, sasl.NewPlainClient("", "anyone", "anything"), "a@example.com", []string{"b@example.com", "c@example.com"}, raw); err != nil {
		t.Fatal(err)
	}
	m := s.WaitFor(t, "C@Example.com", time.Second)
	if m.From != "a@example.com" || !slices.Equal(m.To, []string{"b@example.com", "c@example.com"}) || m.AuthUser != "anyone" {
		t.Errorf("envelope: %+v", m)
	}
	if m.Subject != "One" || m.Body != longLink+"\n" || string(m.Raw) != raw {
		t.Errorf("content: subject %q body %q", m.Subject, m.Body)
	}
	if links := mailtest.Links(m.Body); !slices.Equal(links, []string{longLink}) {
		t.Errorf("links = %q", links)
	}
}

func TestSinkAuth(t *testing.T) {
	tests := []struct {
		name    string
		auth    sasl.Client
		wantErr bool
	}{
		{"right credentials", sasl.NewPlainClient("", "mailer", "s3cret"), false},
		{"wrong password", sasl.NewPlainClient("", "mailer", "nope"), true},
		{"no auth", nil, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := mailtest.NewSink(t, mailtest.WithAuth("mailer", "s3cret"))
			err := send(s, tt.auth, "a@example.com", []string{"b@example.com"}, "Subject: x\r\n\r\nx\r\n")
			if (err != nil) != tt.wantErr {
				t.Fatalf("err = %v, wantErr %v", err, tt.wantErr)
			}
			if n := len(s.Messages()); (n == 1) == tt.wantErr {
				t.Errorf("%d messages stored", n)
			}
		})
	}
}

func TestSinkRejectsRecipientAndBadMessages(t *testing.T) {
	s := mailtest.NewSink(t, mailtest.WithRejectRecipient("gone@example.com"))
	err := send(s, nil, "a@example.com", []string{"GONE@example.com"}, "Subject: x\r\n\r\nx\r\n")
	var se *smtp.SMTPError
	if !errors.As(err, &se) || se.Code != 550 {
		t.Errorf("rejected recipient: err = %v, want 550", err)
	}
	err = send(s, nil, "a@example.com", []string{"b@example.com"}, "Subject: x\r\nContent-Type: text/html\r\n\r\n<p>x</p>\r\n")
	if !errors.As(err, &se) || se.Code != 554 {
		t.Errorf("unreadable message: err = %v, want 554", err)
	}
	if n := len(s.Messages()); n != 0 {
		t.Errorf("%d messages stored", n)
	}
}

func TestWaitFor(t *testing.T) {
	s := mailtest.NewSink(t)
	for i, subject := range []string{"old", "other", "new"} {
		to := "r@example.com"
		if subject == "other" {
			to = "x@example.com"
		}
		if err := send(s, nil, "a@example.com", []string{to}, "Subject: "+subject+"\r\n\r\nbody\r\n"); err != nil {
			t.Fatalf("message %d: %v", i, err)
		}
	}
	if m := s.WaitFor(t, "r@example.com", time.Second); m.Subject != "new" {
		t.Errorf("WaitFor gave %q, want the newest", m.Subject)
	}

	// A message that arrives while waiting.
	var wg sync.WaitGroup
	wg.Go(func() {
		time.Sleep(50 * time.Millisecond)
		if err := send(s, nil, "a@example.com", []string{"late@example.com"}, "Subject: late\r\n\r\nx\r\n"); err != nil {
			t.Errorf("late send: %v", err)
		}
	})
	if m := s.WaitFor(t, "late@example.com", 5*time.Second); m.Subject != "late" {
		t.Errorf("late message: %q", m.Subject)
	}
	wg.Wait()

	// Nobody writes: the test is failed, after the timeout and not before.
	ft := &fatalRecorder{TB: t}
	start := time.Now()
	s.WaitFor(ft, "nobody@example.com", 100*time.Millisecond)
	if !ft.failed || !strings.Contains(ft.msg, "nobody@example.com") {
		t.Errorf("no Fatal on timeout (msg %q)", ft.msg)
	}
	if d := time.Since(start); d < 100*time.Millisecond {
		t.Errorf("gave up after %s", d)
	}
}

// fatalRecorder records Fatalf instead of ending the test.
type fatalRecorder struct {
	testing.TB
	failed bool
	msg    string
}

func (f *fatalRecorder) Fatalf(format string, args ...any) {
	f.failed, f.msg = true, fmt.Sprintf(format, args...)
}

func (f *fatalRecorder) Helper() {}

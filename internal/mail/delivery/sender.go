package delivery

import (
	"context"
	"crypto/rand"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"strconv"
	"strings"
	"time"

	gomail "github.com/wneessen/go-mail"

	"usersorchestrator/internal/registration"
)

// Sender delivers one email. An error wrapping ErrPermanent means retrying cannot help.
type Sender interface {
	Send(ctx context.Context, e registration.Email) error
}

// ErrPermanent marks a delivery that will never succeed as it is (an address that does not
// parse, a 5xx answer from the server): the Worker gives up at once instead of retrying.
var ErrPermanent = errors.New("mail: permanent delivery failure")

// The TLS modes of SMTPConfig.TLS.
const (
	// TLSNone sends in clear. Credentials are then only sent to a server on localhost (go-mail
	// refuses PLAIN/LOGIN over an unencrypted connection to anything else).
	TLSNone = "none"
	// TLSStartTLS upgrades the connection with STARTTLS and fails when the server cannot.
	TLSStartTLS = "starttls"
	// TLSImplicit speaks TLS from the first byte (SMTPS, usually port 465).
	TLSImplicit = "tls"
)

// DefaultSMTPTimeout bounds one delivery (connect, TLS, auth and the SMTP dialogue).
const DefaultSMTPTimeout = 10 * time.Second

// SMTPConfig says how to reach the SMTP server.
type SMTPConfig struct {
	Host string
	// Port defaults by TLS mode: 25 for "none", 587 for "starttls", 465 for "tls".
	Port int
	// Username and Password enable SMTP AUTH when Username is set.
	Username, Password string
	// TLS is "none", "starttls" or "tls"; "" means "starttls", the safe choice.
	TLS string
	// Timeout bounds one delivery; default DefaultSMTPTimeout.
	Timeout time.Duration
	// HELO is the name given in EHLO; default the machine's host name.
	HELO string
	// TLSConfig, optional, replaces the default TLS settings (system roots, ServerName = Host):
	// for a relay behind a private CA, and for tests that trust a sink's own certificate.
	TLSConfig *tls.Config
}

// SMTPSender sends through one SMTP server with go-mail, one connection per email: the outbox
// is low volume and a fresh connection never trips over a server's idle timeout.
type SMTPSender struct {
	client *gomail.Client
	addr   string
}

var _ Sender = (*SMTPSender)(nil)

// NewSMTPSender checks cfg and builds the client; nothing is dialled until Send.
func NewSMTPSender(cfg SMTPConfig) (*SMTPSender, error) {
	if strings.TrimSpace(cfg.Host) == "" {
		return nil, errors.New("mail: SMTP host is empty")
	}
	mode := strings.ToLower(strings.TrimSpace(cfg.TLS))
	if mode == "" {
		mode = TLSStartTLS
	}
	port := cfg.Port
	var opts []gomail.Option
	switch mode {
	case TLSNone:
		opts = append(opts, gomail.WithTLSPolicy(gomail.NoTLS))
		if port == 0 {
			port = 25
		}
	case TLSStartTLS:
		opts = append(opts, gomail.WithTLSPolicy(gomail.TLSMandatory))
		if port == 0 {
			port = 587
		}
	case TLSImplicit:
		opts = append(opts, gomail.WithSSL())
		if port == 0 {
			port = 465
		}
	default:
		return nil, fmt.Errorf("mail: SMTP TLS mode %q is not one of none, starttls, tls", cfg.TLS)
	}
	if port < 1 || port > 65535 {
		return nil, fmt.Errorf("mail: SMTP port %d is out of range", port)
	}
	timeout := cfg.Timeout
	if timeout <= 0 {
		timeout = DefaultSMTPTimeout
	}
	opts = append(opts, gomail.WithPort(port), gomail.WithTimeout(timeout))
	if cfg.HELO != "" {
		opts = append(opts, gomail.WithHELO(cfg.HELO))
	}
	if cfg.TLSConfig != nil {
		tc := cfg.TLSConfig.Clone()
		if tc.ServerName == "" {
			tc.ServerName = cfg.Host
		}
		opts = append(opts, gomail.WithTLSConfig(tc))
	}
	if cfg.Username != "" {
		// Over TLS, let go-mail pick the strongest mechanism the server offers. In clear, only
		// PLAIN, which go-mail sends to localhost alone (a local relay or a test sink): a
		// password never crosses a network unencrypted.
		auth := gomail.SMTPAuthAutoDiscover
		if mode == TLSNone {
			auth = gomail.SMTPAuthPlain
		}
		opts = append(opts, gomail.WithSMTPAuth(auth),
			gomail.WithUsername(cfg.Username), gomail.WithPassword(cfg.Password))
	}
	c, err := gomail.NewClient(cfg.Host, opts...)
	if err != nil {
		return nil, fmt.Errorf("mail: SMTP client: %w", err)
	}
	return &SMTPSender{client: c, addr: net.JoinHostPort(cfg.Host, strconv.Itoa(port))}, nil
}

// Send delivers e. Only ctx's deadline and cancellation of the dial are honoured by go-mail;
// the conversation itself is bounded by SMTPConfig.Timeout. Errors name the server and the
// addresses, never the body.
func (s *SMTPSender) Send(ctx context.Context, e registration.Email) error {
	m, err := message(e)
	if err != nil {
		return err
	}
	if err := s.client.DialAndSendWithContext(ctx, m); err != nil {
		if permanent(err) {
			return fmt.Errorf("%w: smtp %s: %w", ErrPermanent, s.addr, err)
		}
		return fmt.Errorf("mail: smtp %s: %w", s.addr, err)
	}
	return nil
}

// permanent tells a refusal of this very message (5xx to RCPT TO: no such mailbox; 5xx at the
// end of DATA: content refused) from everything else. A 5xx to AUTH or MAIL FROM (bad
// credentials, a sender the relay does not allow) is the configuration's fault and clears once
// it is fixed, so those mails keep being retried rather than parked.
func permanent(err error) bool {
	var se *gomail.SendError
	if !errors.As(err, &se) || se.ErrorCode() < 500 || se.ErrorCode() > 599 {
		return false
	}
	return se.Reason == gomail.ErrSMTPRcptTo || se.Reason == gomail.ErrSMTPDataClose
}

// message builds the MIME message: UTF-8 plain text, quoted-printable, so long links survive
// any relay's line-length limit.
func message(e registration.Email) (*gomail.Msg, error) {
	m := gomail.NewMsg(gomail.WithNoDefaultUserAgent())
	if err := m.From(e.From); err != nil {
		return nil, fmt.Errorf("%w: sender address: %w", ErrPermanent, err)
	}
	if err := m.To(e.To); err != nil {
		return nil, fmt.Errorf("%w: recipient address: %w", ErrPermanent, err)
	}
	// Subjects from the outbox are composed by this package and hold no line breaks; flatten
	// again anyway, since a row could have been written by something else.
	m.Subject(oneLine(e.Subject))
	m.SetDate()
	m.SetMessageIDWithValue(messageID(e))
	// RFC 3834: tells auto-responders (vacation replies) not to answer.
	m.SetGenHeader(gomail.Header("Auto-Submitted"), "auto-generated")
	m.SetBodyString(gomail.TypeTextPlain, e.Body)
	return m, nil
}

// messageID uses the sender's domain rather than go-mail's default (this machine's host name),
// which says nothing about who sent the mail and can leak internal names.
func messageID(e registration.Email) string {
	domain := "localhost"
	if at := strings.LastIndex(e.From, "@"); at >= 0 {
		if d := strings.TrimRight(e.From[at+1:], "> "); d != "" {
			domain = d
		}
	}
	return fmt.Sprintf("%d.%s@%s", e.ID, rand.Text(), domain)
}

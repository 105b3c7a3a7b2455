// Package mailtest is a real SMTP server for tests: it listens on 127.0.0.1, accepts every
// message (with any credentials, or none, unless told otherwise), decodes it the way a mail
// client would, and lets a test wait for the message sent to an address and follow its links.
package mailtest

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"math/big"
	"mime"
	"mime/multipart"
	"mime/quotedprintable"
	"net"
	"net/mail"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-sasl"
	"github.com/emersion/go-smtp"
)

// Message is one message the sink received.
type Message struct {
	// From and To are the SMTP envelope (MAIL FROM, RCPT TO): bare addresses.
	From string
	To   []string
	// Subject is the decoded Subject header.
	Subject string
	// Body is the decoded text/plain body (the text/plain part of a multipart message), with
	// line ends normalised to "\n".
	Body string
	// Raw is the message as received.
	Raw []byte
	// AuthUser is the user name the client authenticated with, "" when it did not.
	AuthUser string
}

// Option configures a Sink.
type Option func(*config)

type config struct {
	user, pass    string
	tlsMode       string // "", "starttls", "tls"
	rejectRcpt    map[string]bool
	maxMessageLen int64
}

// WithAuth makes the sink require AUTH PLAIN with exactly these credentials.
func WithAuth(username, password string) Option {
	return func(c *config) { c.user, c.pass = username, password }
}

// WithSTARTTLS makes the sink offer STARTTLS with a self-signed certificate; see ClientTLSConfig.
func WithSTARTTLS() Option { return func(c *config) { c.tlsMode = "starttls" } }

// WithImplicitTLS makes the sink speak TLS from the first byte (SMTPS); see ClientTLSConfig.
func WithImplicitTLS() Option { return func(c *config) { c.tlsMode = "tls" } }

// WithRejectRecipient makes the sink answer RCPT TO for addr with 550 5.1.1, as a server does
// for a mailbox that does not exist.
func WithRejectRecipient(addr string) Option {
	return func(c *config) { c.rejectRcpt[strings.ToLower(addr)] = true }
}

// Sink is a running SMTP server. It is safe for concurrent use.
type Sink struct {
	cfg       config
	host      string
	port      int
	clientTLS *tls.Config

	mu       sync.Mutex
	messages []Message
	changed  chan struct{} // closed and replaced on every new message
	logTo    testing.TB    // nil once the test is over
}

// NewSink starts a sink on 127.0.0.1 at a free port; it is closed when the test ends.
func NewSink(t testing.TB, opts ...Option) *Sink {
	t.Helper()
	s := &Sink{
		cfg:     config{rejectRcpt: map[string]bool{}, maxMessageLen: 10 << 20},
		changed: make(chan struct{}),
		logTo:   t,
	}
	for _, o := range opts {
		o(&s.cfg)
	}

	srv := smtp.NewServer(smtp.BackendFunc(func(*smtp.Conn) (smtp.Session, error) {
		return &session{sink: s}, nil
	}))
	srv.Domain = "mailtest.localhost"
	srv.AllowInsecureAuth = true
	srv.MaxMessageBytes = s.cfg.maxMessageLen
	srv.ReadTimeout = 10 * time.Second
	srv.WriteTimeout = 10 * time.Second
	srv.ErrorLog = sinkLogger{s}

	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("mailtest: listen: %v", err)
	}
	if s.cfg.tlsMode != "" {
		serverTLS, clientTLS, err := selfSigned()
		if err != nil {
			_ = ln.Close()
			t.Fatalf("mailtest: certificate: %v", err)
		}
		s.clientTLS = clientTLS
		if s.cfg.tlsMode == "tls" {
			ln = tls.NewListener(ln, serverTLS)
		} else {
			srv.TLSConfig = serverTLS
		}
	}
	addr := ln.Addr().(*net.TCPAddr)
	s.host, s.port = addr.IP.String(), addr.Port

	served := make(chan struct{})
	go func() {
		defer close(served)
		if err := srv.Serve(ln); err != nil {
			s.logf("mailtest: serve: %v", err)
		}
	}()
	t.Cleanup(func() {
		_ = srv.Close()
		// Serve may not have registered ln with the server yet; closing it here as well makes
		// sure Serve returns either way.
		_ = ln.Close()
		<-served
		s.mu.Lock()
		s.logTo = nil // connection goroutines may still log; t.Logf would panic after the test
		s.mu.Unlock()
	})
	return s
}

// Host is the address the sink listens on ("127.0.0.1").
func (s *Sink) Host() string { return s.host }

// Port is the sink's port.
func (s *Sink) Port() int { return s.port }

// ClientTLSConfig is a client configuration that trusts the sink's certificate (nil without
// WithSTARTTLS or WithImplicitTLS).
func (s *Sink) ClientTLSConfig() *tls.Config {
	if s.clientTLS == nil {
		return nil
	}
	return s.clientTLS.Clone()
}

// Messages returns every message received so far, oldest first.
func (s *Sink) Messages() []Message {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.messages)
}

// WaitFor returns the newest message whose envelope recipients include to (ignoring case),
// waiting up to timeout for one to arrive; the test fails if none does.
func (s *Sink) WaitFor(t testing.TB, to string, timeout time.Duration) Message {
	t.Helper()
	deadline := time.NewTimer(timeout)
	defer deadline.Stop()
	for {
		s.mu.Lock()
		for i := len(s.messages) - 1; i >= 0; i-- {
			if slices.ContainsFunc(s.messages[i].To, func(a string) bool { return strings.EqualFold(a, to) }) {
				m := s.messages[i]
				s.mu.Unlock()
				return m
			}
		}
		changed, n := s.changed, len(s.messages)
		s.mu.Unlock()
		select {
		case <-changed:
		case <-deadline.C:
			t.Fatalf("mailtest: no message to %s within %s (%d other messages received)", to, timeout, n)
			return Message{}
		}
	}
}

// urlPattern matches http(s) URLs up to the first space or character that cannot be part of
// one in running text.
var urlPattern = regexp.MustCompile(`https?://[^\s<>"'` + "`" + `]+`)

// Links returns every http(s) URL in body, in order, without sentence punctuation that
// follows them ("see https://x/y." gives https://x/y).
func Links(body string) []string {
	var links []string
	for _, u := range urlPattern.FindAllString(body, -1) {
		u = strings.TrimRight(u, ".,;:!?)]}")
		if u != "" {
			links = append(links, u)
		}
	}
	return links
}

func (s *Sink) add(m Message) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.messages = append(s.messages, m)
	close(s.changed)
	s.changed = make(chan struct{})
}

func (s *Sink) logf(format string, args ...any) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.logTo != nil {
		s.logTo.Logf(format, args...)
	}
}

// sinkLogger sends go-smtp's error log to the test's log while the test runs.
type sinkLogger struct{ s *Sink }

func (l sinkLogger) Printf(format string, v ...any) { l.s.logf("mailtest: "+format, v...) }
func (l sinkLogger) Println(v ...any)               { l.s.logf("mailtest: %s", fmt.Sprintln(v...)) }

// session is one SMTP connection.
type session struct {
	sink     *Sink
	authUser string
	from     string
	to       []string
}

var _ smtp.AuthSession = (*session)(nil)

func (c *session) AuthMechanisms() []string { return []string{sasl.Plain} }

func (c *session) Auth(string) (sasl.Server, error) {
	return sasl.NewPlainServer(func(_, username, password string) error {
		cfg := c.sink.cfg
		if cfg.user != "" && (username != cfg.user || password != cfg.pass) {
			return smtp.ErrAuthFailed
		}
		c.authUser = username
		return nil
	}), nil
}

func (c *session) Mail(from string, _ *smtp.MailOptions) error {
	if c.sink.cfg.user != "" && c.authUser == "" {
		return smtp.ErrAuthRequired
	}
	c.from, c.to = from, nil
	return nil
}

func (c *session) Rcpt(to string, _ *smtp.RcptOptions) error {
	if c.sink.cfg.rejectRcpt[strings.ToLower(to)] {
		return &smtp.SMTPError{Code: 550, EnhancedCode: smtp.EnhancedCode{5, 1, 1}, Message: "No such user here"}
	}
	c.to = append(c.to, to)
	return nil
}

func (c *session) Data(r io.Reader) error {
	raw, err := io.ReadAll(r)
	if err != nil {
		return err
	}
	m, err := Parse(raw)
	if err != nil {
		// A message the sink cannot read is a bug in the sender: fail the send loudly.
		return &smtp.SMTPError{Code: 554, EnhancedCode: smtp.EnhancedCode{5, 6, 0}, Message: "mailtest: " + err.Error()}
	}
	m.From, m.To, m.AuthUser = c.from, slices.Clone(c.to), c.authUser
	c.sink.add(m)
	return nil
}

func (c *session) Reset() { c.from, c.to = "", nil }

func (c *session) Logout() error { return nil }

// Parse decodes a raw message: the Subject (RFC 2047 words) and the text/plain body, whatever
// its transfer encoding. From and To are left to the caller (the sink uses the envelope).
func Parse(raw []byte) (Message, error) {
	msg, err := mail.ReadMessage(bytes.NewReader(raw))
	if err != nil {
		return Message{}, fmt.Errorf("read message: %w", err)
	}
	var dec mime.WordDecoder
	subject, err := dec.DecodeHeader(msg.Header.Get("Subject"))
	if err != nil {
		return Message{}, fmt.Errorf("subject: %w", err)
	}
	body, err := textBody(msg.Header.Get("Content-Type"), msg.Header.Get("Content-Transfer-Encoding"), msg.Body)
	if err != nil {
		return Message{}, err
	}
	return Message{Subject: subject, Body: body, Raw: raw}, nil
}

var errNoText = errors.New("no text/plain part")

// textBody finds the text/plain content, descending into multipart containers.
func textBody(contentType, encoding string, r io.Reader) (string, error) {
	if contentType == "" {
		contentType = "text/plain; charset=us-ascii" // RFC 2045 default
	}
	mediaType, params, err := mime.ParseMediaType(contentType)
	if err != nil {
		return "", fmt.Errorf("content type %q: %w", contentType, err)
	}
	switch {
	case strings.HasPrefix(mediaType, "multipart/"):
		mr := multipart.NewReader(r, params["boundary"])
		for {
			// NextRawPart keeps the transfer encoding for us to decode, as for a single part.
			p, err := mr.NextRawPart()
			if errors.Is(err, io.EOF) {
				return "", errNoText
			}
			if err != nil {
				return "", fmt.Errorf("multipart: %w", err)
			}
			body, err := textBody(p.Header.Get("Content-Type"), p.Header.Get("Content-Transfer-Encoding"), p)
			if errors.Is(err, errNoText) {
				continue
			}
			return body, err
		}
	case mediaType == "text/plain":
		switch cs := strings.ToLower(params["charset"]); cs {
		case "", "utf-8", "us-ascii":
		default:
			return "", fmt.Errorf("charset %q not supported by mailtest", cs)
		}
		b, err := decode(encoding, r)
		if err != nil {
			return "", err
		}
		return strings.ReplaceAll(string(b), "\r\n", "\n"), nil
	default:
		return "", errNoText
	}
}

func decode(encoding string, r io.Reader) ([]byte, error) {
	switch strings.ToLower(strings.TrimSpace(encoding)) {
	case "", "7bit", "8bit", "binary":
		return io.ReadAll(r)
	case "quoted-printable":
		b, err := io.ReadAll(quotedprintable.NewReader(r))
		if err != nil {
			return nil, fmt.Errorf("quoted-printable: %w", err)
		}
		return b, nil
	case "base64":
		b, err := io.ReadAll(r)
		if err != nil {
			return nil, err
		}
		clean := strings.Map(func(r rune) rune {
			if r == '\r' || r == '\n' || r == ' ' || r == '\t' {
				return -1
			}
			return r
		}, string(b))
		out, err := base64.StdEncoding.DecodeString(clean)
		if err != nil {
			return nil, fmt.Errorf("base64: %w", err)
		}
		return out, nil
	default:
		return nil, fmt.Errorf("transfer encoding %q not supported", encoding)
	}
}

// selfSigned makes a certificate for 127.0.0.1 and localhost, and the client configuration
// that trusts it.
func selfSigned() (server, client *tls.Config, err error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, nil, err
	}
	tmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(time.Now().UnixNano()),
		Subject:               pkix.Name{CommonName: "mailtest"},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(24 * time.Hour),
		KeyUsage:              x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		BasicConstraintsValid: true,
		IsCA:                  true,
		IPAddresses:           []net.IP{net.IPv4(127, 0, 0, 1)},
		DNSNames:              []string{"localhost"},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return nil, nil, err
	}
	leaf, err := x509.ParseCertificate(der)
	if err != nil {
		return nil, nil, err
	}
	pool := x509.NewCertPool()
	pool.AddCert(leaf)
	server = &tls.Config{
		Certificates: []tls.Certificate{{Certificate: [][]byte{der}, PrivateKey: key, Leaf: leaf}},
		MinVersion:   tls.VersionTLS12,
	}
	client = &tls.Config{RootCAs: pool, ServerName: "127.0.0.1", MinVersion: tls.VersionTLS12}
	return server, client, nil
}

var _ smtp.Logger = sinkLogger{}

// Package mailsink is the soak's SMTP server: it listens on 127.0.0.1, accepts every message,
// and keeps, per recipient, the subjects and text bodies it received, so that the soak can check
// that every email the service owed was delivered at least once (and read a verification code out
// of one). It is mailtest.Sink without the testing.TB: the soak is a command, not a test.
package mailsink

import (
	"io"
	"log"
	"net"
	"strings"
	"sync"
	"time"

	"github.com/emersion/go-smtp"

	"usersorchestrator/internal/mail/mailtest"
)

// Message is one delivered message, to one recipient.
type Message struct {
	Subject, Body string
	At            time.Time
}

// Sink is a running SMTP server; safe for concurrent use.
type Sink struct {
	srv  *smtp.Server
	ln   net.Listener
	port int
	done chan struct{}

	mu    sync.Mutex
	byRcp map[string][]Message
	total int
}

// Start listens on 127.0.0.1 at a free port.
func Start(errLog *log.Logger) (*Sink, error) {
	s := &Sink{byRcp: map[string][]Message{}, done: make(chan struct{})}
	s.srv = smtp.NewServer(smtp.BackendFunc(func(*smtp.Conn) (smtp.Session, error) {
		return &session{sink: s}, nil
	}))
	s.srv.Domain = "soak.localhost"
	s.srv.AllowInsecureAuth = true
	s.srv.ReadTimeout = 10 * time.Second
	s.srv.WriteTimeout = 10 * time.Second
	s.srv.ErrorLog = errLog
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	s.ln = ln
	s.port = ln.Addr().(*net.TCPAddr).Port
	go func() {
		defer close(s.done)
		_ = s.srv.Serve(ln)
	}()
	return s, nil
}

// Port is where the sink listens.
func (s *Sink) Port() int { return s.port }

// Close stops the server.
func (s *Sink) Close() error {
	err := s.srv.Close()
	_ = s.ln.Close()
	<-s.done
	return err
}

// To returns the messages delivered to addr (ignoring case), oldest first.
func (s *Sink) To(addr string) []Message {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Message(nil), s.byRcp[strings.ToLower(addr)]...)
}

// Total is the number of deliveries (one per recipient of each message).
func (s *Sink) Total() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.total
}

func (s *Sink) add(to []string, m Message) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, a := range to {
		a = strings.ToLower(a)
		s.byRcp[a] = append(s.byRcp[a], m)
		s.total++
	}
}

type session struct {
	sink *Sink
	to   []string
}

func (c *session) AuthMechanisms() []string { return nil }

func (c *session) Mail(string, *smtp.MailOptions) error { c.to = nil; return nil }

func (c *session) Rcpt(to string, _ *smtp.RcptOptions) error {
	c.to = append(c.to, to)
	return nil
}

func (c *session) Data(r io.Reader) error {
	raw, err := io.ReadAll(r)
	if err != nil {
		return err
	}
	m, err := mailtest.Parse(raw)
	if err != nil {
		// Refused, so the service keeps it in its outbox and the soak sees a backlog.
		return &smtp.SMTPError{Code: 554, EnhancedCode: smtp.EnhancedCode{5, 6, 0}, Message: "mailsink: " + err.Error()}
	}
	c.sink.add(c.to, Message{Subject: m.Subject, Body: m.Body, At: time.Now()})
	return nil
}

func (c *session) Reset() { c.to = nil }

func (c *session) Logout() error { return nil }

// Package restusertest is a recording stand-in for a provider speaking the restuser contract,
// for the unit tests of restuser, ssor and firefly: it answers what a test scripts and keeps
// every request, so a test can assert the exact calls an adapter made.
package restusertest

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"reflect"
	"sync"
	"testing"
	"time"
)

// Request is one request as the server received it.
type Request struct {
	Method string
	// Path is the escaped path as sent.
	Path   string
	Query  url.Values
	Header http.Header
	Body   []byte
}

// Reply is what the server answers.
type Reply struct {
	Status int
	Header http.Header
	Body   string
	// Delay holds the answer back (or until the client gives up), to provoke timeouts.
	Delay time.Duration
}

// JSON is a reply with a JSON body.
func JSON(status int, body string) Reply {
	return Reply{Status: status, Header: http.Header{"Content-Type": {"application/json"}}, Body: body}
}

// Error is a reply with the contract's error object.
func Error(status int, code string) Reply {
	b, _ := json.Marshal(map[string]any{"error": code, "message": "scripted " + code, "status": status})
	return JSON(status, string(b))
}

// Server records requests and answers them with reply.
type Server struct {
	URL string

	mu       sync.Mutex
	requests []Request
}

// New starts a server that answers every request with reply(request); it stops with the test.
func New(t testing.TB, reply func(Request) Reply) *Server {
	t.Helper()
	s := &Server{}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		req := Request{Method: r.Method, Path: r.URL.EscapedPath(), Query: r.URL.Query(), Header: r.Header.Clone(), Body: body}
		s.mu.Lock()
		s.requests = append(s.requests, req)
		s.mu.Unlock()
		rep := reply(req)
		if rep.Delay > 0 {
			select {
			case <-time.After(rep.Delay):
			case <-r.Context().Done():
				return
			}
		}
		for k, v := range rep.Header {
			w.Header()[k] = v
		}
		if rep.Status == 0 {
			rep.Status = http.StatusOK
		}
		w.WriteHeader(rep.Status)
		_, _ = io.WriteString(w, rep.Body)
	}))
	t.Cleanup(srv.Close)
	s.URL = srv.URL
	return s
}

// Always answers every request with r.
func Always(r Reply) func(Request) Reply {
	return func(Request) Reply { return r }
}

// Requests returns the requests received so far.
func (s *Server) Requests() []Request {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Request(nil), s.requests...)
}

// Only returns the single request received, failing the test when there were none or several.
func (s *Server) Only(t testing.TB) Request {
	t.Helper()
	reqs := s.Requests()
	if len(reqs) != 1 {
		t.Fatalf("%d requests, want exactly 1", len(reqs))
	}
	return reqs[0]
}

// CheckBody fails the test unless the request body is JSON equal to want (a JSON text); an
// empty want means no body at all.
func CheckBody(t testing.TB, r Request, want string) {
	t.Helper()
	if want == "" {
		if len(r.Body) != 0 {
			t.Errorf("body %s, want none", r.Body)
		}
		return
	}
	var got, exp any
	if err := json.Unmarshal(r.Body, &got); err != nil {
		t.Fatalf("body %q is not JSON: %v", r.Body, err)
	}
	if err := json.Unmarshal([]byte(want), &exp); err != nil {
		t.Fatalf("bad expectation %q: %v", want, err)
	}
	if !reflect.DeepEqual(got, exp) {
		t.Errorf("body %s, want %s", r.Body, want)
	}
	if ct := r.Header.Get("Content-Type"); ct != "application/json" {
		t.Errorf("Content-Type %q, want application/json", ct)
	}
}

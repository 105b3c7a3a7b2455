package wiremock

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"strconv"
	"strings"
	"sync"
	"testing"
)

// Process owns servers that live as long as the test binary rather than one test: a TestMain
// starts them (Start may run concurrently) and stops them with Close after m.Run. Starting a JVM
// costs seconds of CPU, so a package whose tests take turns on one server (each resetting it)
// starts it once instead of once per test.
type Process struct {
	tb processTB
}

// Start runs a WireMock on a copy of mocksDir, as the package's Start does for a test, and returns
// an error instead of failing a test.
func (p *Process) Start(mocksDir string) (srv *Server, err error) {
	defer func() {
		if r := recover(); r != nil {
			f, ok := r.(processFatal)
			if !ok {
				panic(r)
			}
			err = errors.New(f.msg)
		}
	}()
	return Start(&p.tb, mocksDir), nil
}

// Close stops every server Start began, newest first. The error says which stop failed, with what
// the servers and testcontainers logged.
func (p *Process) Close() error {
	p.tb.runCleanups()
	if p.tb.Failed() {
		return fmt.Errorf("wiremock: stopping the servers failed:\n%s", p.tb.log())
	}
	return nil
}

// Log is what the harness and testcontainers logged so far (start times, failures).
func (p *Process) Log() string { return p.tb.log() }

// processTB is the testing.TB the process-wide servers are started with. Only the methods Start and
// testcontainers call are implemented; the embedded nil TB makes any other call panic loudly.
type processTB struct {
	testing.TB
	mu       sync.Mutex
	cleanups []func()
	failed   bool
	out      strings.Builder
}

// processFatal carries a Fatalf out of Start to Process.Start.
type processFatal struct{ msg string }

func (h *processTB) Helper()      {}
func (h *processTB) Name() string { return "wiremock-process" }
func (h *processTB) Cleanup(f func()) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.cleanups = append(h.cleanups, f)
}
func (h *processTB) Logf(format string, args ...any) {
	h.mu.Lock()
	defer h.mu.Unlock()
	fmt.Fprintf(&h.out, format+"\n", args...)
}
func (h *processTB) Log(args ...any) { h.Logf("%s", fmt.Sprint(args...)) }
func (h *processTB) Errorf(format string, args ...any) {
	h.Logf("ERROR: "+format, args...)
	h.Fail()
}
func (h *processTB) Error(args ...any) { h.Errorf("%s", fmt.Sprint(args...)) }
func (h *processTB) Fatalf(format string, args ...any) {
	h.Errorf(format, args...)
	panic(processFatal{fmt.Sprintf(format, args...)})
}
func (h *processTB) Fatal(args ...any) { h.Fatalf("%s", fmt.Sprint(args...)) }
func (h *processTB) FailNow()          { h.Fatalf("FailNow") }
func (h *processTB) Fail() {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.failed = true
}
func (h *processTB) Failed() bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.failed
}
func (h *processTB) Context() context.Context { return context.Background() }
func (h *processTB) TempDir() string {
	dir, err := os.MkdirTemp("", "uo-wiremock-")
	if err != nil {
		h.Fatalf("temp dir: %v", err)
	}
	h.Cleanup(func() { _ = os.RemoveAll(dir) })
	return dir
}

func (h *processTB) runCleanups() {
	h.mu.Lock()
	cs := h.cleanups
	h.cleanups = nil
	h.mu.Unlock()
	for i := len(cs) - 1; i >= 0; i-- {
		cs[i]()
	}
}

func (h *processTB) log() string {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.out.String()
}

// Shared is one server for a whole test binary, started by the first test that asks for it: the
// tests of a package take turns on it (none of them may run in parallel with another user) instead
// of each starting its own. TestMain must call Main, which stops it after the tests.
type Shared struct {
	dir  string
	proc Process
	once sync.Once
	srv  *Server
	err  error
}

// NewShared describes the server of mocksDir; nothing starts before the first Server call, so a
// run that selects none of the tests needing it starts no JVM.
func NewShared(mocksDir string) *Shared { return &Shared{dir: mocksDir} }

// Server returns the shared server, started on first use and Reset for this test as if it were
// fresh: the file stubs only, an empty journal, every scenario at "Started". A server that cannot
// start fails every test that asks for it, with the reason.
func (s *Shared) Server(t testing.TB) *Server {
	t.Helper()
	s.once.Do(func() {
		s.srv, s.err = s.proc.Start(s.dir)
		if s.err == nil {
			t.Logf("wiremock: one server for the test binary: %s", strings.TrimSpace(s.proc.Log()))
		}
	})
	if s.err != nil {
		t.Fatalf("%v\n%s", s.err, s.proc.Log())
	}
	s.srv.Reset(t)
	return s.srv
}

// Main runs the tests and then stops the server if one of them started it; a failed stop fails
// the run. Use it as TestMain: func TestMain(m *testing.M) { os.Exit(mock.Main(m)) }.
func (s *Shared) Main(m *testing.M) int {
	code := m.Run()
	if err := s.proc.Close(); err != nil {
		fmt.Fprintln(os.Stderr, err)
		if code == 0 {
			code = 1
		}
	}
	return code
}

// MinParallel raises -test.parallel to n unless the command line set it; call it from TestMain
// before m.Run. The default is GOMAXPROCS (2 on the project's machines), but a test on a WireMock
// mostly waits (on Docker and the JVM starting, on delayed answers, on the server's replies), so
// more of them than cores can run at once without adding CPU work.
func MinParallel(n int) {
	flag.Parse()
	given := false
	flag.Visit(func(f *flag.Flag) { given = given || f.Name == "test.parallel" })
	f := flag.Lookup("test.parallel")
	if given || f == nil {
		return
	}
	if cur, err := strconv.Atoi(f.Value.String()); err == nil && cur < n {
		_ = f.Value.Set(strconv.Itoa(n))
	}
}

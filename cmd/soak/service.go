package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"time"

	"usersorchestrator/internal/bench"
	"usersorchestrator/internal/bench/proc"
)

// service is the release binary, run as a process (as cmd/bench does), that the soak can kill
// and start again on the same database.
type service struct {
	bin     string
	env     []string
	logPath string
	url     string

	proc *proc.Process
}

func newService(bin string, env map[string]string, logPath, url string) *service {
	return &service{bin: bin, env: proc.Env(env), logPath: logPath, url: url}
}

// start runs the binary (its log appended to logPath) and waits until /healthz answers.
func (s *service) start(ctx context.Context) error {
	p, err := proc.Start(s.bin, []string{"serve"}, s.env, s.logPath)
	if err != nil {
		return err
	}
	s.proc = p
	if err := proc.WaitReady(ctx, s.url+"/healthz", p, 30*time.Second, 20*time.Millisecond); err != nil {
		return fmt.Errorf("service: %w (log %s)", err, s.logPath)
	}
	return nil
}

func (s *service) pid() int { return s.proc.Pid() }

// kill sends SIGKILL: no shutdown hook runs, as in a power cut of the process.
func (s *service) kill() { s.proc.Kill() }

// stop ends the process gracefully (SIGTERM), or kills it after 20 s.
func (s *service) stop() {
	if s.proc != nil {
		s.proc.Stop(20 * time.Second)
	}
}

// api sends the five required headers and reads the answer.
type api struct {
	base, token string
	http        *http.Client
}

type answer struct {
	status int
	body   []byte
}

func (a *api) call(ctx context.Context, method, path string, body any) (answer, error) {
	var rdr io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return answer{}, err
		}
		rdr = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, a.base+path, rdr)
	if err != nil {
		return answer{}, err
	}
	bench.SetHeaders(req, a.token, "Soak", body != nil)
	resp, err := a.http.Do(req)
	if err != nil {
		return answer{}, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return answer{status: resp.StatusCode}, err
	}
	return answer{status: resp.StatusCode, body: b}, nil
}

// expect is call that wants status want; anything else is an error carrying the answer.
func (a *api) expect(ctx context.Context, want int, method, path string, body any) (answer, error) {
	ans, err := a.call(ctx, method, path, body)
	if err != nil {
		return ans, err
	}
	if ans.status != want {
		b := ans.body
		if len(b) > 300 {
			b = b[:300]
		}
		return ans, fmt.Errorf("%s %s: status %d, want %d: %s", method, path, ans.status, want, b)
	}
	return ans, nil
}

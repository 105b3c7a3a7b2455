package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"time"
)

// service is the release binary, run as a process (as cmd/bench does), that the soak can kill
// and start again on the same database.
type service struct {
	bin     string
	env     []string
	logPath string
	url     string

	cmd  *exec.Cmd
	done chan struct{}
	err  error
	log  *os.File
}

func newService(bin string, env map[string]string, logPath, url string) *service {
	s := &service{bin: bin, logPath: logPath, url: url}
	// Our environment without any UO_* (a developer's settings must not leak in), plus env.
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "UO_") {
			s.env = append(s.env, kv)
		}
	}
	for k, v := range env {
		s.env = append(s.env, k+"="+v)
	}
	return s
}

// start runs the binary (its log appended to logPath) and waits until /healthz answers.
func (s *service) start(ctx context.Context) error {
	f, err := os.OpenFile(s.logPath, os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o600)
	if err != nil {
		return err
	}
	cmd := exec.Command(s.bin, "serve")
	cmd.Env = s.env
	cmd.Stdout, cmd.Stderr = f, f
	if err := cmd.Start(); err != nil {
		f.Close()
		return fmt.Errorf("start %s: %w", s.bin, err)
	}
	s.cmd, s.log, s.done, s.err = cmd, f, make(chan struct{}), nil
	go func() {
		s.err = cmd.Wait()
		close(s.done)
	}()
	client := &http.Client{Timeout: time.Second}
	deadline := time.Now().Add(30 * time.Second)
	for {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, s.url+"/healthz", nil)
		if err != nil {
			return err
		}
		if resp, err := client.Do(req); err == nil {
			_, _ = io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
		}
		select {
		case <-s.done:
			return fmt.Errorf("service exited: %v (log %s)", s.err, s.logPath)
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(20 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("service not ready after 30 s (log %s)", s.logPath)
		}
	}
}

func (s *service) pid() int { return s.cmd.Process.Pid }

// kill sends SIGKILL: no shutdown hook runs, as in a power cut of the process (not the
// machine: what the kernel already has of the files stays).
func (s *service) kill() {
	_ = s.cmd.Process.Signal(syscall.SIGKILL)
	<-s.done
	s.log.Close()
}

// stop ends the process gracefully (SIGTERM), or kills it after 20 s.
func (s *service) stop() {
	if s.cmd == nil {
		return
	}
	select {
	case <-s.done:
		return
	default:
	}
	_ = s.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-s.done:
	case <-time.After(20 * time.Second):
		_ = s.cmd.Process.Kill()
		<-s.done
	}
	s.log.Close()
}

func freePort() (int, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port, nil
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
	req.Header.Set("Authorization", "Bearer "+a.token)
	req.Header.Set("X-SourceSystem", "Soak")
	req.Header.Set("X-ClientCode", "demo")
	req.Header.Set("X-PaperCode", "demo")
	req.Header.Set("X-ClientGroupCode", "demo")
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
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

// registrationID reads data.customerRegistrationId from a create's answer.
func registrationID(b []byte) (string, error) {
	var env struct {
		Data struct {
			CustomerRegistrationID string `json:"customerRegistrationId"`
		} `json:"data"`
	}
	if err := json.Unmarshal(b, &env); err != nil {
		return "", err
	}
	if env.Data.CustomerRegistrationID == "" {
		return "", fmt.Errorf("no customerRegistrationId in %s", b)
	}
	return env.Data.CustomerRegistrationID, nil
}

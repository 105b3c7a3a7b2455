package proc

import (
	"context"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

func TestEnvDropsOurSettings(t *testing.T) {
	t.Setenv("UO_LISTEN", "0.0.0.0:80")
	t.Setenv("PROC_TEST_KEPT", "yes")
	env := Env(map[string]string{"UO_LOG_LEVEL": "warn"})
	if slices.Contains(env, "UO_LISTEN=0.0.0.0:80") {
		t.Error("a UO_* variable of the caller reached the child")
	}
	for _, want := range []string{"PROC_TEST_KEPT=yes", "UO_LOG_LEVEL=warn"} {
		if !slices.Contains(env, want) {
			t.Errorf("%s missing from %v", want, env)
		}
	}
}

func TestStartStopKill(t *testing.T) {
	sh, err := exec.LookPath("sh")
	if err != nil {
		t.Skip("no sh")
	}
	log := filepath.Join(t.TempDir(), "child.log")
	p, err := Start(sh, []string{"-c", "echo first; exec sleep 30"}, nil, log)
	if err != nil {
		t.Fatal(err)
	}
	for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
		if b, _ := os.ReadFile(log); len(b) > 0 {
			break
		}
	}
	start := time.Now()
	p.Stop(10 * time.Second)
	if time.Since(start) > 5*time.Second {
		t.Errorf("Stop waited %v: SIGTERM did not end the child", time.Since(start))
	}
	if p.Err() == nil {
		t.Error("Err is nil after a child ended by a signal")
	}
	// A restart appends to the same log.
	p, err = Start(sh, []string{"-c", "echo second; exec sleep 30"}, nil, log)
	if err != nil {
		t.Fatal(err)
	}
	if err := WaitReady(context.Background(), "http://127.0.0.1:1/", p, 200*time.Millisecond, 10*time.Millisecond); err == nil {
		t.Error("WaitReady answered ready for nothing listening")
	}
	for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
		if b, _ := os.ReadFile(log); strings.Contains(string(b), "second") {
			break
		}
	}
	p.Kill()
	b, _ := os.ReadFile(log)
	if got := strings.Fields(string(b)); !slices.Equal(got, []string{"first", "second"}) {
		t.Errorf("log %q, want both runs' lines", b)
	}
}

func TestWaitReady(t *testing.T) {
	sh, err := exec.LookPath("sh")
	if err != nil {
		t.Skip("no sh")
	}
	up := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {}))
	defer up.Close()
	p, err := Start(sh, []string{"-c", "exec sleep 30"}, nil, filepath.Join(t.TempDir(), "log"))
	if err != nil {
		t.Fatal(err)
	}
	defer p.Kill()
	if err := WaitReady(context.Background(), up.URL, p, time.Second, 10*time.Millisecond); err != nil {
		t.Errorf("WaitReady on a server answering 200: %v", err)
	}
	// A child that exits is reported at once, not after the timeout.
	gone, err := Start(sh, []string{"-c", "exit 3"}, nil, filepath.Join(t.TempDir(), "log"))
	if err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	err = WaitReady(context.Background(), "http://127.0.0.1:1/", gone, 10*time.Second, 10*time.Millisecond)
	if err == nil || !strings.Contains(err.Error(), "exited") || time.Since(start) > 5*time.Second {
		t.Errorf("WaitReady on an exited child: %v after %v", err, time.Since(start))
	}
}

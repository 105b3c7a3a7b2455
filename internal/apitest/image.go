package apitest

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"gopkg.in/yaml.v3"

	"usersorchestrator/internal/app"
	"usersorchestrator/internal/config"
	"usersorchestrator/internal/registration/sqlite"
)

// ImageEnv names the container image the service runs from instead of in this process
// (`make e2e-image` sets it to what `make image` built): the suites then test the shipped
// artifact, the same binary, configuration loading and file system as production.
const ImageEnv = "UO_E2E_IMAGE"

// startImage runs cfg in a container of image: host networking on a free loopback port (the
// WireMocks and the SMTP sink stay on 127.0.0.1), cfg as a mounted YAML file, and the SQLite
// file in a mounted directory, which this process opens too, to read what the service wrote.
// The in-process App is built on the same file but never run: it seals values with the same
// keys, as the tests' helpers need. The container's log lines go to env.Logs.
func startImage(t testing.TB, env *Env, cfg config.Config, image string) {
	t.Helper()
	dir := t.TempDir()
	// The image runs as 65532: the data directory must be writable for it.
	if err := os.Chmod(dir, 0o777); err != nil {
		t.Fatal(err)
	}
	port, err := freeLoopbackPort()
	if err != nil {
		t.Fatal(err)
	}
	inside := cfg
	inside.Listen = "127.0.0.1:" + strconv.Itoa(port)
	inside.Database = config.Database{Driver: "sqlite", Path: "/data/usersorchestrator.db"}
	if cfg.Database.Driver == "postgres" {
		inside.Database = cfg.Database
	}
	raw, err := yaml.Marshal(inside)
	if err != nil {
		t.Fatal(err)
	}
	cfgFile := filepath.Join(dir, "config.yaml")
	if err := os.WriteFile(cfgFile, raw, 0o644); err != nil {
		t.Fatal(err)
	}
	name := containerName()
	run := exec.Command("docker", "run", "-d", "--name", name, "--network", "host",
		"-v", dir+":/data", "-e", "UO_CONFIG=/data/config.yaml",
		// The image's own UO_LISTEN and UO_DATABASE_PATH would win over the file.
		"-e", "UO_LISTEN="+inside.Listen, "-e", "UO_DATABASE_PATH="+inside.Database.Path,
		image, "serve")
	if out, err := run.CombinedOutput(); err != nil {
		t.Fatalf("docker run %s: %v\n%s", image, err, out)
	}
	logs := exec.Command("docker", "logs", "-f", name)
	logs.Stdout, logs.Stderr = env.Logs, env.Logs
	_ = logs.Start()
	t.Cleanup(func() {
		// SIGTERM: the graceful shutdown writes the queued events, as a deployment's stop does.
		if out, err := exec.Command("docker", "stop", "-t", "15", name).CombinedOutput(); err != nil {
			t.Errorf("docker stop: %v\n%s", err, out)
		}
		if logs.Process != nil {
			_ = logs.Wait()
		}
		if t.Failed() {
			t.Logf("service log (%s):\n%s", image, env.Logs.String())
		}
		_ = exec.Command("docker", "rm", "-f", name).Run()
	})
	env.URL = "http://127.0.0.1:" + strconv.Itoa(port)
	if err := waitHealthy(env.URL, 20*time.Second); err != nil {
		t.Fatalf("the container of %s did not become healthy: %v\n%s", image, err, env.Logs.String())
	}

	host := cfg
	if host.Database.Driver != "postgres" {
		host.Database = config.Database{Driver: "sqlite", Path: filepath.Join(dir, "usersorchestrator.db")}
		// Uncached: every row the tests read was written by the container.
		st, err := sqlite.Open(context.Background(), host.Database.Path)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = st.Close() })
		env.Store = st
	}
	a, err := app.New(context.Background(), host, slog.New(slog.DiscardHandler), app.Options{PasswordParams: &cheapPasswords, Now: env.Clock.Now})
	if err != nil {
		t.Fatalf("build the sealing app: %v", err)
	}
	t.Cleanup(func() { _ = a.Close() })
	env.App = a
	if env.Store == nil {
		env.Store = a.Store()
	}
	// The container writes the events of reads in batches gathered for at most 20 ms.
	env.flush = func(context.Context) error { time.Sleep(100 * time.Millisecond); return nil }
}

// handedOut are the ports freeLoopbackPort gave this process: the listener that found a port
// is closed before the container binds it, and the cases of several providers start containers
// at the same time, so a port is never handed out twice.
var handedOut = struct {
	sync.Mutex
	ports map[int]bool
	n     int
}{ports: map[int]bool{}}

func freeLoopbackPort() (int, error) {
	for range 100 {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return 0, err
		}
		port := ln.Addr().(*net.TCPAddr).Port
		ln.Close()
		handedOut.Lock()
		taken := handedOut.ports[port]
		handedOut.ports[port] = true
		handedOut.Unlock()
		if !taken {
			return port, nil
		}
	}
	return 0, fmt.Errorf("no loopback port that was not handed out already")
}

// containerName is unique within this process and across processes.
func containerName() string {
	handedOut.Lock()
	defer handedOut.Unlock()
	handedOut.n++
	return fmt.Sprintf("uo-e2e-%d-%d", os.Getpid(), handedOut.n)
}

func waitHealthy(base string, within time.Duration) error {
	deadline := time.Now().Add(within)
	var last error
	for time.Now().Before(deadline) {
		resp, err := http.Get(base + "/healthz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
			err = fmt.Errorf("healthz %d", resp.StatusCode)
		}
		last = err
		time.Sleep(100 * time.Millisecond)
	}
	return last
}

// imageName is the image to test, "" to run the service in this process.
func imageName() string { return strings.TrimSpace(os.Getenv(ImageEnv)) }

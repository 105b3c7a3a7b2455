// Package wiremock starts WireMock 3.13.2 servers for tests: one per call, on a free loopback port,
// serving a private copy of a mocks directory (mappings/ and __files/), with a go-wiremock admin
// client to add stubs, reset and read the request journal.
//
// Two ways to run the server, chosen by UO_WIREMOCK_MODE:
//
//   - "container" (default): a Docker container started with testcontainers-go using host
//     networking, image $WIREMOCK_IMAGE (default usersorchestrator/wiremock:3.13.2, built by
//     scripts/wiremock-image.sh; the official wiremock/wiremock:3.13.2 works as well).
//   - "jar": the standalone jar as a child process (java -jar), for machines without Docker. The jar
//     is $UO_WIREMOCK_JAR or the copy scripts/wiremock-jar.sh installs in the user cache.
//
// Both run the same arguments: --port N --bind-address 127.0.0.1 --root-dir ROOT --disable-banner.
// Global response templating is deliberately NOT enabled: a stub that needs Handlebars says so with
// "transformers": ["response-template"] (WireMock 3's per-stub default), so a mapping behaves the
// same in these tests, under scripts/mocks-up.sh and in a plain `docker run` of the official image,
// and literal "{{" in a static body is never interpreted.
//
// The package never skips: when the server cannot be started (no Docker, no image, no java) the
// test fails with a message saying what to run. Each server is stopped by t.Cleanup.
package wiremock

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	gowiremock "github.com/wiremock/go-wiremock"
)

// Version is the WireMock release the harness, the scripts and the image agree on.
const Version = "3.13.2"

// DefaultImage is the locally built image scripts/wiremock-image.sh produces.
const DefaultImage = "usersorchestrator/wiremock:" + Version

// OfficialImage is the upstream image; used only where a registry is reachable.
const OfficialImage = "wiremock/wiremock:" + Version

// Environment variables read by Start.
const (
	EnvImage         = "WIREMOCK_IMAGE"               // container mode: image to run
	EnvMode          = "UO_WIREMOCK_MODE"             // "container" (default) or "jar"
	EnvJar           = "UO_WIREMOCK_JAR"              // jar mode: path of wiremock-standalone-3.13.2.jar
	EnvCacheDir      = "UO_CACHE_DIR"                 // jar mode: cache holding the jar (default <user cache>/usersorchestrator)
	EnvRequireDocker = "UO_REQUIRE_DOCKER"            // "1": refuse jar mode (CI must exercise the containers)
	EnvRyukDisabled  = "TESTCONTAINERS_RYUK_DISABLED" // must be true; Start sets it when unset
)

const (
	containerRootDir = "/home/wiremock"            // root dir of the official image layout
	markerFile       = ".uo-testkit-instance"      // in __files: proves which server answers a port
	startTimeout     = 90 * time.Second            // per attempt; a JVM starts in ~1-2 s, slower on a loaded 2-core box
	startAttempts    = 3                           // a new port after each lost port race
	stopTimeout      = 10 * time.Second            // graceful stop before a kill
	probeInterval    = 100 * time.Millisecond      // health poll period
	outputTailBytes  = 16 << 10                    // server output kept for failure messages
	labelKey         = "usersorchestrator.testkit" // = labelValue on every container of this harness
	labelValue       = "wiremock"
	labelPID         = "usersorchestrator.testkit.pid" // pid of the test process that owns the container
	healthPath       = "/__admin/health"
	filesAdminPath   = "/__admin/files/" + markerFile
	loopback         = "127.0.0.1"
	modeContainer    = "container"
	modeJar          = "jar"
	defaultJarName   = "wiremock-standalone-" + Version + ".jar"
)

// Server is one running WireMock.
type Server struct {
	// URL is the base URL, http://127.0.0.1:<Port>, to configure the code under test with.
	URL string
	// Port is the loopback port WireMock listens on.
	Port int
	// Admin is a go-wiremock client for this server: StubFor, Verify, GetCountRequests, journal...
	// Never call Admin.Clear(): it deletes mapping files (here only the private copy, but the stubs
	// loaded from mocksDir would be gone for the rest of the test). Use Server.Reset.
	Admin *gowiremock.Client
}

// Reset restores the mappings loaded from the files (dropping stubs added through the admin API),
// clears the request journal and puts every scenario back to "Started" (POST /__admin/mappings/reset).
func (s *Server) Reset(t testing.TB) {
	t.Helper()
	if err := s.Admin.Reset(); err != nil {
		t.Fatalf("wiremock: reset %s: %v", s.URL, err)
	}
}

// instance is what a running mode hands back: how to tell whether it died, how to stop it and what it
// printed.
type instance interface {
	// exited reports, without blocking, whether the server process is gone, with a reason.
	exited(ctx context.Context) (bool, string)
	// output returns the tail of what the server printed (for failure messages).
	output(ctx context.Context) string
	// stop ends the server; safe to call more than once.
	stop(ctx context.Context) error
}

// Start runs a WireMock serving a copy of mocksDir (its mappings/ and __files/ subdirectories; either
// may be missing, and mocksDir "" starts an empty server) and returns once GET /__admin/health answers
// on the server's own port. The copy lives in t.TempDir(): WireMock never sees the repository folder,
// so nothing it writes (mappings/save, Clear) can change the committed mocks.
func Start(t testing.TB, mocksDir string) *Server {
	t.Helper()

	mode, err := modeFromEnv()
	if err != nil {
		t.Fatalf("wiremock: %v", err)
	}

	root := filepath.Join(t.TempDir(), "wiremock")
	token, err := prepareRoot(mocksDir, root)
	if err != nil {
		t.Fatalf("wiremock: %v", err)
	}

	launch, err := launcherFor(t, mode)
	if err != nil {
		t.Fatalf("wiremock: %v", err)
	}

	for attempt := 1; ; attempt++ {
		port, err := freePort()
		if err != nil {
			t.Fatalf("wiremock: %v", err)
		}
		srv, retry, err := startOnce(t, launch, root, port, token)
		if err == nil {
			return srv
		}
		if !retry || attempt == startAttempts {
			t.Fatalf("wiremock (%s mode, attempt %d): %v", mode, attempt, err)
		}
		t.Logf("wiremock: port %d lost to another process (%v); trying another port", port, err)
	}
}

// launcher starts one server on root and port; the instance it returns (even with an error) must be
// stopped.
type launcher func(ctx context.Context, t testing.TB, root string, port int) (instance, error)

// launcherFor checks the mode's prerequisites (Docker and image, or java and jar) and returns its
// launcher.
func launcherFor(t testing.TB, mode string) (launcher, error) {
	if mode == modeJar {
		return jarLauncher()
	}
	return containerLauncher(t)
}

// errPortTaken marks a start that failed because something else holds the chosen port: worth retrying.
var errPortTaken = errors.New("port taken")

// startOnce launches one server and waits for it. retry is true when the failure was a lost port race.
func startOnce(t testing.TB, launch launcher, root string, port int, token string) (*Server, bool, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), startTimeout)
	defer cancel()

	began := time.Now()
	inst, err := launch(ctx, t, root, port)
	// stopIt is registered before any error check: a half-started container or process is cleaned up
	// too. It runs at most once, whether a failed attempt calls it or the test's cleanup does.
	var once sync.Once
	stopIt := func() {
		once.Do(func() {
			if inst == nil {
				return
			}
			sctx, scancel := context.WithTimeout(context.Background(), 2*stopTimeout)
			defer scancel()
			if t.Failed() {
				t.Logf("wiremock on port %d printed:\n%s", port, inst.output(sctx))
			}
			if err := inst.stop(sctx); err != nil {
				t.Errorf("wiremock: stop server on port %d: %v", port, err)
			}
		})
	}
	t.Cleanup(stopIt)
	if err != nil {
		stopIt()
		return nil, false, err
	}

	base := "http://" + net.JoinHostPort(loopback, strconv.Itoa(port))
	if err := waitReady(ctx, inst, base, token); err != nil {
		out := inst.output(context.Background())
		retry := errors.Is(err, errPortTaken) || lostPortRace(out)
		// Stop now rather than at cleanup: a retry should not keep a dead or foreign-port server around.
		stopIt()
		return nil, retry, fmt.Errorf("%w\nserver output:\n%s", err, out)
	}
	t.Logf("wiremock %s ready on %s after %s", Version, base, time.Since(began).Round(time.Millisecond))
	return &Server{URL: base, Port: port, Admin: gowiremock.NewClient(base)}, false, nil
}

// waitReady polls the health endpoint until the server answers, then checks through the marker file
// that the answering server is ours (another process may have taken the port between freePort and
// WireMock's bind). wait.ForHTTP cannot be used: with host networking there is no mapped port.
func waitReady(ctx context.Context, inst instance, base, token string) error {
	client := &http.Client{Timeout: 2 * time.Second}
	var last string
	for {
		if gone, why := inst.exited(ctx); gone {
			return fmt.Errorf("server exited before becoming healthy: %s", why)
		}
		healthy, msg := probeHealth(ctx, client, base)
		if healthy {
			got, err := fetch(ctx, client, base+filesAdminPath)
			if err != nil || strings.TrimSpace(got) != token {
				return fmt.Errorf("%w: %s answers health but is not this server (marker %q, err %v)", errPortTaken, base, strings.TrimSpace(got), err)
			}
			return nil
		}
		last = msg
		select {
		case <-ctx.Done():
			return fmt.Errorf("no healthy answer from %s%s within %s (last: %s)", base, healthPath, startTimeout, last)
		case <-time.After(probeInterval):
		}
	}
}

// lostPortRace tells from the server's output that it could not bind its port: something else
// took it after freePort released it (another test binary's server, or a client socket, since
// ephemeral ports come from the same range). WireMock 3 reports that as "Failed to bind to
// /127.0.0.1:N" and leaves the JVM's "Address already in use" to the cause it does not print.
func lostPortRace(out string) bool {
	return strings.Contains(out, "Address already in use") || strings.Contains(out, "Failed to bind to")
}

func probeHealth(ctx context.Context, client *http.Client, base string) (bool, string) {
	body, err := fetch(ctx, client, base+healthPath)
	if err != nil {
		return false, err.Error()
	}
	if !strings.Contains(body, `"healthy"`) {
		return false, "unexpected health body: " + body
	}
	return true, ""
}

func fetch(ctx context.Context, client *http.Client, url string) (string, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return "", err
	}
	resp, err := client.Do(req)
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	if err != nil {
		return "", err
	}
	if resp.StatusCode != http.StatusOK {
		return string(body), fmt.Errorf("GET %s: status %d", url, resp.StatusCode)
	}
	return string(body), nil
}

// modeFromEnv returns modeContainer or modeJar.
func modeFromEnv() (string, error) {
	mode := strings.ToLower(strings.TrimSpace(os.Getenv(EnvMode)))
	switch mode {
	case "", modeContainer, "docker":
		return modeContainer, nil
	case modeJar:
		if os.Getenv(EnvRequireDocker) == "1" {
			return "", fmt.Errorf("%s=jar but %s=1: this run must use Docker containers", EnvMode, EnvRequireDocker)
		}
		return modeJar, nil
	default:
		return "", fmt.Errorf("%s=%q: want \"container\" or \"jar\"", EnvMode, mode)
	}
}

// prepareRoot builds WireMock's root dir at dst: copies of src/mappings and src/__files (always
// created, possibly empty) plus the marker file holding a fresh random token, which it returns.
// Symlinked files are copied by content; anything else in src (README, scripts) is left out.
func prepareRoot(src, dst string) (string, error) {
	for _, sub := range []string{"mappings", "__files"} {
		if err := os.MkdirAll(filepath.Join(dst, sub), 0o755); err != nil {
			return "", fmt.Errorf("create root dir: %w", err)
		}
	}
	if src != "" {
		info, err := os.Stat(src)
		if err != nil {
			return "", fmt.Errorf("mocks dir: %w", err)
		}
		if !info.IsDir() {
			return "", fmt.Errorf("mocks dir %s is not a directory", src)
		}
		for _, sub := range []string{"mappings", "__files"} {
			if err := copyTree(filepath.Join(src, sub), filepath.Join(dst, sub)); err != nil {
				return "", err
			}
		}
	}
	raw := make([]byte, 16)
	if _, err := rand.Read(raw); err != nil {
		return "", fmt.Errorf("marker token: %w", err)
	}
	token := hex.EncodeToString(raw)
	if err := os.WriteFile(filepath.Join(dst, "__files", markerFile), []byte(token), 0o644); err != nil {
		return "", fmt.Errorf("write marker: %w", err)
	}
	return token, nil
}

// copyTree copies the regular files below src into dst; a missing src is not an error (a provider may
// need no __files). Files are made world-readable: the server may run under another uid.
func copyTree(src, dst string) error {
	if _, err := os.Stat(src); errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	return filepath.WalkDir(src, func(path string, d fs.DirEntry, walkErr error) error {
		if walkErr != nil {
			return fmt.Errorf("copy mocks: %w", walkErr)
		}
		rel, err := filepath.Rel(src, path)
		if err != nil {
			return fmt.Errorf("copy mocks: %w", err)
		}
		target := filepath.Join(dst, rel)
		info, err := os.Stat(path) // follows symlinks
		if err != nil {
			return fmt.Errorf("copy mocks: %w", err)
		}
		switch {
		case info.IsDir() && d.Type()&fs.ModeSymlink != 0:
			return fmt.Errorf("copy mocks: %s is a symlink to a directory (not supported)", path)
		case info.IsDir():
			return os.MkdirAll(target, 0o755)
		case !info.Mode().IsRegular():
			return fmt.Errorf("copy mocks: %s is not a regular file", path)
		}
		data, err := os.ReadFile(path)
		if err != nil {
			return fmt.Errorf("copy mocks: %w", err)
		}
		if err := os.WriteFile(target, data, 0o644); err != nil {
			return fmt.Errorf("copy mocks: %w", err)
		}
		return nil
	})
}

// usedPorts holds every port this process has handed out, so parallel Starts never get the same one.
var (
	usedPortsMu sync.Mutex
	usedPorts   = map[int]bool{}
)

// freePort asks the kernel for a free loopback port. The listener is closed before WireMock binds;
// the window is covered by waitReady's identity check and Start's retry.
func freePort() (int, error) {
	usedPortsMu.Lock()
	defer usedPortsMu.Unlock()
	var held []net.Listener
	defer func() {
		for _, l := range held {
			_ = l.Close()
		}
	}()
	for range 20 {
		l, err := net.Listen("tcp", net.JoinHostPort(loopback, "0"))
		if err != nil {
			return 0, fmt.Errorf("find a free port: %w", err)
		}
		held = append(held, l) // keep it bound while looking, so the kernel hands out another
		port := l.Addr().(*net.TCPAddr).Port
		if !usedPorts[port] {
			usedPorts[port] = true
			return port, nil
		}
	}
	return 0, errors.New("find a free port: every port offered was already used by this process")
}

// jvmOptions make a short-lived WireMock cheaper on a small machine: C1 only (-XX:TieredStopAtLevel=1)
// and the serial collector. A test server lives for seconds to a minute and answers a few hundred
// requests; C2 compiling and G1's threads cost more CPU than they ever save there (measured on 2
// cores: about half the JVM's CPU from start through 100 resets and stub calls, ~1 s less to healthy).
// Both modes pass them: the container through JAVA_TOOL_OPTIONS, which every java reads whatever
// the image's entrypoint, the jar mode on the command line. scripts/wiremock-image.sh dumps the
// image's class-data archive under the same options (HARNESS_JVM_OPTIONS): change both together.
var jvmOptions = []string{"-XX:TieredStopAtLevel=1", "-XX:+UseSerialGC"}

// serverArgs are the WireMock arguments of both modes.
func serverArgs(port int, root string) []string {
	return []string{
		"--port", strconv.Itoa(port),
		"--bind-address", loopback,
		"--root-dir", root,
		"--disable-banner",
	}
}

// tailBuffer keeps the last max bytes written to it; safe for concurrent use.
type tailBuffer struct {
	mu  sync.Mutex
	buf []byte
	max int
}

func (b *tailBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.buf = append(b.buf, p...)
	if over := len(b.buf) - b.max; over > 0 {
		b.buf = append(b.buf[:0], b.buf[over:]...)
	}
	return len(p), nil
}

func (b *tailBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return string(b.buf)
}

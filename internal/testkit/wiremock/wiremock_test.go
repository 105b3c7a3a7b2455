package wiremock

// Unit tests of the harness that need neither Docker nor java. The tests that start real servers are
// in wiremock_e2e_test.go (build tag e2e).

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
)

func listFiles(t *testing.T, dir string) []string {
	t.Helper()
	var out []string
	err := filepath.WalkDir(dir, func(path string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if !d.IsDir() {
			rel, _ := filepath.Rel(dir, path)
			out = append(out, filepath.ToSlash(rel))
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	sort.Strings(out)
	return out
}

func TestPrepareRootCopiesOnlyMappingsAndFiles(t *testing.T) {
	dst := filepath.Join(t.TempDir(), "wiremock")
	token, err := prepareRoot("testdata/sample", dst)
	if err != nil {
		t.Fatal(err)
	}
	got := listFiles(t, dst)
	want := []string{"__files/" + markerFile, "__files/hello.json", "mappings/hello.json", "mappings/nested/echo.json"}
	if strings.Join(got, ",") != strings.Join(want, ",") {
		t.Fatalf("root dir holds %v, want %v (README.md must not be copied)", got, want)
	}
	marker, err := os.ReadFile(filepath.Join(dst, "__files", markerFile))
	if err != nil {
		t.Fatal(err)
	}
	if string(marker) != token || len(token) != 32 {
		t.Fatalf("marker %q, token %q: want the same 32 hex digits", marker, token)
	}
	orig, _ := os.ReadFile("testdata/sample/mappings/hello.json")
	copied, _ := os.ReadFile(filepath.Join(dst, "mappings", "hello.json"))
	if string(orig) != string(copied) || len(orig) == 0 {
		t.Fatal("mappings/hello.json was not copied byte for byte")
	}

	// Two roots never share a token: the token is what tells two servers apart on a port.
	token2, err := prepareRoot("testdata/sample", filepath.Join(t.TempDir(), "wiremock"))
	if err != nil {
		t.Fatal(err)
	}
	if token2 == token {
		t.Fatal("two roots got the same marker token")
	}
}

func TestPrepareRootEmptyAndMissingParts(t *testing.T) {
	// "" means an empty server, and a mocks dir without __files is fine: both roots still get the
	// two directories WireMock and the container copy expect.
	onlyMappings := t.TempDir()
	if err := os.MkdirAll(filepath.Join(onlyMappings, "mappings"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(onlyMappings, "mappings", "a.json"), []byte(`{}`), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, src := range []string{"", onlyMappings} {
		dst := filepath.Join(t.TempDir(), "wiremock")
		if _, err := prepareRoot(src, dst); err != nil {
			t.Fatalf("src %q: %v", src, err)
		}
		for _, sub := range []string{"mappings", "__files"} {
			if fi, err := os.Stat(filepath.Join(dst, sub)); err != nil || !fi.IsDir() {
				t.Fatalf("src %q: %s missing from root (%v)", src, sub, err)
			}
		}
	}
}

func TestPrepareRootFollowsFileSymlinksAndRejectsBadSources(t *testing.T) {
	src := t.TempDir()
	if err := os.MkdirAll(filepath.Join(src, "mappings"), 0o755); err != nil {
		t.Fatal(err)
	}
	target := filepath.Join(t.TempDir(), "shared.json")
	if err := os.WriteFile(target, []byte(`{"request":{},"response":{}}`), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(target, filepath.Join(src, "mappings", "linked.json")); err != nil {
		t.Fatal(err)
	}
	dst := filepath.Join(t.TempDir(), "wiremock")
	if _, err := prepareRoot(src, dst); err != nil {
		t.Fatal(err)
	}
	fi, err := os.Lstat(filepath.Join(dst, "mappings", "linked.json"))
	if err != nil || !fi.Mode().IsRegular() {
		t.Fatalf("a symlinked mapping must be copied as a regular file (testcontainers skips symlinks): %v %v", fi, err)
	}

	if _, err := prepareRoot(filepath.Join(src, "does-not-exist"), filepath.Join(t.TempDir(), "w")); err == nil {
		t.Fatal("a missing mocks dir must be an error")
	}
	if _, err := prepareRoot(target, filepath.Join(t.TempDir(), "w")); err == nil {
		t.Fatal("a file as mocks dir must be an error")
	}
}

func TestFreePortIsUniqueWithinTheProcess(t *testing.T) {
	seen := map[int]bool{}
	var mu sync.Mutex
	var wg sync.WaitGroup
	for range 50 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			p, err := freePort()
			if err != nil {
				t.Error(err)
				return
			}
			mu.Lock()
			defer mu.Unlock()
			if seen[p] {
				t.Errorf("port %d handed out twice", p)
			}
			seen[p] = true
		}()
	}
	wg.Wait()
}

func TestModeFromEnv(t *testing.T) {
	cases := []struct {
		mode, require, want string
		wantErr             bool
	}{
		{"", "", modeContainer, false},
		{"container", "1", modeContainer, false},
		{"Docker", "", modeContainer, false},
		{"jar", "", modeJar, false},
		{"jar", "1", "", true}, // CI must not quietly fall back to the jar
		{"podman", "", "", true},
	}
	for _, c := range cases {
		t.Setenv(EnvMode, c.mode)
		t.Setenv(EnvRequireDocker, c.require)
		got, err := modeFromEnv()
		if (err != nil) != c.wantErr || got != c.want {
			t.Errorf("mode %q require %q: got %q, %v; want %q, error %v", c.mode, c.require, got, err, c.want, c.wantErr)
		}
	}
}

func TestTailBufferKeepsTheEnd(t *testing.T) {
	b := &tailBuffer{max: 8}
	for i := range 10 {
		fmt.Fprintf(b, "%d", i)
	}
	if got := b.String(); got != "23456789" {
		t.Fatalf("tail %q, want 23456789", got)
	}
}

// fatalTB records Fatal/Skip instead of ending the real test, so a test can check that Start fails
// loudly (and never skips) when its prerequisites are missing. Everything else goes to the real T.
type fatalTB struct {
	testing.TB
	mu      sync.Mutex
	msg     string
	skipped bool
}

func (f *fatalTB) Fatalf(format string, args ...any) { f.record(fmt.Sprintf(format, args...)) }
func (f *fatalTB) Fatal(args ...any)                 { f.record(fmt.Sprint(args...)) }
func (f *fatalTB) FailNow()                          { f.record("FailNow") }
func (f *fatalTB) Skip(args ...any)                  { f.skip() }
func (f *fatalTB) Skipf(string, ...any)              { f.skip() }
func (f *fatalTB) SkipNow()                          { f.skip() }

func (f *fatalTB) record(msg string) {
	f.mu.Lock()
	f.msg = msg
	f.mu.Unlock()
	runtime.Goexit()
}

func (f *fatalTB) skip() {
	f.mu.Lock()
	f.skipped = true
	f.mu.Unlock()
	runtime.Goexit()
}

// startExpectingFatal runs Start in its own goroutine (Fatal ends it with Goexit) and returns the
// fatal message; it fails the test when Start returned a server or skipped.
func startExpectingFatal(t *testing.T, mocksDir string) string {
	t.Helper()
	f := &fatalTB{TB: t}
	done := make(chan *Server)
	go func() {
		var srv *Server
		defer func() { done <- srv }()
		srv = Start(f, mocksDir)
	}()
	srv := <-done
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.skipped {
		t.Fatal("Start skipped: it must fail instead")
	}
	if srv != nil || f.msg == "" {
		t.Fatalf("Start returned %+v without failing", srv)
	}
	return f.msg
}

func TestStartFailsLoudlyWithoutTheJar(t *testing.T) {
	t.Setenv(EnvMode, "jar")
	t.Setenv(EnvRequireDocker, "")
	t.Setenv(EnvJar, filepath.Join(t.TempDir(), "missing.jar"))
	msg := startExpectingFatal(t, "testdata/sample")
	if !strings.Contains(msg, EnvJar) {
		t.Fatalf("message %q should name %s", msg, EnvJar)
	}

	t.Setenv(EnvJar, "")
	t.Setenv(EnvCacheDir, t.TempDir())
	msg = startExpectingFatal(t, "testdata/sample")
	if !strings.Contains(msg, "scripts/wiremock-jar.sh") {
		t.Fatalf("message %q should say how to install the jar", msg)
	}
}

func TestStartRefusesJarWhenDockerIsRequired(t *testing.T) {
	t.Setenv(EnvMode, "jar")
	t.Setenv(EnvRequireDocker, "1")
	msg := startExpectingFatal(t, "testdata/sample")
	if !strings.Contains(msg, EnvRequireDocker) {
		t.Fatalf("message %q should name %s", msg, EnvRequireDocker)
	}
}

// MinParallel raises -test.parallel only when the command line left it at its default, and never
// lowers it.
func TestMinParallel(t *testing.T) {
	f := flag.Lookup("test.parallel")
	before := f.Value.String()
	t.Cleanup(func() { _ = f.Value.Set(before) })
	given := false
	flag.Visit(func(f *flag.Flag) { given = given || f.Name == "test.parallel" })
	cur, err := strconv.Atoi(before)
	if err != nil {
		t.Fatal(err)
	}

	MinParallel(cur - 1)
	if got := f.Value.String(); got != before {
		t.Fatalf("MinParallel(%d) changed -test.parallel from %s to %s: it must never lower it", cur-1, before, got)
	}
	MinParallel(cur + 3)
	want := strconv.Itoa(cur + 3)
	if given {
		want = before // the command line's value wins
	}
	if got := f.Value.String(); got != want {
		t.Fatalf("after MinParallel(%d): -test.parallel = %s, want %s (given on the command line: %v)", cur+3, got, want, given)
	}
}

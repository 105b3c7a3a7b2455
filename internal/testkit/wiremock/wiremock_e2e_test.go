//go:build e2e

package wiremock

// These tests start real WireMock servers: containers by default (Docker and the image from
// scripts/wiremock-image.sh), or java processes with UO_WIREMOCK_MODE=jar. Each server is its
// own, so the tests run in parallel: a start mostly waits on Docker and the JVM. TestMissingImageFails
// changes the environment and stays sequential (go runs it before any parallel test resumes).
//
//	go test -tags e2e ./internal/testkit/wiremock/
//	UO_WIREMOCK_MODE=jar go test -tags e2e ./internal/testkit/wiremock/

import (
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	gowiremock "github.com/wiremock/go-wiremock"
)

const sampleDir = "testdata/sample"

func call(t *testing.T, method, url, body string) (int, string) {
	t.Helper()
	req, err := http.NewRequest(method, url, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, url, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, string(b)
}

func count(t *testing.T, srv *Server, r *gowiremock.Request) int64 {
	t.Helper()
	n, err := srv.Admin.GetCountRequests(r)
	if err != nil {
		t.Fatalf("count requests: %v", err)
	}
	return n
}

func verify(t *testing.T, srv *Server, r *gowiremock.Request, want int64) {
	t.Helper()
	ok, err := srv.Admin.Verify(r, want)
	if err != nil {
		t.Fatalf("verify: %v", err)
	}
	if !ok {
		t.Fatalf("verify: want %d matching requests, journal has %d", want, count(t, srv, r))
	}
}

// snapshot lists a directory's files with their contents, to prove the server never writes to it.
func snapshot(t *testing.T, dir string) string {
	t.Helper()
	var b strings.Builder
	for _, f := range listFiles(t, dir) {
		data, err := os.ReadFile(dir + "/" + f)
		if err != nil {
			t.Fatal(err)
		}
		fmt.Fprintf(&b, "%s %d %x\n", f, len(data), data)
	}
	return b.String()
}

func TestServerStubsJournalAndReset(t *testing.T) {
	t.Parallel()
	before := snapshot(t, sampleDir)
	srv := Start(t, sampleDir)
	if !strings.HasPrefix(srv.URL, "http://127.0.0.1:") || srv.Port == 0 {
		t.Fatalf("URL %q port %d: want a loopback URL", srv.URL, srv.Port)
	}

	// File stubs: a bodyFileName from __files, a nested multi-mapping file with per-stub templating,
	// and a stub without a transformer whose braces stay literal (no global templating).
	if code, body := call(t, http.MethodGet, srv.URL+"/hello", ""); code != 200 || strings.TrimSpace(body) != `{"greeting":"hello from __files"}` {
		t.Fatalf("GET /hello = %d %q", code, body)
	}
	code, body := call(t, http.MethodPost, srv.URL+"/echo", `{"email":"jo@example.com"}`)
	var echo struct{ Email string }
	if code != 201 || json.Unmarshal([]byte(body), &echo) != nil || echo.Email != "jo@example.com" {
		t.Fatalf("POST /echo = %d %q: want the templated email", code, body)
	}
	if code, body := call(t, http.MethodGet, srv.URL+"/literal", ""); code != 200 || body != "{{request.path}}" {
		t.Fatalf("GET /literal = %d %q: templating must be per stub only", code, body)
	}

	// A stub added through go-wiremock.
	added := gowiremock.Get(gowiremock.URLPathEqualTo("/added")).
		WithQueryParam("id", gowiremock.EqualTo("42")).
		WillReturnResponse(gowiremock.NewResponse().WithStatus(202).WithJSONBody(map[string]any{"added": true}))
	if err := srv.Admin.StubFor(added); err != nil {
		t.Fatalf("StubFor: %v", err)
	}
	if code, body := call(t, http.MethodGet, srv.URL+"/added?id=42", ""); code != 202 || !strings.Contains(body, `"added"`) {
		t.Fatalf("GET /added = %d %q", code, body)
	}
	if code, _ := call(t, http.MethodGet, srv.URL+"/added?id=7", ""); code != 404 {
		t.Fatalf("GET /added?id=7 = %d: the query matcher must not match", code)
	}

	// The request journal, read through go-wiremock.
	verify(t, srv, added.Request(), 1)
	verify(t, srv, gowiremock.NewRequest("GET", gowiremock.URLPathEqualTo("/hello")), 1)
	verify(t, srv, gowiremock.NewRequest("POST", gowiremock.URLPathEqualTo("/echo")).
		WithBodyPattern(gowiremock.MatchingJsonPath("$[?(@.email == 'jo@example.com')]")), 1)
	if n := count(t, srv, gowiremock.NewRequest("ANY", gowiremock.URLPathMatching("/.*"))); n != 5 {
		t.Fatalf("journal holds %d requests, want 5 (the harness's own probes must not be journaled)", n)
	}
	found, err := srv.Admin.FindRequestsByCriteria(gowiremock.NewRequest("POST", gowiremock.URLPathEqualTo("/echo")))
	if err != nil || len(found.Requests) != 1 || !strings.Contains(found.Requests[0].Body, "jo@example.com") {
		t.Fatalf("find /echo: %+v %v", found, err)
	}
	unmatched, err := srv.Admin.FindUnmatchedRequests()
	if err != nil || len(unmatched.Requests) != 1 || !strings.Contains(unmatched.Requests[0].URL, "id=7") {
		t.Fatalf("unmatched: %+v %v", unmatched, err)
	}

	// A persistent stub is written to a file in the server's root dir at once: that is the private
	// copy, never the mocks folder the test passed in. (mappings/save is not usable here: WireMock
	// refuses it while stubs from a multi-mapping file are loaded.)
	persisted := `{"persistent": true, "request": {"method": "GET", "urlPath": "/persisted"}, "response": {"status": 200, "body": "kept"}}`
	if code, body := call(t, http.MethodPost, srv.URL+"/__admin/mappings", persisted); code != 201 {
		t.Fatalf("add persistent stub = %d %q", code, body)
	}
	if after := snapshot(t, sampleDir); after != before {
		t.Fatalf("the mocks folder changed while the server ran:\nbefore:\n%s\nafter:\n%s", before, after)
	}

	// Reset: the journal is empty, the file stubs still answer, and the persistent stub answers too
	// (proof that the server did write a file, into its copy), while /added is gone.
	srv.Reset(t)
	if n := count(t, srv, gowiremock.NewRequest("ANY", gowiremock.URLPathMatching("/.*"))); n != 0 {
		t.Fatalf("journal holds %d requests after Reset, want 0", n)
	}
	if code, _ := call(t, http.MethodGet, srv.URL+"/hello", ""); code != 200 {
		t.Fatalf("GET /hello after Reset = %d: file stubs must be reloaded", code)
	}
	if code, body := call(t, http.MethodGet, srv.URL+"/persisted", ""); code != 200 || body != "kept" {
		t.Fatalf("GET /persisted after Reset = %d %q: the persisted stub must be reloaded from the copy", code, body)
	}
	if code, _ := call(t, http.MethodGet, srv.URL+"/added?id=42", ""); code != 404 {
		t.Fatalf("GET /added after Reset = %d: API stubs must be dropped", code)
	}
	verify(t, srv, gowiremock.NewRequest("GET", gowiremock.URLPathEqualTo("/hello")), 1)
}

func TestResetDropsAPIStubs(t *testing.T) {
	t.Parallel()
	srv := Start(t, sampleDir)
	stub := gowiremock.Post(gowiremock.URLPathEqualTo("/temporary")).
		WillReturnResponse(gowiremock.NewResponse().WithStatus(200).WithBody("ok"))
	if err := srv.Admin.StubFor(stub); err != nil {
		t.Fatal(err)
	}
	if code, _ := call(t, http.MethodPost, srv.URL+"/temporary", ""); code != 200 {
		t.Fatalf("POST /temporary = %d before Reset", code)
	}
	srv.Reset(t)
	if code, _ := call(t, http.MethodPost, srv.URL+"/temporary", ""); code != 404 {
		t.Fatalf("POST /temporary = %d after Reset, want 404", code)
	}
	verify(t, srv, stub.Request(), 1) // only the call after the reset is in the journal
}

func TestEmptyServer(t *testing.T) {
	t.Parallel()
	srv := Start(t, "")
	code, body := call(t, http.MethodGet, srv.URL+"/__admin/mappings", "")
	var list struct {
		Meta struct{ Total int }
	}
	if code != 200 || json.Unmarshal([]byte(body), &list) != nil || list.Meta.Total != 0 {
		t.Fatalf("GET /__admin/mappings = %d %q: want no stubs", code, body)
	}
}

// Parallel servers get distinct ports and journals that do not mix.
func TestParallelServers(t *testing.T) {
	t.Parallel()
	const n = 3
	var mu sync.Mutex
	ports := map[int]string{}
	for i := range n {
		t.Run(fmt.Sprintf("server%d", i), func(t *testing.T) {
			t.Parallel()
			srv := Start(t, sampleDir)
			mu.Lock()
			if other, dup := ports[srv.Port]; dup {
				mu.Unlock()
				t.Fatalf("port %d already used by %s", srv.Port, other)
			}
			ports[srv.Port] = t.Name()
			mu.Unlock()
			for range i + 1 {
				if code, _ := call(t, http.MethodGet, srv.URL+"/hello", ""); code != 200 {
					t.Fatalf("GET /hello = %d", code)
				}
			}
			verify(t, srv, gowiremock.NewRequest("GET", gowiremock.URLPathEqualTo("/hello")), int64(i+1))
		})
	}
}

// A missing image is a failure with instructions, never a skip and never a pull attempt.
func TestMissingImageFails(t *testing.T) {
	if mode, _ := modeFromEnv(); mode != modeContainer {
		t.Skip("container mode only") // the jar mode has its own failure test in wiremock_test.go
	}
	t.Setenv(EnvImage, "usersorchestrator/wiremock:does-not-exist")
	msg := startExpectingFatal(t, sampleDir)
	if !strings.Contains(msg, "scripts/wiremock-image.sh") {
		t.Fatalf("message %q should say how to build the image", msg)
	}
}

// A port taken after freePort released it is a lost port race, to retry on another port, not a
// failed start: whether what took it answers like a WireMock (another test binary's server: the
// health check sees a server that is not ours) or holds it without answering HTTP (a server still
// starting, a client socket on an ephemeral port: WireMock then fails to bind).
func TestTakenPortIsRetryable(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		take func(t *testing.T) net.Listener
	}{
		{"a foreign server answering health", func(t *testing.T) net.Listener {
			foreign := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				if r.URL.Path == healthPath {
					fmt.Fprint(w, `{"status":"healthy","message":"Wiremock is ok","version":"3.13.2"}`)
					return
				}
				http.NotFound(w, r)
			}))
			l, err := net.Listen("tcp", "127.0.0.1:0")
			if err != nil {
				t.Fatal(err)
			}
			foreign.Listener = l
			foreign.Start()
			t.Cleanup(foreign.Close)
			return l
		}},
		{"a socket bound without answering", func(t *testing.T) net.Listener {
			l, err := net.Listen("tcp", "127.0.0.1:0")
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { l.Close() })
			return l
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			port := tt.take(t).Addr().(*net.TCPAddr).Port
			mode, err := modeFromEnv()
			if err != nil {
				t.Fatal(err)
			}
			launch, err := launcherFor(t, mode)
			if err != nil {
				t.Fatal(err)
			}
			root := filepath.Join(t.TempDir(), "wiremock")
			token, err := prepareRoot(sampleDir, root)
			if err != nil {
				t.Fatal(err)
			}
			srv, retry, err := startOnce(t, launch, root, port, token)
			if err == nil || srv != nil {
				t.Fatalf("startOnce on a taken port returned %+v, %v: want an error", srv, err)
			}
			if !retry {
				t.Fatalf("a taken port must be retryable: %v", err)
			}
		})
	}
}

// A Shared server is started once and handed to each test reset as if it were fresh; Close stops it.
func TestSharedServerIsOneServerResetPerTest(t *testing.T) {
	t.Parallel()
	shared := NewShared(sampleDir)
	first := shared.Server(t)
	stub := gowiremock.Get(gowiremock.URLPathEqualTo("/added")).
		WillReturnResponse(gowiremock.NewResponse().WithStatus(202))
	if err := first.Admin.StubFor(stub); err != nil {
		t.Fatal(err)
	}
	if code, _ := call(t, http.MethodGet, first.URL+"/added", ""); code != 202 {
		t.Fatalf("GET /added = %d, want the added stub's 202", code)
	}

	second := shared.Server(t)
	if second != first {
		t.Fatalf("second call started another server (%s, first %s)", second.URL, first.URL)
	}
	if n := count(t, second, gowiremock.NewRequest("ANY", gowiremock.URLPathMatching("/.*"))); n != 0 {
		t.Fatalf("journal holds %d requests for the next test, want 0", n)
	}
	if code, _ := call(t, http.MethodGet, second.URL+"/added", ""); code != 404 {
		t.Fatalf("GET /added = %d for the next test: the stub a test added must be gone", code)
	}
	if code, _ := call(t, http.MethodGet, second.URL+"/hello", ""); code != 200 {
		t.Fatalf("GET /hello = %d: the file stubs must stay", code)
	}

	if err := shared.proc.Close(); err != nil {
		t.Fatal(err)
	}
	client := &http.Client{Timeout: 2 * time.Second}
	if resp, err := client.Get(first.URL + healthPath); err == nil {
		resp.Body.Close()
		t.Fatalf("%s still answers after Close", first.URL)
	}
}

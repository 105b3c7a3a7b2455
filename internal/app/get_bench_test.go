package app_test

import (
	"encoding/json"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"usersorchestrator/internal/app"
	"usersorchestrator/internal/auth"
	"usersorchestrator/internal/config"
	"usersorchestrator/internal/logsink"
	"usersorchestrator/internal/password"
)

// BenchmarkGet is one GET of `make bench`'s two read rows through the whole in-process handler:
// metrics, request id, recovery, access log (a JSON line to a file, through the service's log
// sink, as `serve` writes its log), auth and tenant, validation, the workflow, the SQLite store
// behind its cache, the event queued, the JSON answer. Only net/http's connection handling is
// left out, so that what the service adds to a bare handler is measured on its own.
func BenchmarkGet(b *testing.B) {
	cfg := config.Default()
	cfg.Database.Path = filepath.Join(b.TempDir(), "usersorchestrator.db")
	cfg.SMTP.Host = ""
	logFile, err := os.Create(filepath.Join(b.TempDir(), "service.log"))
	if err != nil {
		b.Fatal(err)
	}
	sink := logsink.New(logFile, time.Millisecond)
	b.Cleanup(func() { _ = sink.Close(); _ = logFile.Close() })
	log := slog.New(slog.NewJSONHandler(sink, nil))
	a, err := app.New(b.Context(), cfg, log, app.Options{PasswordParams: &password.Params{Memory: 64, Iterations: 1, Parallelism: 1, SaltLength: 16, KeyLength: 32}})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = a.Close() })
	token, err := auth.MintHS256([]byte(cfg.Auth.HS256Secrets[0]), auth.MintOptions{Subject: "bench", ClientCodes: []string{auth.AnyClient}, Lifetime: time.Hour}, time.Now())
	if err != nil {
		b.Fatal(err)
	}
	t := cfg.Tenants[0]
	do := func(method, target, body string) *httptest.ResponseRecorder {
		var r *http.Request
		if body == "" {
			r = httptest.NewRequest(method, target, nil)
		} else {
			r = httptest.NewRequest(method, target, strings.NewReader(body))
			r.Header.Set("Content-Type", "application/json")
		}
		r.Header.Set("Authorization", "Bearer "+token)
		r.Header.Set("X-SourceSystem", "Bench")
		r.Header.Set("X-ClientCode", t.ClientCode)
		r.Header.Set("X-PaperCode", t.PaperCode)
		r.Header.Set("X-ClientGroupCode", t.ClientGroupCode)
		w := httptest.NewRecorder()
		a.Handler().ServeHTTP(w, r)
		return w
	}
	const email = "reader-00042@bench.example"
	w := do(http.MethodPost, "/v4/Users", `{"email":"`+email+`","firstName":"Ada","lastName":"Lovelace","metadata":{"plan":"gold","newsletter":"weekly","ebill_flag":"true"}}`)
	var created struct {
		Data struct {
			ID string `json:"customerRegistrationId"`
		} `json:"data"`
	}
	if err := json.Unmarshal(w.Body.Bytes(), &created); err != nil || created.Data.ID == "" {
		b.Fatalf("create: %d %s", w.Code, w.Body)
	}
	for _, c := range []struct{ name, target string }{
		{"ById", "/v4/Users/" + url.PathEscape(created.Data.ID)},
		{"ByEmail", "/v4/Users?email=" + url.QueryEscape(email)},
	} {
		b.Run(c.name, func(b *testing.B) {
			b.ReportAllocs()
			cpu := processCPU()
			// Many requests in flight, as under load: the event writer then stores its events in
			// batches, as it does in the service under load, rather than one transaction per read.
			b.SetParallelism(16)
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					if w := do(http.MethodGet, c.target, ""); w.Code != http.StatusOK {
						b.Errorf("%d %s", w.Code, w.Body)
						return
					}
				}
			})
			// The process's CPU time per request, the background writers' (events, log) included:
			// steadier than ns/op on a machine shared with other work.
			b.ReportMetric(float64(processCPU()-cpu)/float64(b.N), "cpu-ns/op")
		})
	}
}

// processCPU is the CPU time (user + system) the process has used so far.
func processCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

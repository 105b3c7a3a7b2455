// Command bench is `make bench` (scripts/bench.sh builds the binaries and calls it): it starts
// the service and the bare-gin baseline as real processes on free 127.0.0.1 ports, seeds the users
// it needs through the API, measures each row at a fixed concurrency and duration, and prints one
// table (stdout and -out).
//
// Everything runs on this machine at the same time: the service, the baseline and the load
// generator share the CPUs, so the generator takes part of what the server could use. It does so
// in the same way for every row, which keeps the ratios fair, and the report says so.
package main

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"maps"
	"net/http"
	"net/url"
	"os"
	"os/signal"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"usersorchestrator/internal/auth"
	"usersorchestrator/internal/bench"
	"usersorchestrator/internal/bench/proc"
	"usersorchestrator/internal/config"
)

// options are the command's flags.
type options struct {
	server, baseline string
	concurrency      int
	duration, warmup time.Duration
	readers          int
	rows             string
	out              string
	logLevel         string
	profileDir       string
	profileRows      string
	keep             bool
	target, token    string
	postgres         string
}

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Stdout); err != nil && !errors.Is(err, flag.ErrHelp) {
		fmt.Fprintln(os.Stderr, "bench:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, args []string, stdout io.Writer) error {
	var o options
	fs := flag.NewFlagSet("bench", flag.ContinueOnError)
	fs.StringVar(&o.server, "server", "bin/usersorchestrator", "the service binary")
	fs.StringVar(&o.baseline, "baseline", "bin/bench-baseline", "the baseline binary (cmd/bench-baseline)")
	fs.IntVar(&o.concurrency, "c", 64, "concurrent requests (one connection each)")
	fs.DurationVar(&o.duration, "d", 10*time.Second, "measured duration of each row")
	fs.DurationVar(&o.warmup, "warmup", 2*time.Second, "warm-up before each row (not counted)")
	fs.IntVar(&o.readers, "users", 200, "users seeded for the GET rows")
	fs.StringVar(&o.rows, "rows", strings.Join(rowKeys, ","), "our rows to run (the baseline always runs); pg-* on PostgreSQL, pg2-* on two instances of it")
	fs.StringVar(&o.postgres, "postgres", "", "PostgreSQL DSN for the pg-* rows (default: UO_BENCH_POSTGRES_DSN, else UO_TEST_POSTGRES_DSN; none: those rows are skipped); each run makes and drops a schema of its own")
	fs.StringVar(&o.out, "out", "bench/results.txt", "file the report is written to too (empty: stdout only)")
	fs.StringVar(&o.logLevel, "log-level", "info", "the service's log level (its log goes to a file)")
	fs.StringVar(&o.profileDir, "profile", "", "write CPU and alloc profiles of the service here (needs a binary built with -tags pprof)")
	fs.StringVar(&o.profileRows, "profile-rows", "get-id", "rows to profile with -profile")
	fs.BoolVar(&o.keep, "keep", false, "keep the temporary directory (database, logs)")
	fs.StringVar(&o.target, "target", "", "measure a service already running at this URL (e.g. make run's http://127.0.0.1:8080) instead of starting one: no baseline, no server CPU")
	fs.StringVar(&o.token, "token", "", "with -target: the JWT to call it with (default: one for tenant demo, signed with the built-in development secret)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if o.concurrency < 1 || o.duration <= 0 || o.readers < 1 {
		return errors.New("need -c >= 1, -d > 0 and -users >= 1")
	}
	for _, list := range []string{o.rows, o.profileRows} {
		for _, r := range strings.Split(list, ",") {
			if !slices.Contains(rowKeys, strings.TrimSpace(r)) {
				return fmt.Errorf("no row %q: the rows are %s", r, strings.Join(rowKeys, ", "))
			}
		}
	}
	if o.target != "" {
		return measureTarget(ctx, o, stdout)
	}
	dir, err := os.MkdirTemp("", "uo-bench-*")
	if err != nil {
		return err
	}
	if o.keep {
		fmt.Fprintln(os.Stderr, "bench: keeping", dir)
	} else {
		defer os.RemoveAll(dir)
	}
	return measure(ctx, o, dir, stdout)
}

// service is one started instance of the service.
type service struct {
	proc     *process
	url      string
	pprofURL string // "" unless profiling
	log      string
}

// startService starts the service binary with the settings common to every instance plus db
// (the database settings), and waits until it answers.
func startService(ctx context.Context, o options, dir, name, secret string, db map[string]string) (*service, error) {
	port, err := proc.FreePort()
	if err != nil {
		return nil, err
	}
	env := map[string]string{
		"UO_LISTEN":            "127.0.0.1:" + strconv.Itoa(port),
		"UO_LOG_LEVEL":         o.logLevel,
		"UO_ENCRYPTION_KEY":    proc.RandomBase64(32),
		"UO_SESSION_KEY":       proc.RandomBase64(32),
		"UO_AUTH_HS256_SECRET": secret,
	}
	maps.Copy(env, db)
	s := &service{url: "http://127.0.0.1:" + strconv.Itoa(port), log: filepath.Join(dir, name+".log")}
	if o.profileDir != "" {
		p, err := proc.FreePort()
		if err != nil {
			return nil, err
		}
		env["UO_PPROF_LISTEN"] = "127.0.0.1:" + strconv.Itoa(p)
		s.pprofURL = "http://127.0.0.1:" + strconv.Itoa(p)
	}
	if s.proc, err = start(o.server, []string{"serve"}, env, s.log); err != nil {
		return nil, err
	}
	if err := waitReady(ctx, s.url+"/healthz", s.proc); err != nil {
		s.proc.stop()
		return nil, fmt.Errorf("%s: %w (log: %s)", name, err, tail(s.log))
	}
	if s.pprofURL != "" {
		if err := waitReady(ctx, s.pprofURL+"/debug/pprof/", s.proc); err != nil {
			s.proc.stop()
			return nil, fmt.Errorf("no pprof endpoint; build the service with -tags pprof: %w", err)
		}
	}
	return s, nil
}

func measure(ctx context.Context, o options, dir string, stdout io.Writer) error {
	started := time.Now()
	secret := proc.RandomHex(32)
	if o.profileDir != "" {
		if err := os.MkdirAll(o.profileDir, 0o750); err != nil {
			return err
		}
	}
	wanted := map[string]bool{}
	for _, r := range strings.Split(o.rows, ",") {
		wanted[strings.TrimSpace(r)] = true
	}
	profiled := map[string]bool{}
	for _, r := range strings.Split(o.profileRows, ",") {
		profiled[strings.TrimSpace(r)] = true
	}
	svc, err := startService(ctx, o, dir, "service", secret, map[string]string{
		"UO_DATABASE_DRIVER": "sqlite",
		"UO_DATABASE_PATH":   filepath.Join(dir, "usersorchestrator.db"),
	})
	if err != nil {
		return err
	}
	defer svc.proc.stop()

	token, err := auth.MintHS256([]byte(secret), auth.MintOptions{Subject: "bench", ClientCodes: []string{"demo"}, Lifetime: time.Hour}, time.Now())
	if err != nil {
		return err
	}
	api := &apiClient{base: svc.url, token: token, http: bench.NewClient(o.concurrency)}
	fmt.Fprintf(os.Stderr, "bench: seeding %d users to read and %d to log in...\n", o.readers, o.concurrency)
	seedStart := time.Now()
	s, err := seed(ctx, api, o.readers, o.concurrency)
	if err != nil {
		return fmt.Errorf("seed: %w", err)
	}
	seedTook := time.Since(seedStart)

	// The baseline answers, byte for byte, what the service answered for a seeded user.
	answer, err := api.get(ctx, "/v4/Users/"+url.PathEscape(s.readers[0].id))
	if err != nil {
		return err
	}
	bodyFile := filepath.Join(dir, "answer.json")
	if err := os.WriteFile(bodyFile, answer, 0o600); err != nil {
		return err
	}
	basePort, err := proc.FreePort()
	if err != nil {
		return err
	}
	baseAddr := "127.0.0.1:" + strconv.Itoa(basePort)
	base, err := start(o.baseline, []string{"-listen", baseAddr, "-body", bodyFile}, nil, filepath.Join(dir, "baseline.log"))
	if err != nil {
		return err
	}
	defer base.stop()
	baseURL := "http://" + baseAddr
	if err := waitReady(ctx, baseURL+"/v4/Users/"+url.PathEscape(s.readers[0].id), base); err != nil {
		return fmt.Errorf("baseline: %w", err)
	}

	cfg := bench.Config{Concurrency: o.concurrency, Warmup: o.warmup, Duration: o.duration}
	baseClient := &apiClient{base: baseURL, token: token, http: bench.NewClient(o.concurrency)}
	report := bench.Report{}
	fmt.Fprintln(os.Stderr, "bench: baseline: GET, bare gin, fixed body...")
	loadStart := proc.LoadAverage()
	baseCPU := base.cpu()
	base.resetPeakRSS()
	baseRes, err := bench.Run(ctx, baseClient.http, cfg, getByID(baseClient, s))
	if err != nil {
		return err
	}
	report.Baseline = bench.Row{Name: "baseline GET (bare gin)", Result: baseRes,
		ServerCPU: base.cpu() - baseCPU, ServerRequests: baseRes.Sent, ServerPeakRSS: base.peakRSS(),
		Note: fmt.Sprintf("gin.New() without middleware; one route answering a fixed %d-byte copy of the service's GET-by-id answer", len(answer))}

	// runRows measures the rows of rs that were asked for against the instances (their CPU and
	// peak RSS added up), the database's processes' CPU too when pg is set.
	runRows := func(rs []row, instances []*service, pg bool) error {
		for _, r := range rs {
			if !wanted[r.key] {
				continue
			}
			fmt.Fprintf(os.Stderr, "bench: %s...\n", r.name)
			var prof *profile
			if instances[0].pprofURL != "" && profiled[r.key] {
				prof = startProfile(ctx, instances[0].pprofURL, o.profileDir, r.key, cfg)
			}
			var cpu time.Duration
			for _, in := range instances {
				cpu -= in.proc.cpu()
				in.proc.resetPeakRSS()
			}
			dbCPU := -postgresCPU()
			res, err := bench.Run(ctx, api.http, cfg, r.next)
			if err != nil {
				return err
			}
			dbCPU += postgresCPU()
			var rss int64
			for _, in := range instances {
				cpu += in.proc.cpu()
				rss += in.proc.peakRSS()
			}
			if prof != nil {
				if err := prof.wait(); err != nil {
					return fmt.Errorf("profile %s: %w", r.key, err)
				}
			}
			note := r.note
			if pg && dbCPU > 0 && res.Sent > 0 {
				note += fmt.Sprintf("; PostgreSQL's processes: %.0f µs CPU/req", float64(dbCPU)/float64(res.Sent)/float64(time.Microsecond))
			}
			report.Rows = append(report.Rows, bench.Row{Name: r.name, Result: res, Note: note, ServerCPU: cpu, ServerRequests: res.Sent, ServerPeakRSS: rss})
		}
		return nil
	}
	if err := runRows(rowsFor(api, s, o), []*service{svc}, false); err != nil {
		return err
	}
	logSize := fileSize(svc.log)
	// The SQLite instance is done: stopped, it leaves the CPUs and memory to the PostgreSQL rows.
	svc.proc.stop()

	pgNote, err := measurePostgres(ctx, o, dir, secret, token, cfg, wanted, func(pgAPI *apiClient, pgSeed seeded, instances []*service) error {
		api = pgAPI
		return runRows(postgresRows(pgAPI, pgSeed, instances, o), instances, true)
	})
	if err != nil {
		return err
	}
	report.Header = header(o, started, loadStart, proc.LoadAverage())
	report.Footer = footer(o, report, logSize, seedTook, s, pgNote)

	var buf bytes.Buffer
	if err := report.Write(&buf); err != nil {
		return err
	}
	if _, err := stdout.Write(buf.Bytes()); err != nil {
		return err
	}
	if o.out != "" {
		if err := os.MkdirAll(filepath.Dir(o.out), 0o750); err != nil {
			return err
		}
		return os.WriteFile(o.out, buf.Bytes(), 0o644)
	}
	return nil
}

func fileSize(path string) int64 {
	fi, err := os.Stat(path)
	if err != nil {
		return -1
	}
	return fi.Size()
}

// measureTarget runs our rows against a service someone else started (make run), as its users
// would meet it: whatever its configuration, on this machine's loopback.
func measureTarget(ctx context.Context, o options, stdout io.Writer) error {
	started := time.Now()
	token := o.token
	if token == "" {
		var err error
		if token, err = auth.MintHS256([]byte(config.DevJWTSecret), auth.MintOptions{Subject: "bench", ClientCodes: []string{"demo"}, Lifetime: time.Hour}, time.Now()); err != nil {
			return err
		}
	}
	target := strings.TrimRight(o.target, "/")
	api := &apiClient{base: target, token: token, http: bench.NewClient(o.concurrency)}
	fmt.Fprintf(os.Stderr, "bench: seeding %d users to read and %d to log in at %s...\n", o.readers, o.concurrency, target)
	seedStart := time.Now()
	s, err := seed(ctx, api, o.readers, o.concurrency)
	if err != nil {
		return fmt.Errorf("seed: %w", err)
	}
	seedTook := time.Since(seedStart)
	wanted := map[string]bool{}
	for _, r := range strings.Split(o.rows, ",") {
		wanted[strings.TrimSpace(r)] = true
	}
	cfg := bench.Config{Concurrency: o.concurrency, Warmup: o.warmup, Duration: o.duration}
	report := bench.Report{}
	loadStart := proc.LoadAverage()
	for _, r := range rowsFor(api, s, o) {
		if !wanted[r.key] {
			continue
		}
		fmt.Fprintf(os.Stderr, "bench: %s...\n", r.name)
		res, err := bench.Run(ctx, api.http, cfg, r.next)
		if err != nil {
			return err
		}
		report.Rows = append(report.Rows, bench.Row{Name: r.name, Result: res, Note: r.note})
	}
	report.Header = append(header(o, started, loadStart, proc.LoadAverage()), "Target: "+target+" (started by someone else; its configuration is its own)")
	report.Footer = []string{fmt.Sprintf("Seeded through the API first: %d readers + %d logins in %s. The load generator ran on this machine (%d CPUs) beside the target.",
		o.readers, o.concurrency, seedTook.Round(time.Millisecond), runtime.NumCPU())}
	if err := report.Write(stdout); err != nil {
		return err
	}
	if o.out != "" && o.out != "bench/results.txt" {
		return writeReport(o.out, report)
	}
	return nil
}

func writeReport(path string, r bench.Report) error {
	var buf bytes.Buffer
	if err := r.Write(&buf); err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o750); err != nil {
		return err
	}
	return os.WriteFile(path, buf.Bytes(), 0o644)
}

// rowKeys name our rows for -rows, in the order they run: SQLite's (rowsFor), then PostgreSQL's.
var rowKeys = append([]string{"get-id", "get-email", "create", "authenticate"}, pgRowKeys...)

// row is one of our rows.
type row struct {
	key, name, note string
	next            bench.NewRequest
}

func rowsFor(api *apiClient, s seeded, o options) []row {
	run := proc.RandomHex(4) // makes this run's new emails unique even against a kept database
	return []row{
		{key: "get-id", name: "GET /v4/Users/{id}", next: getByID(api, s),
			note: fmt.Sprintf("%d seeded users read round-robin; each read records its SUBSCRIBE_USER_GETBYID event (queued, written in batches)", len(s.readers))},
		{key: "get-email", name: "GET /v4/Users?email=", next: func(w, seq int) (*http.Request, error) {
			u := s.readers[pick(w, seq, len(s.readers))]
			return api.request(http.MethodGet, "/v4/Users?email="+url.QueryEscape(u.email), nil)
		}, note: "the Get By Email selector; an event per read as for GET by id"},
		{key: "create", name: "POST /v4/Users (create)", next: func(w, seq int) (*http.Request, error) {
			body := fmt.Sprintf(`{"email":"new-%s-%03d-%06d@bench.example","password":%q,"firstName":"Ada","lastName":"Lovelace","metadata":{"plan":"gold"}}`,
				run, w, seq, benchPassword)
			return api.request(http.MethodPost, "/v4/Users", []byte(body))
		}, note: "a new user per request: argon2id hash (production parameters), registration + event + welcome email in one transaction"},
		{key: "authenticate", name: "POST /v4/Users/Authentication", next: func(w, seq int) (*http.Request, error) {
			u := s.logins[w%len(s.logins)]
			body := fmt.Sprintf(`{"loginName":%q,"password":%q}`, u.email, benchPassword)
			return api.request(http.MethodPost, "/v4/Users/Authentication", []byte(body))
		}, note: fmt.Sprintf("argon2id verify (production parameters) per request; one user per connection (%d): the login limiter (5 attempts per name, a success resets it) would refuse more in flight on one name", len(s.logins))},
	}
}

func getByID(api *apiClient, s seeded) bench.NewRequest {
	return func(w, seq int) (*http.Request, error) {
		u := s.readers[pick(w, seq, len(s.readers))]
		return api.request(http.MethodGet, "/v4/Users/"+url.PathEscape(u.id), nil)
	}
}

// pick spreads the workers over the seeded users so that they do not read the same rows in step.
func pick(w, seq, n int) int { return (w*7919 + seq) % n }

const benchPassword = "correct-horse-battery-staple"

type user struct{ id, email string }

// seeded is what seed made.
type seeded struct {
	// readers are passwordless users with names and metadata, read by the GET rows; their
	// emails have one width so that every answer has (nearly) the same size.
	readers []user
	// logins are users with a password, one per worker.
	logins []user
}

// seed creates the users through the API, 8 at a time.
func seed(ctx context.Context, api *apiClient, readers, logins int) (seeded, error) {
	s := seeded{readers: make([]user, readers), logins: make([]user, logins)}
	type job struct {
		dst   *user
		email string
		body  string
	}
	var jobs []job
	for i := range readers {
		email := fmt.Sprintf("reader-%05d@bench.example", i)
		jobs = append(jobs, job{&s.readers[i], email,
			fmt.Sprintf(`{"email":%q,"firstName":"Ada","lastName":"Lovelace","metadata":{"plan":"gold","newsletter":"weekly","ebill_flag":"true"}}`, email)})
	}
	for i := range logins {
		email := fmt.Sprintf("login-%05d@bench.example", i)
		jobs = append(jobs, job{&s.logins[i], email, fmt.Sprintf(`{"email":%q,"password":%q,"firstName":"Ada"}`, email, benchPassword)})
	}
	work := make(chan job)
	errs := make(chan error, 8)
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			for j := range work {
				id, err := api.create(ctx, j.body)
				if err != nil {
					errs <- fmt.Errorf("%s: %w", j.email, err)
					return
				}
				*j.dst = user{id: id, email: j.email}
			}
		})
	}
	var firstErr error
feed:
	for _, j := range jobs {
		select {
		case work <- j:
		case firstErr = <-errs:
			break feed
		}
	}
	close(work)
	wg.Wait()
	close(errs)
	if firstErr == nil {
		firstErr = <-errs
	}
	return s, firstErr
}

// apiClient sends the five required headers.
type apiClient struct {
	base, token string
	http        *http.Client
}

func (a *apiClient) request(method, path string, body []byte) (*http.Request, error) {
	var rdr io.Reader
	if body != nil {
		rdr = bytes.NewReader(body)
	}
	req, err := http.NewRequest(method, a.base+path, rdr)
	if err != nil {
		return nil, err
	}
	bench.SetHeaders(req, a.token, "Bench", body != nil)
	return req, nil
}

func (a *apiClient) do(ctx context.Context, method, path string, body []byte) ([]byte, error) {
	req, err := a.request(method, path, body)
	if err != nil {
		return nil, err
	}
	resp, err := a.http.Do(req.WithContext(ctx))
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil, err
	}
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("%s %s: %d %s", method, path, resp.StatusCode, b)
	}
	return b, nil
}

func (a *apiClient) get(ctx context.Context, path string) ([]byte, error) {
	return a.do(ctx, http.MethodGet, path, nil)
}

func (a *apiClient) create(ctx context.Context, body string) (string, error) {
	b, err := a.do(ctx, http.MethodPost, "/v4/Users", []byte(body))
	if err != nil {
		return "", err
	}
	return bench.RegistrationID(b)
}

// process is a started child and the /proc facts a row reports of it.
type process struct {
	*proc.Process
}

// cpu is the CPU time (user + system) the process has used so far, from /proc/PID/stat; zero
// where there is no /proc. The kernel counts in clock ticks of 1/100 s (USER_HZ), precise enough
// over a row of seconds.
func (p *process) cpu() time.Duration { return cpuOf(p.Pid()) }

// cpuOf is cpu for any process.
func cpuOf(pid int) time.Duration {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0
	}
	// The command name, field 2, is in parentheses and may hold spaces: count from after it.
	i := bytes.LastIndexByte(b, ')')
	if i < 0 {
		return 0
	}
	f := strings.Fields(string(b[i+1:]))
	// After the name: state(3) ... utime(14) stime(15), so indexes 11 and 12 here.
	if len(f) < 13 {
		return 0
	}
	utime, err1 := strconv.ParseInt(f[11], 10, 64)
	stime, err2 := strconv.ParseInt(f[12], 10, 64)
	if err1 != nil || err2 != nil {
		return 0
	}
	const userHZ = 100
	return time.Duration(utime+stime) * time.Second / userHZ
}

// resetPeakRSS makes the kernel count the process's peak resident set from now on (writing 5
// to /proc/PID/clear_refs), so that peakRSS gives one row's peak rather than the run's.
func (p *process) resetPeakRSS() {
	_ = os.WriteFile(fmt.Sprintf("/proc/%d/clear_refs", p.Pid()), []byte("5"), 0)
}

// peakRSS is the process's peak resident set in bytes (VmHWM in /proc/PID/status); zero where
// there is no /proc.
func (p *process) peakRSS() int64 {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", p.Pid()))
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			kb, err := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), 10, 64)
			if err != nil {
				return 0
			}
			return kb << 10
		}
	}
	return 0
}

// start runs bin with args, its environment being ours without any UO_* plus env, its output
// going to logPath.
func start(bin string, args []string, env map[string]string, logPath string) (*process, error) {
	p, err := proc.Start(bin, args, proc.Env(env), logPath)
	if err != nil {
		return nil, err
	}
	return &process{p}, nil
}

// stop ends the process gracefully (SIGTERM), or kills it after 10 s.
func (p *process) stop() { p.Stop(10 * time.Second) }

// waitReady polls u until it answers 200, for at most 20 s.
func waitReady(ctx context.Context, u string, p *process) error {
	return proc.WaitReady(ctx, u, p.Process, 20*time.Second, 50*time.Millisecond)
}

// profile is the CPU and alloc profiles of one row, taken over its measured window.
type profile struct {
	done chan error
}

// startProfile waits out the warm-up, then takes an alloc snapshot, a CPU profile of the
// measured window (whole seconds), and a second alloc snapshot: `go tool pprof -base` of the two
// snapshots is what the row allocated.
func startProfile(ctx context.Context, pprofURL, dir, key string, cfg bench.Config) *profile {
	p := &profile{done: make(chan error, 1)}
	fetch := func(path, file string) error {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, pprofURL+path, nil)
		if err != nil {
			return err
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			return err
		}
		defer resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			return fmt.Errorf("%s: %d", path, resp.StatusCode)
		}
		f, err := os.Create(filepath.Join(dir, file))
		if err != nil {
			return err
		}
		_, err = io.Copy(f, resp.Body)
		return errors.Join(err, f.Close())
	}
	go func() {
		select {
		case <-time.After(cfg.Warmup):
		case <-ctx.Done():
			p.done <- ctx.Err()
			return
		}
		secs := max(1, int(cfg.Duration.Seconds())-1)
		p.done <- errors.Join(
			fetch("/debug/pprof/allocs", key+".allocs.before.pb.gz"),
			fetch("/debug/pprof/profile?seconds="+strconv.Itoa(secs), key+".cpu.pb.gz"),
			fetch("/debug/pprof/allocs", key+".allocs.after.pb.gz"),
		)
	}()
	return p
}

func (p *profile) wait() error { return <-p.done }

func header(o options, started time.Time, loadStart, loadEnd string) []string {
	procs := fmt.Sprintf("GOMAXPROCS %d (%d CPUs)", runtime.GOMAXPROCS(0), runtime.NumCPU())
	if v := os.Getenv("GOMAXPROCS"); v != "" {
		procs += ", set by GOMAXPROCS=" + v + " for all three processes"
	} else {
		procs += ", the Go default, the same in all three processes"
	}
	// The service chooses its own collector settings unless GOGC / GOMEMLIMIT are set (README,
	// Performance); the baseline allocates too little for them to matter.
	gc := "collector: the service's own (GOGC 400 under a soft memory limit), Go's default for the baseline and the generator"
	if gogc, limit := os.Getenv("GOGC"), os.Getenv("GOMEMLIMIT"); gogc != "" || limit != "" {
		gc = fmt.Sprintf("collector: GOGC=%q GOMEMLIMIT=%q for all three processes (the service keeps its own for what is unset)", gogc, limit)
	}
	return []string{
		"make bench: Users Orchestrator vs a bare gin handler, " + started.UTC().Format("2006-01-02 15:04 MST"),
		fmt.Sprintf("%s %s/%s, %s", runtime.Version(), runtime.GOOS, runtime.GOARCH, procs),
		gc,
		fmt.Sprintf("%d concurrent requests (one keep-alive connection each, both servers alike), %s warm-up + %s measured per row, closed loop",
			o.concurrency, o.warmup, o.duration),
		// Anything else running shows here: req/s and latency move with it, CPU/req much less.
		fmt.Sprintf("load average (1/5/15 min) before the rows: %s, after: %s", loadStart, loadEnd),
	}
}

func footer(o options, r bench.Report, logSize int64, seedTook time.Duration, s seeded, pg []string) []string {
	out := []string{
		"",
		fmt.Sprintf("The service, the baseline and this load generator ran at the same time on this machine (%d CPUs): the", runtime.NumCPU()),
		"generator competes with the server for the CPU, in the same way for every row. Both servers on 127.0.0.1.",
		fmt.Sprintf("The service: the release binary, SQLite in a temp dir, log level %q to a file (the default level: one JSON", o.logLevel),
		"access-log line per request, as in production), production argon2id parameters (19 MiB, 2 passes).",
		fmt.Sprintf("Seeded through the API first: %d readers + %d logins in %s.", len(s.readers), len(s.logins), seedTook.Round(time.Millisecond)),
		"server CPU/req: the server process's user+system CPU time over the row (warm-up included) per request;",
		"other load on the machine moves it far less than req/s and latency, so compare it across runs.",
		"server peak RSS: the most resident memory the server process held during the row (VmHWM, reset before each row),",
		"memory freed but not yet given back to the system included: the GET rows follow the seeding's password hashes.",
	}
	if logSize >= 0 {
		out = append(out, fmt.Sprintf("SQLite service's log written during the run: %.1f MB.", float64(logSize)/1e6))
	}
	for _, row := range r.Rows {
		if row.Name != "GET /v4/Users/{id}" {
			continue
		}
		res, base := row.Result, r.Baseline.Result
		ratio := res.RPS() / base.RPS()
		p99, baseP99 := res.Percentile(99), base.Percentile(99)
		verdict := "met"
		if ratio < 0.6 || p99 > 2*baseP99 || res.Errors > 0 {
			verdict = "NOT met"
		}
		out = append(out, fmt.Sprintf("Goal (SQLite GET by id >= 0.60x the baseline's req/s, p99 <= 2x the baseline's, at %d concurrent): %.2fx, p99 %.2fx: %s.",
			o.concurrency, ratio, float64(p99)/float64(baseP99), verdict))
	}
	return append(out, pg...)
}

func tail(path string) string {
	b, err := os.ReadFile(path)
	if err != nil {
		return err.Error()
	}
	if len(b) > 2000 {
		b = b[len(b)-2000:]
	}
	return string(b)
}

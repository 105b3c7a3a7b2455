// Command soak is `make soak` (scripts/soak.sh builds the release binary and calls it): it runs
// the service on SQLite in a temp dir under a steady mixed load at about half of the capacity
// `make bench` measured, with the retention pruner at a short retention, samples the process and
// the database every few seconds, kills the service with SIGKILL once and starts it again on the
// same database, and fails when a metric grows after the warm-up beyond its tolerance, when a
// request fails, or when the restart lost an acknowledged change or an email.
//
// It writes, into -out: samples.csv, one PNG per metric, and summary.txt (also printed).
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log"
	"math"
	"math/rand/v2"
	"net/http"
	"os"
	"os/signal"
	"path/filepath"
	"runtime/debug"
	"strconv"
	"sync"
	"syscall"
	"time"

	"usersorchestrator/internal/auth"
	"usersorchestrator/internal/bench"
	"usersorchestrator/internal/bench/proc"
	"usersorchestrator/internal/soak/load"
	"usersorchestrator/internal/soak/mailsink"
)

type options struct {
	server, benchReport, out string
	duration, interval       time.Duration
	warmup, killAt           time.Duration
	load                     float64
	keep                     bool
	// seed fixes the random arrival times of the load (load.Arrivals); 0 picks one.
	seed uint64
}

func main() {
	// The load generator allocates a little per request at thousands a second; it shares the
	// two cores with the service, so it collects as rarely as the service does.
	debug.SetGCPercent(400)
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	ok, err := run(ctx, os.Args[1:], os.Stdout)
	if err != nil && !errors.Is(err, flag.ErrHelp) {
		fmt.Fprintln(os.Stderr, "soak:", err)
		os.Exit(2)
	}
	if !ok {
		os.Exit(1)
	}
}

// The writes' mean rates per second. Creates and logins cost ~25 ms of CPU each (argon2id with
// production parameters), so five a second of each is ~15 % of the two cores; forgot-password
// needs a created user that has not had one yet, and verify a code that has arrived. Each is
// sent often enough that its p99 window (p99MinRequests) is p99Window: a p99 over the 100
// requests of a 1/s operation spans 100 s, so that the six judged minutes of a ten-minute run
// hold fewer than four independent p99s of it, too few to judge a trend from.
var writeRates = map[string]float64{
	"create": 5, "login": 5, "update": 10, "forgot-password": 4, "send-code": 7, "verify": 8,
}

func run(ctx context.Context, args []string, stdout io.Writer) (bool, error) {
	var o options
	fs := flag.NewFlagSet("soak", flag.ContinueOnError)
	fs.StringVar(&o.server, "server", "bin/usersorchestrator", "the service binary (make build)")
	fs.StringVar(&o.benchReport, "bench", "bench/results.txt", "the `make bench` report the capacity is read from")
	fs.StringVar(&o.out, "out", "soak", "directory for samples.csv, the PNGs and summary.txt")
	fs.DurationVar(&o.duration, "d", 10*time.Minute, "how long the load runs")
	fs.DurationVar(&o.interval, "interval", 2*time.Second, "time between two samples")
	fs.DurationVar(&o.warmup, "warmup", 0, "warm-up after the restart, not judged (default: a fifth of -d, at least 30 s)")
	fs.DurationVar(&o.killAt, "kill-at", 0, "when to SIGKILL the service (default: a fifth of -d)")
	fs.Float64Var(&o.load, "load", 0.3, "fraction of the request rates bench/results.txt measured to load the service with (0.3: half the CPU, README)")
	fs.BoolVar(&o.keep, "keep", false, "keep the temp dir (database, service log)")
	fs.Uint64Var(&o.seed, "seed", 0, "seed of the requests' random arrival times, to replay a run's schedule (default: a new one, printed in the summary)")
	if err := fs.Parse(args); err != nil {
		return false, err
	}
	for o.seed == 0 {
		o.seed = rand.Uint64()
	}
	if o.killAt == 0 {
		o.killAt = o.duration / 5
	}
	if o.warmup == 0 {
		o.warmup = max(30*time.Second, o.duration/5)
	}
	if o.killAt <= 0 || o.killAt+o.warmup >= o.duration {
		return false, fmt.Errorf("-kill-at %s + -warmup %s leave nothing of -d %s to judge", o.killAt, o.warmup, o.duration)
	}
	bf, err := os.Open(o.benchReport)
	if err != nil {
		return false, err
	}
	capacity, err := load.Capacities(bf)
	bf.Close()
	if err != nil {
		return false, err
	}
	rates, writeShare, err := load.Plan(capacity, writeRates, o.load, 0.6)
	if err != nil {
		return false, err
	}

	dir, err := os.MkdirTemp("", "uo-soak-*")
	if err != nil {
		return false, err
	}
	if o.keep {
		fmt.Fprintln(os.Stderr, "soak: keeping", dir)
	} else {
		defer os.RemoveAll(dir)
	}
	if err := os.MkdirAll(o.out, 0o750); err != nil {
		return false, err
	}

	sink, err := mailsink.Start(log.New(io.Discard, "", 0))
	if err != nil {
		return false, err
	}
	defer sink.Close()

	port, err := proc.FreePort()
	if err != nil {
		return false, err
	}
	secret := proc.RandomHex(32)
	dbPath := filepath.Join(dir, "usersorchestrator.db")
	env := map[string]string{
		"UO_LISTEN":          "127.0.0.1:" + strconv.Itoa(port),
		"UO_LOG_LEVEL":       "info",
		"UO_DATABASE_DRIVER": "sqlite",
		"UO_DATABASE_PATH":   dbPath,
		"UO_ENCRYPTION_KEY":  proc.RandomBase64(32),
		"UO_SESSION_KEY":     proc.RandomBase64(32),
		// A secret of this run's own, so the token below is the only one that works.
		"UO_AUTH_HS256_SECRET": secret,
		"UO_SMTP_HOST":         "127.0.0.1",
		"UO_SMTP_PORT":         strconv.Itoa(sink.Port()),
		"UO_SMTP_TLS":          "none",
	}
	for k, v := range retentionEnv {
		env[k] = v
	}
	svc := newService(o.server, env, filepath.Join(dir, "service.log"), "http://127.0.0.1:"+strconv.Itoa(port))
	started := time.Now()
	if err := svc.start(ctx); err != nil {
		return false, err
	}
	defer svc.stop()

	token, err := auth.MintHS256([]byte(secret), auth.MintOptions{Subject: "soak", ClientCodes: []string{"demo"}, Lifetime: 24 * time.Hour}, time.Now())
	if err != nil {
		return false, err
	}
	a := &api{base: svc.url, token: token, http: bench.NewClient(128)}
	fmt.Fprintln(os.Stderr, "soak: seeding 200 readers and 16 logins...")
	s, err := seed(ctx, a, 200, 16)
	if err != nil {
		return false, fmt.Errorf("seed: %w", err)
	}
	run := proc.RandomHex(4)
	l := newLedger()
	runner := load.NewRunner(ops(a, l, sink, s, run, rates), o.seed)

	fmt.Fprintf(os.Stderr, "soak: %s of load (%s), kill at %s, warm-up %s after the restart; samples every %s to %s\n",
		o.duration, rateList(rates), o.killAt, o.warmup, o.interval, o.out)
	loadStart := time.Now()
	loadCtx, stopLoad := context.WithDeadline(ctx, loadStart.Add(o.duration))
	defer stopLoad()
	var wg sync.WaitGroup
	wg.Go(func() { runner.Run(loadCtx) })

	readers := 0
	smp := &sampler{svc: svc, db: dbPath, runner: runner, start: loadStart, http: &http.Client{Timeout: 5 * time.Second},
		window: load.NewWindow(int(math.Ceil(p99Window.Seconds()/o.interval.Seconds())), p99MinRequests),
		readAge: func(ctx context.Context) (float64, error) {
			// One reader per sample, in turn: each is read several times a second.
			readers++
			_, oldest, _, err := events(ctx, a, s.readers[readers%len(s.readers)].id)
			if err != nil || oldest.IsZero() {
				return math.NaN(), err
			}
			return time.Since(oldest).Seconds(), nil
		}}
	var restart restartResult
	wg.Go(func() {
		restart = killAndRestart(loadCtx, svc, runner, smp, loadStart.Add(o.killAt))
	})
	smp.loop(loadCtx, o.interval)
	wg.Wait()
	if ctx.Err() != nil {
		return false, ctx.Err()
	}
	if restart.err != nil {
		return false, fmt.Errorf("kill and restart: %w", restart.err)
	}

	// The outbox drains (delivery resumed after the restart and kept up), then the ledger.
	fmt.Fprintln(os.Stderr, "soak: load done; waiting for the outbox to drain, then checking every acknowledged change...")
	drain, drained := smp.waitBacklogZero(ctx, 2*time.Minute)
	integ := checkLedger(ctx, a, l, sink)

	res := result{
		opts: o, started: started, rates: rates, capacity: capacity, writeShare: writeShare,
		samples: smp.samples, restart: restart, totals: runner.Totals(), integrity: integ,
		drain: drain, drained: drained,
		judgeFrom: restart.readyAt + o.warmup, loadEnd: o.duration, mails: sink.Total(),
		logBytes: fileSize(svc.logPath),
	}
	return res.write(stdout)
}

// retentionEnv is the short retention of the soak: reads and sent emails are deleted after
// 30 s so that the pruner deletes all the time (several thousand read events a second), while
// change events are kept as by default, so that the check after the restart can find the event of
// every acknowledged change.
var retentionEnv = map[string]string{
	"UO_RETENTION_READ_EVENTS":      "30s",
	"UO_RETENTION_SENT_EMAILS":      "30s",
	"UO_RETENTION_ABANDONED_EMAILS": "30s",
	"UO_RETENTION_TOKENS":           "30s",
	"UO_RETENTION_INTERVAL":         "5s",
}

const readRetention = 30 * time.Second

// p99Window is the trailing window each sample's p99 is taken over.
const p99Window = 30 * time.Second

// p99MinRequests is how many latencies a p99 is taken over at least (the window reaching further
// back for an operation sent less than 100 times in p99Window): of 100 the p99 is the second
// slowest, not the one slowest. Every operation of writeRates fills it within p99Window, so
// that the windows the verdict fits through (one per p99Window) do not overlap.
const p99MinRequests = 100
const pruneInterval = 5 * time.Second

type restartResult struct {
	killedAt, readyAt time.Duration // since the load started
	downtime          time.Duration
	pid1, pid2        int
	err               error
}

// killAndRestart waits until at, then kills the service with SIGKILL while the load runs and
// starts it again on the same database.
func killAndRestart(ctx context.Context, svc *service, runner *load.Runner, smp *sampler, at time.Time) restartResult {
	select {
	case <-ctx.Done():
		return restartResult{err: errors.New("the run ended before the kill")}
	case <-time.After(time.Until(at)):
	}
	r := restartResult{pid1: svc.pid()}
	smp.mu.Lock()
	smp.down = true
	smp.mu.Unlock()
	runner.SetDown(true)
	t := time.Now()
	r.killedAt = t.Sub(smp.start)
	fmt.Fprintf(os.Stderr, "soak: SIGKILL pid %d at %s\n", r.pid1, since(r.killedAt))
	svc.kill()
	if err := svc.start(ctx); err != nil {
		r.err = err
		return r
	}
	runner.SetDown(false)
	smp.mu.Lock()
	smp.down = false
	smp.mu.Unlock()
	r.readyAt = time.Since(smp.start)
	r.downtime = time.Since(t)
	r.pid2 = svc.pid()
	fmt.Fprintf(os.Stderr, "soak: restarted as pid %d, answering after %s\n", r.pid2, r.downtime.Round(time.Millisecond))
	return r
}

func rateList(rates map[string]float64) string {
	out := ""
	for _, op := range opOrder {
		if out != "" {
			out += ", "
		}
		out += fmt.Sprintf("%s %.4g/s", op, rates[op])
	}
	return out
}

// opOrder is the order the operations are reported in.
var opOrder = []string{"get-id", "get-email", "create", "login", "update", "forgot-password", "send-code", "verify"}

func fileSize(path string) int64 {
	fi, err := os.Stat(path)
	if err != nil {
		return 0
	}
	return fi.Size()
}

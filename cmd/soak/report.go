package main

import (
	"bytes"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"time"

	"usersorchestrator/internal/bench/proc"
	"usersorchestrator/internal/soak/chart"
	"usersorchestrator/internal/soak/load"
	"usersorchestrator/internal/soak/trend"
)

// metric is one judged column and how much it may grow per hour (README, "Soak test", says why).
type metric struct {
	col, title, unit string
	scale            float64
	tol              trend.Tolerance
	// contended: the metric moves with the machine's other load (latency, and the goroutines
	// and connections in flight that latency holds open); judged on the uncontended samples.
	contended bool
	// chartOnly: drawn and its slope printed, but not judged.
	chartOnly bool
	// fit says which of the judged window's samples the line goes through.
	fit fitOn
}

// fitOn is what a metric's line is fitted through: one point per span of 30 s (15 samples at the
// default interval), each summarising samples of its own, so that the points are independent
// and a dozen of them judge a ten-minute run. Fitted through every sample instead, a gauge that
// wanders with the connections in flight (descriptors, goroutines, the WAL between checkpoints)
// has its samples correlated at 0.95-0.99: 180 of them worth two or three independent ones, and
// a t value of a hundred or more that would pass any leak.
type fitOn int

const (
	// medians: the median of each span.
	medians fitOn = iota
	// lowerQuartiles: the lower quartile of each span: the live heap, which only jumps up from
	// its level by the hash buffers in flight (trend.Quantiles says why not the median).
	lowerQuartiles
	// ownWindows: one sample per p99 window (p99Window), the one that ends it, so that the
	// points are p99s of disjoint sets of requests: the samples in between are p99s over windows
	// overlapping those, and their median would count the same requests 15 times. At least
	// minOwnWindows of them, or the p99 is charted and not judged.
	ownWindows
)

// quartileSpan is the time medians and lowerQuartiles group samples in: p99Window, or a twelfth of the
// judged window when that is shorter (a short run still has a dozen points to fit), but at least
// three samples.
func quartileSpan(judged, interval time.Duration) time.Duration {
	return max(min(p99Window, judged/12), 3*interval)
}

// minOwnWindows is the fewest disjoint p99 windows a p99's trend is judged from: a line through
// fewer independent p99s says nothing a run can be failed on.
const minOwnWindows = 8

// minTrendWindow is the shortest judged window (after the warm-up) any trend is judged over:
// minOwnWindows p99 windows. A shorter run (SOAK_DURATION under about 7 minutes: a quick look)
// charts every metric and says no trend was judged; in a minute after a restart's warm-up, the
// connections and goroutines still settling read as hundreds an hour. It still fails on a failed
// request, a drop, the kill losing anything, the outbox or the pruner.
const minTrendWindow = minOwnWindows * p99Window

// maxOtherCores is the CPU the other processes of this shared machine may take in a sample that
// judges a contended metric: with the service and the soak at ~1.4 of 2 cores, more than this
// leaves requests queueing for the CPU, and their latency measures the neighbours.
const maxOtherCores = 0.5

const mib = 1 << 20

// maxDropShare is the share of an operation's requests that may be dropped.
const maxDropShare = 0.1

// bytesPerUser is the database growth allowed per registration created during the run (created
// users and pending ones from verification codes): the registration, its change events, its
// token and outbox rows and their indexes. Measured about 4 KiB; 16 KiB leaves room and is still
// a thousandth of what unpruned read events would add (some 150 bytes each, thousands a second).
const bytesPerUser = 16 << 10

func metrics(usersPerHour float64) []metric {
	ms := []metric{
		{col: "rss_bytes", title: "Resident memory (RSS)", unit: "MiB", scale: mib, tol: trend.Tolerance{Relative: 1, Floor: 32 * mib}},
		// Each argon2id hash in flight holds 19 MiB, counted live by the collection that runs
		// while it is: the live heap jumps between levels 19 MiB apart from sample to sample
		// (README, "Soak test").
		{col: "heap_live_bytes", title: "Go heap live after the last GC (fit: lower quartile of each 30 s)", unit: "MiB", scale: mib,
			tol: trend.Tolerance{Relative: 1, Floor: 64 * mib}, fit: lowerQuartiles},
		// The two sawtooth with every collection (GOGC 400 under a memory limit), by as much as
		// their mean within seconds: charted, not judged; the live heap above shows a leak.
		{col: "heap_alloc_bytes", title: "Go heap allocated (sawtooth; not judged)", unit: "MiB", scale: mib,
			tol: trend.Tolerance{Relative: 2, Floor: 64 * mib}, chartOnly: true},
		{col: "heap_goal_bytes", title: "Go heap goal (next GC; not judged)", unit: "MiB", scale: mib,
			tol: trend.Tolerance{Relative: 2, Floor: 64 * mib}, chartOnly: true},
		{col: "goroutines", title: "Goroutines", unit: "goroutines", scale: 1, tol: trend.Tolerance{Relative: 1, Floor: 50}, contended: true},
		{col: "open_fds", title: "Open file descriptors (/proc/PID/fd)", unit: "fds", scale: 1, tol: trend.Tolerance{Relative: 0.25, Floor: 20}, contended: true},
		{col: "db_bytes", title: "SQLite database file", unit: "MiB", scale: mib,
			tol: trend.Tolerance{Relative: 0.1, Floor: 16 * mib, Extra: usersPerHour * bytesPerUser}},
		{col: "wal_bytes", title: "SQLite WAL file", unit: "MiB", scale: mib, tol: trend.Tolerance{Relative: 0.5, Floor: 32 * mib}},
		{col: "outbox_backlog", title: "Outbox backlog (emails not sent yet)", unit: "emails", scale: 1, tol: trend.Tolerance{Floor: 600}},
		// With the pruner keeping up it saws between the retention and retention + interval;
		// one falling behind ages it by 3600 s an hour.
		{col: "oldest_read_event_s", title: "Age of a reader's oldest read event (retention 30 s)", unit: "s", scale: 1, tol: trend.Tolerance{Floor: 600}},
	}
	for _, op := range opOrder {
		ms = append(ms, metric{col: "p99_" + op + "_ms", title: "p99 latency of " + op + " over the last 30 s (fit: one per 30 s)", unit: "ms", scale: 1,
			tol: trend.Tolerance{Relative: 2, Floor: 50}, contended: true, fit: ownWindows})
	}
	return ms
}

type result struct {
	opts               options
	started            time.Time
	rates, capacity    map[string]float64
	writeShare         float64
	samples            []sample
	restart            restartResult
	totals             []load.NamedTotals
	integrity          integrity
	drain              time.Duration
	drained            bool
	judgeFrom, loadEnd time.Duration
	mails              int
	logBytes           int64
}

// write judges the run, writes samples.csv, the PNGs and summary.txt into opts.out, prints the
// summary, and tells whether the soak passed.
func (r result) write(stdout io.Writer) (bool, error) {
	out := r.opts.out
	times := make([]time.Duration, len(r.samples))
	for i, s := range r.samples {
		times[i] = s.t
	}
	column := func(col string) []float64 {
		vals := make([]float64, len(r.samples))
		for i, s := range r.samples {
			v, ok := s.v[col]
			if !ok {
				v = math.NaN()
			}
			vals[i] = v
		}
		return vals
	}
	window := (r.loadEnd - r.judgeFrom).Hours()
	usersPerHour := 0.0
	if window > 0 {
		usersPerHour = float64(r.integrity.creates+r.integrity.codes) / r.loadEnd.Hours()
	}
	ms := metrics(usersPerHour)

	var cols []chart.Column
	for _, m := range ms {
		cols = append(cols, chart.Column{Name: m.col, Values: column(m.col)})
	}
	for _, op := range opOrder {
		cols = append(cols, chart.Column{Name: "req_" + op, Values: column("req_" + op)})
	}
	cols = append(cols, chart.Column{Name: "service_cpu_cores", Values: column("service_cpu_cores")},
		chart.Column{Name: "soak_cpu_cores", Values: column("soak_cpu_cores")},
		chart.Column{Name: "other_cpu_cores", Values: column("other_cpu_cores")})
	// The samples in which the rest of the machine took more than maxOtherCores.
	others := column("other_cpu_cores")
	contended := map[time.Duration]bool{}
	judgedSamples, contendedSamples := 0, 0
	for i, t := range times {
		if t < r.judgeFrom {
			continue
		}
		judgedSamples++
		if others[i] > maxOtherCores {
			contended[t] = true
			contendedSamples++
		}
	}
	var csvBuf bytes.Buffer
	if err := chart.WriteCSV(&csvBuf, times, cols); err != nil {
		return false, err
	}
	if err := os.WriteFile(filepath.Join(out, "samples.csv"), csvBuf.Bytes(), 0o644); err != nil {
		return false, err
	}

	var verdicts []trend.Verdict
	pass := true
	var fails []string
	marks := []chart.Mark{{At: r.restart.killedAt, Label: "SIGKILL + restart"}, {At: r.judgeFrom, Label: "warm-up ends"}}
	var notJudgedWhy []string
	shortRun := false
	// The metrics judged together: a run fails by chance at most one time in forty in all.
	family := 0
	for _, m := range ms {
		if !m.chartOnly {
			family++
		}
	}
	for _, m := range ms {
		pts := chart.Points(times, column(m.col))
		win := trend.After(pts, r.judgeFrom)
		if m.contended {
			win = slices.DeleteFunc(win, func(p trend.Point) bool { return contended[p.T] })
		}
		fitted, notJudged := "", ""
		switch {
		case m.chartOnly:
			notJudged = "sawtooth"
		case r.loadEnd-r.judgeFrom < minTrendWindow:
			notJudged = fmt.Sprintf("run too short: %s judged, trends need %s", since(r.loadEnd-r.judgeFrom), minTrendWindow)
			shortRun = true
		}
		qs := quartileSpan(r.loadEnd-r.judgeFrom, r.opts.interval)
		switch m.fit {
		case medians:
			win = trend.Quantiles(win, qs, 0.5)
			fitted = "median of each " + qs.Round(time.Second).String()
		case lowerQuartiles:
			win = trend.Quantiles(win, qs, 0.25)
			fitted = "lower quartile of each " + qs.Round(time.Second).String()
		case ownWindows:
			win = trend.Every(win, p99Window)
			fitted = "p99s of disjoint windows"
			if notJudged == "" && len(win) < minOwnWindows {
				notJudged = fmt.Sprintf("%d disjoint p99 windows without other load after the warm-up, %d needed", len(win), minOwnWindows)
				shortRun = true
			}
		}
		v := trend.JudgeHow(m.col, win, m.tol, trend.How{Family: family, Independent: true})
		if notJudged != "" {
			v.OK, v.Reason = true, ""
		}
		notJudgedWhy = append(notJudgedWhy, notJudged)
		verdicts = append(verdicts, v)
		if !v.OK {
			pass = false
			fails = append(fails, m.col+": "+v.Reason)
		}
		if err := chart.SavePNG(filepath.Join(out, m.col+".png"), chart.Figure{
			Title: m.title, Unit: m.unit, Scale: m.scale, Points: pts, Window: win, Marks: marks, Verdict: v, NotJudged: notJudged != "", FittedName: fitted,
		}); err != nil {
			return false, err
		}
	}

	var b strings.Builder
	w := func(format string, args ...any) { fmt.Fprintf(&b, format+"\n", args...) }
	w("make soak: %s UTC, %s of load on the release binary, SQLite in a temp dir", r.started.UTC().Format("2006-01-02 15:04"), r.opts.duration)
	w("%s %s/%s, GOMAXPROCS %d (%d CPUs); load average at the end: %s", runtime.Version(), runtime.GOOS, runtime.GOARCH, runtime.GOMAXPROCS(0), runtime.NumCPU(), proc.LoadAverage())
	w("retention: read events, sent and abandoned emails, tokens 30s; change events the default (kept); pruner every 5s")
	w("load: %.2f of the capacity in %s (reads fill what the writes leave; writes %.3f of it; update, forgot-password and the", r.opts.load, r.opts.benchReport, r.writeShare)
	w("verification steps have no bench row and are not counted), arriving at random (Poisson, -seed %d); samples every %s;", r.opts.seed, r.opts.interval)
	w("judged from %s (warm-up %s after the restart) to %s", since(r.judgeFrom), r.opts.warmup, since(r.loadEnd))
	w("")
	w("  %-16s|%10s|%10s|%9s|%7s|%12s|%8s|%8s|", "operation", "planned/s", "achieved/s", "ok", "failed", "interrupted", "dropped", "skipped")
	anyFailed := false
	for _, t := range r.totals {
		w("  %-16s|%10.1f|%10.1f|%9d|%7d|%12d|%8d|%8d|", t.Name, t.Rate, float64(t.OK+t.Failed)/r.loadEnd.Seconds(), t.OK, t.Failed, t.Interrupted, t.Dropped, t.Skipped)
		if t.Failed > 0 {
			anyFailed = true
			fails = append(fails, fmt.Sprintf("%s: %d requests failed", t.Name, t.Failed))
		}
		// A few drops under a burst from elsewhere on the machine are reported; more than a
		// tenth means the run did not apply the load it claims, and judged nothing.
		if scheduled := t.OK + t.Failed + t.Interrupted + t.Dropped + t.Skipped; scheduled > 0 && float64(t.Dropped) > maxDropShare*float64(scheduled) {
			fails = append(fails, fmt.Sprintf("%s: %d of %d requests dropped (over a second behind): the load was not sustained", t.Name, t.Dropped, scheduled))
		}
	}
	svcCPU := trend.Mean(trend.After(chart.Points(times, column("service_cpu_cores")), r.judgeFrom))
	soakCPU := trend.Mean(trend.After(chart.Points(times, column("soak_cpu_cores")), r.judgeFrom))
	otherCPU := trend.Mean(trend.After(chart.Points(times, column("other_cpu_cores")), r.judgeFrom))
	w("  CPU after the warm-up: the service %.2f cores, the soak itself (load, mail sink, sampler) %.2f, the other processes %.2f, of %d", svcCPU, soakCPU, otherCPU, runtime.NumCPU())
	w("  interrupted: failed in transport while the service was being killed and restarted (expected; checked below)")
	w("  dropped: due while a second of requests already waited (the service, or the machine, fell behind); at most %.0f %% allowed", maxDropShare*100)
	w("  skipped: nothing to do yet (no created user without a reset yet, no verification code arrived yet)")
	w("")
	w("Trend after the warm-up (least-squares slope and its standard error, per hour; allowed = max(floor, relative x mean) + extra;")
	w("a metric fails when its slope is above the allowed by more than t standard errors, t = Student's t at 1 - 2.5 %%/%d (the", family)
	w("%d metrics judged share the 2.5 %%) with n_eff - 2 degrees of freedom, n_eff the points fitted):", family)
	w("  latency, goroutines and fds: judged on the %d of %d samples in which the other processes of the machine took at most %.1f cores", judgedSamples-contendedSamples, judgedSamples, maxOtherCores)
	qs := quartileSpan(r.loadEnd-r.judgeFrom, r.opts.interval).Round(time.Second)
	w("  each metric is fitted through one point per %s, each of its own samples: the median of the span; for heap_live_bytes the", qs)
	w("  lower quartile (it jumps up by a 19 MiB hash buffer between samples); for the p99s the sample that ends each %s window", p99Window)
	w("  %-26s|%8s|%6s|%5s|%14s|%14s|%14s|%14s| %s", "metric", "samples", "n_eff", "t", "mean", "slope/h", "std err/h", "allowed/h", "verdict")
	for i, v := range verdicts {
		m := ms[i]
		verdict := "flat"
		if notJudgedWhy[i] != "" {
			verdict = "not judged (" + notJudgedWhy[i] + ")"
		}
		if !v.OK {
			verdict = "FAIL: " + v.Reason
		}
		w("  %-26s|%8d|%6.1f|%5.2f|%14s|%14s|%14s|%14s| %s", v.Metric, v.Samples, v.Effective, v.Critical, unit(v.Mean, m), unit(v.Slope, m), unit(v.StdErr, m), unit(v.Limit, m), verdict)
	}
	w("")
	rs := r.restart
	w("Kill and restart: SIGKILL of pid %d at %s under load; pid %d answered /healthz %s later.", rs.pid1, since(rs.killedAt), rs.pid2, rs.downtime.Round(time.Millisecond))
	in := r.integrity
	w("  acknowledged: %d creates, %d updates, %d forgot-password starts, %d verification codes, %d verified",
		in.creates, in.updates, in.forgot, in.codes, in.verified)
	w("  cut by the kill (outcome unknown): %d creates (%d of them written, whole), %d verification codes", in.unknownCreates, in.unknownWritten, in.unknownCodes)
	w("  emails owed to those: %d, delivered at least once: %d (%d deliveries in all); outbox empty %s after the load stopped: %v",
		in.mailsOwed, in.mailsDelivered, r.mails, r.drain.Round(time.Second), r.drained)
	if len(in.problems) == 0 {
		w("  every acknowledged create has its row and its SUBSCRIBE_USER_CREATE event, every update and reset its event, no")
		w("  create cut by the kill is half-written, and every email owed was delivered: nothing lost")
	}
	for _, p := range in.problems {
		w("  LOST: %s", p)
		fails = append(fails, "restart: "+p)
	}
	if !r.drained {
		fails = append(fails, "the outbox did not drain within 2 minutes after the load")
	}
	limit := (readRetention + pruneInterval + 30*time.Second).Seconds()
	oldest := 0.0
	for _, pt := range trend.After(chart.Points(times, column("oldest_read_event_s")), r.judgeFrom) {
		oldest = math.Max(oldest, pt.V)
	}
	if oldest > limit {
		fails = append(fails, fmt.Sprintf("a read event %.0f s old was still there after the warm-up, more than the %.0f s the pruner allows: it did not keep up", oldest, limit))
	}
	w("Pruning: the oldest read event seen after the warm-up was %.0f s old (read retention 30 s, pruner every 5 s; limit %.0f s).", oldest, limit)
	w("Service log (level info, one line per request): %.1f MB.", float64(r.logBytes)/1e6)
	w("")
	for _, t := range r.totals {
		for _, e := range t.Errors {
			w("  failed: %s", e)
		}
	}
	if len(fails) > 0 || anyFailed {
		pass = false
	}
	if pass && shortRun {
		w("PASS, but not every trend was judged (see the table: SOAK_DURATION of about 7 minutes or more judges them all);")
		w("no request failed, nothing was lost at the kill, the outbox drained and the pruner kept up.")
	} else if pass {
		w("PASS: nothing grew beyond its tolerance after the warm-up, no request failed, nothing was lost at the kill.")
	} else {
		w("FAIL:")
		for _, f := range fails {
			w("  - %s", f)
		}
	}
	if err := os.WriteFile(filepath.Join(out, "summary.txt"), []byte(b.String()), 0o644); err != nil {
		return false, err
	}
	_, err := io.WriteString(stdout, b.String())
	return pass, err
}

func unit(v float64, m metric) string {
	if m.scale != 1 {
		return fmt.Sprintf("%.2f %s", v/m.scale, m.unit)
	}
	return fmt.Sprintf("%.2f", v)
}

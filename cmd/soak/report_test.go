package main

import (
	"io"
	"maps"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

// runFor is the shape of a run of d as cmd/soak makes it: samples every 2 s, the kill at a fifth
// of d, judged from a warm-up (a fifth of d, at least 30 s) after it. Each column is made by its
// function of the sample's time (hours since the start) and a random source; the defaults are
// flat, with the noise the real runs have.
func runFor(t *testing.T, d time.Duration, over map[string]func(h float64, rng *rand.Rand) float64) (bool, string) {
	t.Helper()
	rng := rand.New(rand.NewPCG(5, 6))
	// A p99 over a trailing 30 s window: each sample keeps most of the one before.
	smooth := map[string]float64{}
	p99 := func(col string, mean float64) func(float64, *rand.Rand) float64 {
		return func(_ float64, rng *rand.Rand) float64 {
			smooth[col] = 0.93*smooth[col] + 0.07*rng.NormFloat64()*mean*0.8
			return mean * (1 + smooth[col]/mean)
		}
	}
	cols := map[string]func(float64, *rand.Rand) float64{
		"rss_bytes": func(_ float64, rng *rand.Rand) float64 { return 210*mib + rng.NormFloat64()*4*mib },
		// The hash buffers in flight at each collection: one at two in three, two at one in four.
		"heap_live_bytes": func(_ float64, rng *rand.Rand) float64 {
			buffers := 1.0
			switch x := rng.Float64(); {
			case x < 0.03:
				buffers = 0
			case x > 0.7:
				buffers = 2
			}
			return 6*mib + buffers*19*mib + rng.Float64()*0.5*mib
		},
		"heap_alloc_bytes":    func(_ float64, rng *rand.Rand) float64 { return 40*mib + rng.Float64()*100*mib },
		"heap_goal_bytes":     func(_ float64, rng *rand.Rand) float64 { return 150*mib + rng.NormFloat64()*10*mib },
		"goroutines":          func(_ float64, rng *rand.Rand) float64 { return 95 + math.Round(rng.NormFloat64()*5) },
		"open_fds":            func(_ float64, rng *rand.Rand) float64 { return 100 + math.Round(rng.NormFloat64()*3) },
		"db_bytes":            func(h float64, _ *rand.Rand) float64 { return 19*mib + h*80*mib },
		"wal_bytes":           func(float64, *rand.Rand) float64 { return 32 * mib },
		"outbox_backlog":      func(_ float64, rng *rand.Rand) float64 { return float64(rng.IntN(2)) },
		"oldest_read_event_s": func(_ float64, rng *rand.Rand) float64 { return 30 + 5*rng.Float64() },
		"other_cpu_cores":     func(float64, *rand.Rand) float64 { return 0.02 },
	}
	means := map[string]float64{"get-id": 25, "get-email": 25, "create": 160, "login": 165, "update": 45, "forgot-password": 45, "send-code": 50, "verify": 45}
	for _, op := range opOrder {
		cols["p99_"+op+"_ms"] = p99(op, means[op])
	}
	for col, f := range over {
		cols[col] = f
	}
	// The columns in a fixed order, so that the seeded source makes the same run every time.
	names := slices.Sorted(maps.Keys(cols))
	var samples []sample
	for at := 2 * time.Second; at <= d; at += 2 * time.Second {
		s := sample{t: at, v: map[string]float64{}}
		for _, col := range names {
			s.v[col] = cols[col](at.Hours(), rng)
		}
		samples = append(samples, s)
	}
	out := t.TempDir()
	killAt, warmup := d/5, max(30*time.Second, d/5)
	r := result{
		opts:    options{out: out, duration: d, interval: 2 * time.Second, warmup: warmup, load: 0.3, benchReport: "bench/results.txt", seed: 1},
		samples: samples,
		restart: restartResult{killedAt: killAt, readyAt: killAt + 100*time.Millisecond},
		drained: true,
		// The registrations a run creates are kept: the database may grow by them.
		integrity: integrity{creates: 3000, codes: 4200},
		judgeFrom: killAt + 100*time.Millisecond + warmup, loadEnd: d,
	}
	pass, err := r.write(io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	summary, err := os.ReadFile(filepath.Join(out, "summary.txt"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(out, "heap_live_bytes.png")); err != nil {
		t.Error(err)
	}
	return pass, string(summary)
}

// The verdict as the soak applies it: the live heap's hash buffers and the p99s' wander pass;
// a leak in any of them fails, on that metric.
func TestVerdict(t *testing.T) {
	tests := []struct {
		name     string
		over     map[string]func(float64, *rand.Rand) float64
		wantPass bool
		wantFail string // the metric the FAIL lines name
	}{
		{"flat, with hash buffers in the live heap", nil, true, ""},
		{"the live heap leaks 400 MiB an hour under its buffers", map[string]func(float64, *rand.Rand) float64{
			"heap_live_bytes": func(h float64, rng *rand.Rand) float64 {
				buffers := 1.0
				if rng.Float64() > 0.7 {
					buffers = 2
				}
				return 6*mib + buffers*19*mib + h*400*mib
			},
		}, false, "heap_live_bytes"},
		{"GET by id's p99 triples in the judged six minutes", map[string]func(float64, *rand.Rand) float64{
			"p99_get-id_ms": func(h float64, rng *rand.Rand) float64 {
				return 25 + 500*max(0, h-(4*time.Minute).Hours()) + rng.NormFloat64()*3
			},
		}, false, "p99_get-id_ms"},
		{"a descriptor leaked every ten seconds", map[string]func(float64, *rand.Rand) float64{
			"open_fds": func(h float64, rng *rand.Rand) float64 {
				return 100 + math.Floor(h*360) + math.Round(rng.NormFloat64()*3)
			},
		}, false, "open_fds"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			pass, summary := runFor(t, 10*time.Minute, tt.over)
			if pass != tt.wantPass {
				t.Fatalf("pass = %v, want %v:\n%s", pass, tt.wantPass, summary)
			}
			_, fails, _ := strings.Cut(summary, "\nFAIL:\n")
			if tt.wantFail != "" && !strings.Contains(fails, "- "+tt.wantFail+":") {
				t.Errorf("the failures do not name %s:\n%s", tt.wantFail, fails)
			}
			if tt.wantFail != "" && strings.Count(fails, "\n  - ") > 1 {
				t.Errorf("more than %s failed:\n%s", tt.wantFail, fails)
			}
		})
	}
}

// A quick look (SOAK_DURATION=2m) judges no trend (a minute after the warm-up cannot tell one
// from connections settling) and says so.
func TestShortRunJudgesNoTrend(t *testing.T) {
	pass, summary := runFor(t, 2*time.Minute, map[string]func(float64, *rand.Rand) float64{
		// Climbing as a restarted service's connections come back: 600 an hour over the minute.
		"goroutines": func(h float64, rng *rand.Rand) float64 { return 95 + 600*h + math.Round(rng.NormFloat64()*2) },
	})
	if !pass {
		t.Fatalf("a 2-minute run failed:\n%s", summary)
	}
	for _, metric := range []string{"goroutines", "heap_live_bytes", "p99_get-id_ms", "p99_verify_ms"} {
		if line := lineOf(summary, "  "+metric+" "); !strings.Contains(line, "not judged (run too short") {
			t.Errorf("%s: %q, want it not judged", metric, line)
		}
	}
	if !strings.Contains(summary, "PASS, but not every trend was judged") {
		t.Errorf("the summary does not say the trends were not judged:\n%s", summary)
	}
}

func lineOf(text, prefix string) string {
	for _, l := range strings.Split(text, "\n") {
		if strings.HasPrefix(l, prefix) {
			return l
		}
	}
	return ""
}

package trend

import (
	"math"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"time"
)

// line makes n points every step, starting at 0, of v = a + b*t(hours), plus noise[i%len].
func line(n int, step time.Duration, a, perHour float64, noise ...float64) []Point {
	pts := make([]Point, n)
	for i := range pts {
		t := time.Duration(i) * step
		v := a + perHour*t.Hours()
		if len(noise) > 0 {
			v += noise[i%len(noise)]
		}
		pts[i] = Point{T: t, V: v}
	}
	return pts
}

func TestSlope(t *testing.T) {
	tests := []struct {
		name   string
		points []Point
		want   float64
		within float64 // how far the fit may be off: exact lines fit exactly; noise moves them
	}{
		{"none", nil, 0, 0},
		{"one point", []Point{{T: time.Minute, V: 5}}, 0, 0},
		{"flat", line(100, 3*time.Second, 42, 0), 0, 1e-9},
		{"rising 60 per hour", line(100, 3*time.Second, 10, 60), 60, 1e-6},
		{"falling 3600 per hour", line(20, time.Minute, 1e6, -3600), -3600, 1e-6},
		// A symmetric sawtooth (GC, checkpoints) around a flat line fits as flat.
		{"flat sawtooth", line(200, 3*time.Second, 100, 0, -10, 10), 0, 5},
		{"rising under a sawtooth", line(1200, 3*time.Second, 100, 120, -10, 10), 120, 1},
		{"all at one time", []Point{{T: time.Second, V: 1}, {T: time.Second, V: 9}}, 0, 0},
		{"two points", []Point{{T: 0, V: 0}, {T: 30 * time.Minute, V: 5}}, 10, 1e-9},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := Slope(tt.points)
			if math.Abs(got-tt.want) > tt.within {
				t.Errorf("Slope = %v, want %v", got, tt.want)
			}
		})
	}
}

func TestJudge(t *testing.T) {
	tests := []struct {
		name       string
		points     []Point
		tol        Tolerance
		wantOK     bool
		wantLimit  float64
		wantReason string
	}{
		{"flat passes", line(60, 3*time.Second, 100, 0), Tolerance{Relative: 0.5, Floor: 1}, true, 50, ""},
		{"growth under the relative limit passes", line(60, 3*time.Second, 100, 40), Tolerance{Relative: 0.5}, true, 50.0, ""},
		{"growth over the relative limit fails", line(60, 3*time.Second, 100, 80), Tolerance{Relative: 0.5}, false, 50.0, "more than"},
		{"the floor applies to small values", line(60, 3*time.Second, 2, 15), Tolerance{Relative: 0.5, Floor: 20}, true, 20, ""},
		{"over the floor fails", line(60, 3*time.Second, 2, 25), Tolerance{Relative: 0.5, Floor: 20}, false, 20, "more than"},
		{"the extra allowance adds", line(60, 3*time.Second, 100, 70), Tolerance{Relative: 0.5, Extra: 30}, true, 80, ""},
		{"shrinking passes", line(60, 3*time.Second, 100, -500), Tolerance{}, true, 0, ""},
		{"too few samples fail", line(5, 3*time.Second, 100, 0), Tolerance{Relative: 1}, false, 100, "need at least"},
		{"negative mean uses its size", line(60, 3*time.Second, -100, 0), Tolerance{Relative: 0.1}, true, 10, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			v := Judge("m", tt.points, tt.tol)
			if v.OK != tt.wantOK {
				t.Errorf("OK = %v, want %v (%+v)", v.OK, tt.wantOK, v)
			}
			// The mean of a rising line sits a little above its start: compare loosely.
			if math.Abs(v.Limit-tt.wantLimit) > 0.05*math.Max(1, tt.wantLimit) {
				t.Errorf("Limit = %v, want about %v", v.Limit, tt.wantLimit)
			}
			if !strings.Contains(v.Reason, tt.wantReason) || (tt.wantReason == "") != (v.Reason == "") {
				t.Errorf("Reason = %q, want it to contain %q", v.Reason, tt.wantReason)
			}
			if v.Samples != len(tt.points) {
				t.Errorf("Samples = %d, want %d", v.Samples, len(tt.points))
			}
		})
	}
}

func TestAfter(t *testing.T) {
	pts := line(10, time.Second, 0, 0)
	got := After(pts, 4*time.Second)
	if len(got) != 6 || got[0].T != 4*time.Second {
		t.Fatalf("After kept %v", got)
	}
}

// levels makes a sample every 2 s for 6 minutes at base, some of them one hash buffer (19) higher:
// every everyFirst-th sample in the first half and every everySecond-th in the second, plus a
// steady growth of perHour.
func levels(base, perHour float64, everyFirst, everySecond int) []Point {
	var pts []Point
	for i := range 180 {
		t := time.Duration(i) * 2 * time.Second
		v := base + perHour*t.Hours()
		every := everyFirst
		if i >= 90 {
			every = everySecond
		}
		if i%every == 0 {
			v += 19
		}
		pts = append(pts, Point{T: t, V: v})
	}
	return pts
}

func TestQuantiles(t *testing.T) {
	t.Run("a level visited now and then, only later, is not growth", func(t *testing.T) {
		pts := levels(24, 0, 1000, 3)
		if s := Slope(pts); s < 64 {
			t.Fatalf("the raw fit is %.1f/h: the case does not show what the quantiles are for", s)
		}
		for _, q := range []float64{0.25, 0.5} {
			if s := Slope(Quantiles(pts, 30*time.Second, q)); math.Abs(s) > 1e-9 {
				t.Errorf("q %.2f: the fit is %.3f/h, want flat", q, s)
			}
		}
	})
	t.Run("a level held by half the samples moves the median, not the lower quartile", func(t *testing.T) {
		pts := levels(24, 0, 2, 2) // every other sample a buffer higher: 7 or 8 of each 15
		med := Quantiles(pts, 30*time.Second, 0.5)
		if s := StdErr(med); s < 10 {
			t.Fatalf("the medians' fit has a standard error of %.1f/h: the case does not show the median jumping", s)
		}
		for _, p := range Quantiles(pts, 30*time.Second, 0.25) {
			if p.V != 24 {
				t.Errorf("the lower quartile at %s is %v, want the level 24", p.T, p.V)
			}
		}
	})
	t.Run("growth moves the quantiles as much", func(t *testing.T) {
		if s := Slope(Quantiles(levels(24, 120, 1000, 3), 30*time.Second, 0.25)); math.Abs(s-120) > 5 {
			t.Errorf("the lower quartiles' fit is %.1f/h, want 120", s)
		}
	})
	t.Run("a step that stays is seen", func(t *testing.T) {
		pts := levels(24, 0, 1000, 1) // every sample of the second half a buffer higher
		if s := Slope(Quantiles(pts, 30*time.Second, 0.25)); s < 64 {
			t.Errorf("the lower quartiles' fit is %.1f/h: a level the metric stays at is not noise", s)
		}
	})
	t.Run("spans", func(t *testing.T) {
		pts := []Point{
			{T: 0, V: 5}, {T: 2 * time.Second, V: 1}, {T: 4 * time.Second, V: 3}, // median 3, lower quartile 2
			{T: 10 * time.Second, V: 4}, {T: 11 * time.Second, V: 8}, {T: 12 * time.Second, V: 6}, {T: 13 * time.Second, V: 100}, // median (6+8)/2, lower quartile 4.5
			{T: 20 * time.Second, V: 50}, {T: 21 * time.Second, V: 50}, // two points: left out
		}
		for _, tt := range []struct {
			q    float64
			want []Point
		}{
			{0.5, []Point{{T: 5 * time.Second, V: 3}, {T: 15 * time.Second, V: 7}}},
			{0.25, []Point{{T: 5 * time.Second, V: 2}, {T: 15 * time.Second, V: 5.5}}},
			{0, []Point{{T: 5 * time.Second, V: 1}, {T: 15 * time.Second, V: 4}}},
		} {
			if got := Quantiles(pts, 10*time.Second, tt.q); !slices.Equal(got, tt.want) {
				t.Errorf("Quantiles(q %v) = %v, want %v", tt.q, got, tt.want)
			}
		}
		if got := Quantiles(nil, time.Second, 0.5); got != nil {
			t.Errorf("Quantiles(nil) = %v", got)
		}
	})
}

// ar1 is a flat series of n samples every 2 s whose noise is autocorrelated: each sample keeps
// rho of the previous one's deviation, as a p99 over a trailing window does.
func ar1(rng *rand.Rand, n int, rho, sd float64) []Point {
	pts := make([]Point, n)
	e := rng.NormFloat64() * sd
	for i := range pts {
		e = rho*e + math.Sqrt(1-rho*rho)*sd*rng.NormFloat64()
		pts[i] = Point{T: time.Duration(i) * 2 * time.Second, V: 100 + e}
	}
	return pts
}

// StdErr measures what it claims: over many flat series of autocorrelated noise, the spread of
// the fitted slopes is about the standard error each series reports, and the judge fails about
// as few of them as Critical standard errors let through (2.5 % in theory; without the standard
// error, half would fail). Up to rho 0.9, which a p99 over 30 s sampled every 2 s has; beyond,
// 180 points are worth a handful of independent ones and the standard error comes out some 20 %
// low (at 0.97, 8 % of such series fail), which is why the soak keeps each operation's p99
// window to about 30 s by sending enough of every operation.
func TestStdErrMatchesTheSpreadOfSlopes(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	const runs = 400
	for _, rho := range []float64{0, 0.6, 0.9} {
		var sum2, seSum float64
		fails, rawFails := 0, 0
		for range runs {
			pts := ar1(rng, 180, rho, 10)
			s := Slope(pts)
			sum2 += s * s
			seSum += StdErr(pts)
			if !Judge("m", pts, Tolerance{}).OK {
				fails++
			}
			if s > 0 {
				rawFails++
			}
		}
		spread, se := math.Sqrt(sum2/runs), seSum/runs
		if se < 0.7*spread || se > 1.5*spread {
			t.Errorf("rho %.1f: slopes spread %.1f/h, the mean standard error is %.1f/h", rho, spread, se)
		}
		if share := float64(fails) / runs; share > 0.05 {
			t.Errorf("rho %.1f: %.1f%% of flat series failed a zero tolerance", rho, 100*share)
		}
		if rawFails < runs/3 {
			t.Errorf("rho %.1f: only %d of %d flat series rose at all: the case shows nothing", rho, rawFails, runs)
		}
	}
}

// A leak fails through noise: its samples lie on its line, so the standard error stays small.
func TestJudgeSeesALeakThroughNoise(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	for _, rho := range []float64{0, 0.9} {
		for range 50 {
			pts := ar1(rng, 180, rho, 2)
			for i := range pts {
				pts[i].V += 600 * pts[i].T.Hours() // +60 in the 6 minutes, 10x the limit
			}
			if v := Judge("fds", pts, Tolerance{Floor: 60}); v.OK {
				t.Fatalf("rho %.1f: a leak of 600/h passed: slope %.1f ± %.1f", rho, v.Slope, v.StdErr)
			}
		}
	}
}

func TestEvery(t *testing.T) {
	pts := []Point{{T: 0, V: 1}, {T: 10 * time.Second, V: 2}, {T: 29 * time.Second, V: 3},
		{T: 30 * time.Second, V: 4}, {T: 59 * time.Second, V: 5}, {T: 95 * time.Second, V: 6}}
	want := []Point{{T: 29 * time.Second, V: 3}, {T: 59 * time.Second, V: 5}, {T: 95 * time.Second, V: 6}}
	if got := Every(pts, 30*time.Second); !slices.Equal(got, want) {
		t.Errorf("Every = %v, want %v", got, want)
	}
	if got := Every(nil, time.Second); got != nil {
		t.Errorf("Every(nil) = %v", got)
	}
}

// A dozen points independent by construction (the lower quartile of each 30 s) are judged on
// their own scatter, worth as many samples as they are (t from n-2 degrees of freedom): a leak
// they measure fails among 16 metrics.
func TestIndependentPoints(t *testing.T) {
	var pts []Point
	for i := range 12 {
		at := 4*time.Minute + time.Duration(i)*30*time.Second
		pts = append(pts, Point{T: at, V: math.Round(24 + 400*at.Hours())}) // whole MiB, +400 MiB/h
	}
	tol := Tolerance{Relative: 1, Floor: 64}
	if v := JudgeHow("heap", pts, tol, How{Family: 16, Independent: true}); v.OK || v.Effective != 12 {
		t.Errorf("a leak of 400/h judged on independent points: %+v", v)
	}
	if c := Critical(12, 16); c < 3.5 || c > 4.2 {
		t.Errorf("Critical(12, 16) = %.2f, want Student's t(10) at 1-0.025/16, about 3.9", c)
	}
	if c := Critical(1000, 1); math.Abs(c-1.96) > 0.01 {
		t.Errorf("Critical(1000, 1) = %.3f, want about 1.96", c)
	}
}

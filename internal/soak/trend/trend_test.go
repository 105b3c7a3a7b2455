package trend

import (
	"math"
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

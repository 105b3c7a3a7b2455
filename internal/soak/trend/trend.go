// Package trend decides whether a metric sampled over time grows: it fits a least-squares line
// through the samples and compares its slope, scaled to one hour, with the growth the metric is
// allowed.
//
// A slope rather than first-versus-last: a single sample taken just before a garbage collection
// or a checkpoint would move a two-point comparison by the whole sawtooth, while every sample
// weighs the same in a fit.
package trend

import (
	"fmt"
	"math"
	"time"
)

// Point is one sample: when, and the value.
type Point struct {
	T time.Duration // since the run started
	V float64
}

// Slope is the least-squares slope of v over t, in units of v per hour. It is 0 for fewer than
// two points or when every point has the same time (no line to fit).
func Slope(points []Point) float64 {
	n := float64(len(points))
	if n < 2 {
		return 0
	}
	var mt, mv float64
	for _, p := range points {
		mt += p.T.Hours()
		mv += p.V
	}
	mt /= n
	mv /= n
	var num, den float64
	for _, p := range points {
		dt := p.T.Hours() - mt
		num += dt * (p.V - mv)
		den += dt * dt
	}
	if den == 0 {
		return 0
	}
	return num / den
}

// Mean is the average value (0 for no points).
func Mean(points []Point) float64 {
	if len(points) == 0 {
		return 0
	}
	var s float64
	for _, p := range points {
		s += p.V
	}
	return s / float64(len(points))
}

// Tolerance is the growth per hour a metric may show and still count as flat: the larger of
// Floor (in the metric's unit per hour) and Relative times the metric's mean (so 0.5 allows
// growing by half its own size in an hour), plus Extra (an allowance the run computes, e.g. for
// the rows the database keeps by design).
type Tolerance struct {
	Relative float64
	Floor    float64
	Extra    float64
}

// Limit is the largest slope per hour allowed for a metric whose mean is mean.
func (t Tolerance) Limit(mean float64) float64 {
	return math.Max(t.Floor, t.Relative*math.Abs(mean)) + t.Extra
}

// Verdict is one metric's result.
type Verdict struct {
	Metric  string
	Samples int
	Mean    float64
	Slope   float64 // per hour
	Limit   float64 // per hour
	OK      bool
	// Reason says why it failed ("" when OK).
	Reason string
}

// minSamples is the fewest points a slope is trusted from: fewer cannot tell a trend from noise,
// and the run is then too short to judge, which is a failure, not a pass.
const minSamples = 10

// Judge fits points and compares the slope with the tolerance. Shrinking is always fine; growth
// beyond the limit fails, and so does a window with too few samples to fit.
func Judge(metric string, points []Point, tol Tolerance) Verdict {
	v := Verdict{Metric: metric, Samples: len(points), Mean: Mean(points), Slope: Slope(points)}
	v.Limit = tol.Limit(v.Mean)
	switch {
	case len(points) < minSamples:
		v.Reason = fmt.Sprintf("%d samples after the warm-up, need at least %d", len(points), minSamples)
	case math.IsNaN(v.Slope) || math.IsInf(v.Slope, 0):
		v.Reason = "the slope is not a number"
	case v.Slope > v.Limit:
		v.Reason = fmt.Sprintf("grows %.4g/h, more than the %.4g/h allowed", v.Slope, v.Limit)
	default:
		v.OK = true
	}
	return v
}

// After keeps the points at or after from: the window after the warm-up.
func After(points []Point, from time.Duration) []Point {
	var out []Point
	for _, p := range points {
		if p.T >= from {
			out = append(out, p)
		}
	}
	return out
}

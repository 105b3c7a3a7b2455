// Package trend decides whether a metric sampled over time grows: it fits a least-squares line
// through the samples and compares its slope, scaled to one hour, with the growth the metric is
// allowed.
//
// A slope rather than first-versus-last: a single sample taken just before a garbage collection
// or a checkpoint would move a two-point comparison by the whole sawtooth, while every sample
// weighs the same in a fit.
//
// The slope of a short run is itself uncertain, and the more so as successive samples are alike
// (a p99 over a trailing window shares most of its requests with the sample before). A metric
// fails when its slope exceeds the allowed growth by more than Critical standard errors of the
// slope (Student's t for the samples the series is worth): what is judged is growth the samples
// show, not the wander of a noisy series, while a steady leak, whose samples lie on its line, has
// a small standard error and fails at once. A longer run shrinks the standard error (as the run's
// length to the power 1.5), so it judges closer to the tolerance itself.
package trend

import (
	"fmt"
	"math"
	"slices"
	"time"

	"gonum.org/v1/gonum/stat/distuv"
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

// StdErr is the standard error of Slope, per hour: the scatter of the points about the fitted
// line over the spread of their times, widened for the residuals' lag-1 autocorrelation rho by
// sqrt((1+rho)/(1-rho)), the usual correction for serially correlated errors in a trend (a
// series whose neighbours are alike holds fewer independent samples than points). 0 for fewer
// than three points.
func StdErr(points []Point) float64 {
	se, _ := stdErr(points, false)
	return se
}

// stdErr is StdErr and the number of independent samples the points are worth,
// n(1-rho)/(1+rho); for points independent by construction, rho is 0.
func stdErr(points []Point, independent bool) (se, effective float64) {
	n := len(points)
	if n < 3 {
		return 0, float64(n)
	}
	b := Slope(points)
	var mt, mv float64
	for _, p := range points {
		mt += p.T.Hours()
		mv += p.V
	}
	mt /= float64(n)
	mv /= float64(n)
	res := make([]float64, n)
	var sxx, ss float64
	for i, p := range points {
		dt := p.T.Hours() - mt
		sxx += dt * dt
		res[i] = p.V - mv - b*dt
		ss += res[i] * res[i]
	}
	if sxx == 0 || ss == 0 {
		return 0, float64(n)
	}
	if independent {
		return math.Sqrt(ss / float64(n-2) / sxx), float64(n)
	}
	var lag float64
	for i := 1; i < n; i++ {
		lag += res[i-1] * res[i]
	}
	// The lag-1 autocorrelation of n residuals underestimates the series' own, by about
	// (1+3 rho)/n (Marriott and Pope, 1954); added back, as it matters at the rho of a p99 over
	// a trailing window (~0.9).
	r := lag / ss
	rho := min(max(r+(1+3*r)/float64(n), 0), maxRho)
	return math.Sqrt(ss / float64(n-2) / sxx * (1 + rho) / (1 - rho)), float64(n) * (1 - rho) / (1 + rho)
}

// maxRho bounds the autocorrelation stdErr corrects for: at 0.99 the points count as half a
// hundredth of their number; beyond, the correction would grow without bound on a nearly
// constant series whose last digits happen to drift.
const maxRho = 0.99

// Critical is how many standard errors above the allowed growth a slope must be to fail, for a
// series worth effective independent samples judged as one of family metrics: Student's t with
// effective-2 degrees of freedom (at least one) at 1 - 2.5 %/family. For one metric of
// independent samples that is about 2, so that a metric flat at the edge of its tolerance fails
// by chance in one run in forty; a run judging family metrics at once splits those 2.5 % among
// them (Bonferroni), so that the run, not each metric, fails by chance at most one time in forty
// (16 metrics: about 3 for independent samples). Larger when the samples are few or alike, whose
// standard error is itself a rough estimate.
func Critical(effective float64, family int) float64 {
	return distuv.StudentsT{Mu: 0, Sigma: 1, Nu: max(effective-2, 1)}.Quantile(1 - 0.025/float64(max(family, 1)))
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
	StdErr  float64 // of the slope, per hour
	// Effective is how many independent samples the points are worth; Critical the standard
	// errors the slope may exceed Limit by (Critical(Effective, family)).
	Effective, Critical float64
	Limit               float64 // per hour
	OK                  bool
	// Reason says why it failed ("" when OK).
	Reason string
}

// minSamples is the fewest points a slope is trusted from: fewer cannot tell a trend from noise,
// and the run is then too short to judge, which is a failure, not a pass.
const minSamples = 10

// Judge fits points and compares the slope with the tolerance. Shrinking is always fine; growth
// beyond the limit by more than Critical standard errors fails, and so does a window with too
// few samples to fit.
func Judge(metric string, points []Point, tol Tolerance) Verdict {
	return JudgeHow(metric, points, tol, How{})
}

// How says how a metric's points are judged.
type How struct {
	// Family is how many metrics the run judges together (Critical); 0 or 1 is this one alone.
	Family int
	// Independent: the points are independent by construction (one per disjoint window, a
	// quantile of each span), so their scatter is taken as it is. Estimating an autocorrelation
	// from a dozen such points would only add noise: its small-sample correction alone moves it
	// by a third, and the few degrees of freedom left would let through a leak measured to the
	// MiB.
	Independent bool
}

// JudgeHow is Judge for points judged as how says.
func JudgeHow(metric string, points []Point, tol Tolerance, how How) Verdict {
	v := Verdict{Metric: metric, Samples: len(points), Mean: Mean(points), Slope: Slope(points)}
	v.StdErr, v.Effective = stdErr(points, how.Independent)
	v.Critical = Critical(v.Effective, how.Family)
	v.Limit = tol.Limit(v.Mean)
	switch {
	case len(points) < minSamples:
		v.Reason = fmt.Sprintf("%d samples after the warm-up, need at least %d", len(points), minSamples)
	case math.IsNaN(v.Slope) || math.IsInf(v.Slope, 0):
		v.Reason = "the slope is not a number"
	case v.Slope-v.Critical*v.StdErr > v.Limit:
		v.Reason = fmt.Sprintf("grows %.4g/h (± %.3g), more than the %.4g/h allowed by over %.3g standard errors", v.Slope, v.StdErr, v.Limit, v.Critical)
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

// Quantiles replaces the points by the q-quantile (0.5: the median, 0.25: the lower quartile;
// interpolated between the two nearest values) of each span of time from the first point's time,
// placed at the span's middle; spans with fewer than three points are left out.
//
// For a metric that only ever jumps up from its level by a transient (the live heap counts the
// 19 MiB buffer of each password hash in flight at the collection: 0, 1, 2 or 3 of them), a low
// quantile of each span follows the level under the transients: growth moves every sample and so
// every quantile, a level visited now and then moves none. The median would do while more than
// half the samples are at the lowest common level; with a second level held by a third of them,
// one span in a few has a majority there and the median jumps with it, while the lower quartile
// stays.
func Quantiles(points []Point, span time.Duration, q float64) []Point {
	if len(points) == 0 || span <= 0 {
		return nil
	}
	var out []Point
	start := points[0].T
	for i := 0; i < len(points); {
		k := (points[i].T - start) / span
		j := i
		for j < len(points) && (points[j].T-start)/span == k {
			j++
		}
		if j-i >= 3 {
			vals := make([]float64, 0, j-i)
			for _, p := range points[i:j] {
				vals = append(vals, p.V)
			}
			slices.Sort(vals)
			pos := q * float64(len(vals)-1)
			lo := int(pos)
			v := vals[lo]
			if lo+1 < len(vals) {
				v += (pos - float64(lo)) * (vals[lo+1] - vals[lo])
			}
			out = append(out, Point{T: start + k*span + span/2, V: v})
		}
		i = j
	}
	return out
}

// Every keeps the last point of each span of time (from the first point's time): for a series
// whose samples each summarise a trailing window of that span (a p99 over the last 30 s), the
// points kept summarise disjoint windows, and so are independent samples instead of a dozen
// overlapping views of the same requests.
func Every(points []Point, span time.Duration) []Point {
	if len(points) == 0 || span <= 0 {
		return nil
	}
	var out []Point
	start := points[0].T
	for i, p := range points {
		if i == len(points)-1 || (points[i+1].T-start)/span != (p.T-start)/span {
			out = append(out, p)
		}
	}
	return out
}

// Package chart writes the soak's samples: one CSV of every metric over time, and one PNG per
// metric with the samples, the line fitted after the warm-up (what the verdict judged) and marks
// at the kill and at the end of the warm-up, so that a reader sees at a glance whether it is flat.
package chart

import (
	"encoding/csv"
	"fmt"
	"image/color"
	"io"
	"math"
	"strconv"
	"time"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"

	"usersorchestrator/internal/soak/trend"
)

// Column is one metric's values, one per sample time; NaN where it was not measured (the
// service was down, or no request of that kind completed in the interval).
type Column struct {
	Name   string
	Values []float64
}

// WriteCSV writes a header (t_seconds then the column names) and one row per sample time.
// Missing values are empty cells.
func WriteCSV(w io.Writer, times []time.Duration, cols []Column) error {
	cw := csv.NewWriter(w)
	head := []string{"t_seconds"}
	for _, c := range cols {
		if len(c.Values) != len(times) {
			return fmt.Errorf("chart: column %s has %d values for %d times", c.Name, len(c.Values), len(times))
		}
		head = append(head, c.Name)
	}
	if err := cw.Write(head); err != nil {
		return err
	}
	for i, t := range times {
		row := []string{strconv.FormatFloat(t.Seconds(), 'f', 1, 64)}
		for _, c := range cols {
			v := c.Values[i]
			if math.IsNaN(v) {
				row = append(row, "")
			} else {
				row = append(row, strconv.FormatFloat(v, 'g', 8, 64))
			}
		}
		if err := cw.Write(row); err != nil {
			return err
		}
	}
	cw.Flush()
	return cw.Error()
}

// Points turns a column into the points that have a value.
func Points(times []time.Duration, values []float64) []trend.Point {
	var pts []trend.Point
	for i, v := range values {
		if !math.IsNaN(v) {
			pts = append(pts, trend.Point{T: times[i], V: v})
		}
	}
	return pts
}

// Figure is one metric's chart.
type Figure struct {
	Title string
	// Unit labels the Y axis; Scale divides every value (1<<20 to draw bytes as MiB).
	Unit  string
	Scale float64
	// Points are every sample; Window the judged ones (after the warm-up).
	Points, Window []trend.Point
	// Marks are vertical lines with a label (the kill, the end of the warm-up).
	Marks []Mark
	// Verdict is printed under the title; NotJudged says the slope was only measured.
	Verdict   trend.Verdict
	NotJudged bool
	// FittedName, when set, draws the Window's points (what the line was fitted through, when
	// not the samples themselves: quartiles, one sample per window) as dots under that name.
	FittedName string
}

// Mark is a vertical line at a time.
type Mark struct {
	At    time.Duration
	Label string
}

// SavePNG draws f to path.
func SavePNG(path string, f Figure) error {
	scale := f.Scale
	if scale == 0 {
		scale = 1
	}
	p := plot.New()
	status := "flat"
	switch {
	case f.NotJudged:
		status = "not judged"
	case !f.Verdict.OK:
		status = "FAIL: " + f.Verdict.Reason
	}
	p.Title.Text = fmt.Sprintf("%s\nslope after warm-up %.3g ± %.2g %s/h, allowed %.3g %s/h: %s",
		f.Title, f.Verdict.Slope/scale, f.Verdict.StdErr/scale, f.Unit, f.Verdict.Limit/scale, f.Unit, status)
	p.X.Label.Text = "minutes since start"
	p.Y.Label.Text = f.Unit
	p.Add(plotter.NewGrid())

	xy := func(pts []trend.Point) plotter.XYs {
		out := make(plotter.XYs, len(pts))
		for i, pt := range pts {
			out[i].X, out[i].Y = pt.T.Minutes(), pt.V/scale
		}
		return out
	}
	lo, hi := math.Inf(1), math.Inf(-1)
	for _, pt := range f.Points {
		lo, hi = math.Min(lo, pt.V/scale), math.Max(hi, pt.V/scale)
	}
	if len(f.Points) == 0 {
		lo, hi = 0, 1
	}
	// Start the axis at zero for values that never go below it, so a small wobble on a big
	// value does not look like a climb.
	if lo >= 0 {
		lo = 0
	}
	if hi <= lo {
		hi = lo + 1
	}
	// Headroom above the data for the legend.
	top := lo + (hi-lo)*1.3
	p.Y.Min, p.Y.Max = lo, top

	if len(f.Window) >= 2 {
		slope := f.Verdict.Slope / scale // per hour
		mt, mv := 0.0, 0.0
		for _, pt := range f.Window {
			mt += pt.T.Hours()
			mv += pt.V / scale
		}
		mt /= float64(len(f.Window))
		mv /= float64(len(f.Window))
		at := func(t time.Duration) float64 { return mv + slope*(t.Hours()-mt) }
		first, last := f.Window[0].T, f.Window[len(f.Window)-1].T
		fit, err := plotter.NewLine(plotter.XYs{{X: first.Minutes(), Y: at(first)}, {X: last.Minutes(), Y: at(last)}})
		if err != nil {
			return err
		}
		fit.Color = color.RGBA{R: 220, A: 255}
		fit.Width = vg.Points(2)
		p.Add(fit)
		p.Legend.Add("fit after warm-up", fit)
	}
	// Each segment between gaps (the service was down) is its own line, drawn over the fit.
	for _, seg := range segments(f.Points) {
		l, err := plotter.NewLine(xy(seg))
		if err != nil {
			return err
		}
		l.Color = color.RGBA{B: 200, A: 255}
		l.Width = vg.Points(1)
		p.Add(l)
	}
	if f.FittedName != "" && len(f.Window) > 0 {
		dots, err := plotter.NewScatter(xy(f.Window))
		if err != nil {
			return err
		}
		dots.Color = color.RGBA{R: 220, A: 255}
		dots.Radius = vg.Points(3)
		p.Add(dots)
		p.Legend.Add(f.FittedName, dots)
	}
	for _, m := range f.Marks {
		l, err := plotter.NewLine(plotter.XYs{{X: m.At.Minutes(), Y: lo}, {X: m.At.Minutes(), Y: top}})
		if err != nil {
			return err
		}
		l.Color = color.RGBA{R: 120, G: 120, B: 120, A: 255}
		l.Dashes = []vg.Length{vg.Points(4), vg.Points(3)}
		p.Add(l)
		p.Legend.Add(m.Label, l)
	}
	p.Legend.Top = true
	return p.Save(9*vg.Inch, 4*vg.Inch, path)
}

// segments splits points where the gap between two is over three times the usual step.
func segments(pts []trend.Point) [][]trend.Point {
	if len(pts) < 2 {
		return [][]trend.Point{pts}
	}
	step := (pts[len(pts)-1].T - pts[0].T) / time.Duration(len(pts)-1)
	var out [][]trend.Point
	start := 0
	for i := 1; i < len(pts); i++ {
		if pts[i].T-pts[i-1].T > 3*step {
			out = append(out, pts[start:i])
			start = i
		}
	}
	return append(out, pts[start:])
}

package chart

import (
	"bytes"
	"image/png"
	"math"
	"os"
	"path/filepath"
	"testing"
	"time"

	"usersorchestrator/internal/soak/trend"
)

func TestWriteCSV(t *testing.T) {
	times := []time.Duration{0, 3 * time.Second, 6 * time.Second}
	tests := []struct {
		name    string
		cols    []Column
		want    string
		wantErr bool
	}{
		{"values and gaps", []Column{{"rss_bytes", []float64{1e8, math.NaN(), 123456789}}, {"p99_ms", []float64{1.5, 2, math.NaN()}}},
			"t_seconds,rss_bytes,p99_ms\n0.0,1e+08,1.5\n3.0,,2\n6.0,1.2345679e+08,\n", false},
		{"a short column is refused", []Column{{"x", []float64{1}}}, "", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var b bytes.Buffer
			err := WriteCSV(&b, times, tt.cols)
			if (err != nil) != tt.wantErr {
				t.Fatalf("err = %v", err)
			}
			if !tt.wantErr && b.String() != tt.want {
				t.Errorf("got\n%s\nwant\n%s", b.String(), tt.want)
			}
		})
	}
}

func TestSegmentsSplitAtTheOutage(t *testing.T) {
	var pts []trend.Point
	for i := range 10 {
		pts = append(pts, trend.Point{T: time.Duration(i) * 3 * time.Second})
	}
	for i := range 10 {
		pts = append(pts, trend.Point{T: time.Minute + time.Duration(i)*3*time.Second})
	}
	if got := segments(pts); len(got) != 2 || len(got[0]) != 10 || len(got[1]) != 10 {
		t.Fatalf("segments: %d", len(got))
	}
}

func TestSavePNG(t *testing.T) {
	var pts []trend.Point
	for i := range 50 {
		pts = append(pts, trend.Point{T: time.Duration(i) * 3 * time.Second, V: float64(100<<20 + (i%2)*(1<<20))})
	}
	window := trend.After(pts, 30*time.Second)
	path := filepath.Join(t.TempDir(), "rss.png")
	err := SavePNG(path, Figure{Title: "RSS", Unit: "MiB", Scale: 1 << 20, Points: pts, Window: window,
		Marks:   []Mark{{At: 30 * time.Second, Label: "warm-up ends"}},
		Verdict: trend.Judge("rss", window, trend.Tolerance{Relative: 0.5})})
	if err != nil {
		t.Fatal(err)
	}
	// The points a line was fitted through, when not the samples, are drawn too.
	quartiles := trend.Quantiles(window, 9*time.Second, 0.25)
	if err := SavePNG(filepath.Join(t.TempDir(), "heap.png"), Figure{Title: "heap", Unit: "MiB", Scale: 1 << 20, Points: pts,
		Window: quartiles, Verdict: trend.Judge("heap", quartiles, trend.Tolerance{Relative: 0.5}), FittedName: "lower quartile of each 9s"}); err != nil {
		t.Fatal(err)
	}
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	img, err := png.Decode(f)
	if err != nil {
		t.Fatalf("not a PNG: %v", err)
	}
	if b := img.Bounds(); b.Dx() < 500 || b.Dy() < 200 {
		t.Errorf("image is %v", b)
	}
}

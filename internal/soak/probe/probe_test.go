package probe

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestParseMetrics(t *testing.T) {
	tests := []struct {
		name    string
		in      string
		want    map[string]float64
		wantErr bool
	}{
		{"unlabelled samples, comments and labelled series", `# HELP go_goroutines Number of goroutines.
# TYPE go_goroutines gauge
go_goroutines 15
go_memstats_heap_alloc_bytes 1.5226472e+07
usersorchestrator_http_requests_total{operation="getUserById",code="S200_01"} 3
process_open_fds 16
`, map[string]float64{"go_goroutines": 15, "go_memstats_heap_alloc_bytes": 15226472, "process_open_fds": 16}, false},
		{"a value with a timestamp", "usersorchestrator_outbox_backlog 7 1700000000000\n", map[string]float64{"usersorchestrator_outbox_backlog": 7}, false},
		{"not a number", "go_goroutines many\n", nil, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseMetrics(strings.NewReader(tt.in))
			if (err != nil) != tt.wantErr {
				t.Fatalf("err = %v", err)
			}
			if tt.wantErr {
				return
			}
			if len(got) != len(tt.want) {
				t.Errorf("got %v, want %v", got, tt.want)
			}
			for k, v := range tt.want {
				if got[k] != v {
					t.Errorf("%s = %v, want %v", k, got[k], v)
				}
			}
		})
	}
}

func TestOpenFDsAndFileSize(t *testing.T) {
	n, err := OpenFDs(os.Getpid())
	if err != nil {
		t.Skip("no /proc here:", err)
	}
	f, err := os.Create(filepath.Join(t.TempDir(), "x"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if m, _ := OpenFDs(os.Getpid()); m != n+1 {
		t.Errorf("open fds %d then %d after opening a file", n, m)
	}
	if _, err := f.WriteString("12345"); err != nil {
		t.Fatal(err)
	}
	if s, err := FileSize(f.Name()); err != nil || s != 5 {
		t.Errorf("FileSize = %d, %v", s, err)
	}
	if s, err := FileSize(f.Name() + "-wal"); err != nil || s != 0 {
		t.Errorf("missing file: %d, %v", s, err)
	}
}

func TestCPUGrowsWithWork(t *testing.T) {
	before, err := CPU(os.Getpid())
	if err != nil {
		t.Skip("no /proc here:", err)
	}
	machineBefore, err := MachineCPU()
	if err != nil {
		t.Fatal(err)
	}
	x := 0
	for start := time.Now(); time.Since(start) < 300*time.Millisecond; {
		x++
	}
	machineAfter, _ := MachineCPU()
	after, err := CPU(os.Getpid())
	if err != nil {
		t.Fatal(err)
	}
	if d := after - before; d < 100*time.Millisecond {
		t.Errorf("300 ms of spinning counted as %s of CPU (%d loops)", d, x)
	}
	// The machine's count includes ours (ticks are rounded: allow one of each).
	if d, own := machineAfter-machineBefore, after-before; d < own-20*time.Millisecond {
		t.Errorf("the machine used %s while this process alone used %s", d, own)
	}
}

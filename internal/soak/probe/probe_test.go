package probe

import (
	"os"
	"path/filepath"
	"strings"
	"syscall"
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

// CPU reads the same time the kernel reports to the process itself (getrusage), whatever else
// the machine is doing: the work is measured in CPU time spent, not in wall time, so a busy
// machine makes the test slower, not wrong.
func TestCPUGrowsWithWork(t *testing.T) {
	before, err := CPU(os.Getpid())
	if err != nil {
		t.Skip("no /proc here:", err)
	}
	machineBefore, err := MachineCPU()
	if err != nil {
		t.Fatal(err)
	}
	ownBefore := rusage(t)
	x := 0
	for deadline := time.Now().Add(30 * time.Second); rusage(t)-ownBefore < 200*time.Millisecond; x++ {
		if time.Now().After(deadline) {
			t.Fatal("200 ms of CPU not spent in 30 s")
		}
	}
	own := rusage(t) - ownBefore
	machineAfter, _ := MachineCPU()
	after, err := CPU(os.Getpid())
	if err != nil {
		t.Fatal(err)
	}
	// /proc counts in clock ticks (10 ms): allow two of them either way.
	if d := after - before; d < own-20*time.Millisecond || d > own+20*time.Millisecond {
		t.Errorf("%s of CPU spent (getrusage) counted as %s (%d loops)", own, d, x)
	}
	// The machine's count includes ours (ticks are rounded: allow two).
	if d := machineAfter - machineBefore; d < own-20*time.Millisecond {
		t.Errorf("the machine used %s while this process alone used %s", d, own)
	}
}

// rusage is this process's user and system CPU time as the kernel reports it to the process.
func rusage(t *testing.T) time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		t.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

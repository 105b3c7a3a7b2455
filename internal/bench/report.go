package bench

import (
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"
)

// Row is one line of the report.
type Row struct {
	Name   string
	Result Result
	// Note explains the row (e.g. "argon2id per request").
	Note string
	// ServerCPU is the CPU time the server process used during the row (warm-up included), zero
	// when unknown. Per request it is a figure that other load on the machine hardly moves.
	ServerCPU time.Duration
	// ServerRequests is what ServerCPU is divided by: every request of the row, warm-up included.
	ServerRequests int
	// ServerPeakRSS is the most memory the server process held during the row (its resident set
	// at its peak, in bytes), zero when unknown.
	ServerPeakRSS int64
}

// CPUPerRequest is the server's CPU time per request, zero when unknown.
func (r Row) CPUPerRequest() time.Duration {
	if r.ServerCPU <= 0 || r.ServerRequests <= 0 {
		return 0
	}
	return r.ServerCPU / time.Duration(r.ServerRequests)
}

// Report is the table `make bench` prints.
type Report struct {
	// Header lines (date, Go version, machine, settings), printed above the table.
	Header []string
	// Baseline is the row the others are compared with; Rows are ours.
	Baseline Row
	Rows     []Row
	// Footer lines, printed below the table.
	Footer []string
}

// Write prints the report as a plain-text table.
func (r Report) Write(w io.Writer) error {
	var b strings.Builder
	for _, h := range r.Header {
		b.WriteString(h + "\n")
	}
	b.WriteString("\n")
	tw := tabwriter.NewWriter(&b, 0, 0, 2, ' ', tabwriter.AlignRight|tabwriter.Debug)
	// Numbers align right; names are padded to one width so that they read left-aligned.
	width := len(r.Baseline.Name)
	for _, row := range r.Rows {
		width = max(width, len(row.Name))
	}
	name := func(s string) string { return s + strings.Repeat(" ", width-len(s)) }
	fmt.Fprintln(tw, name("row")+"\treq/s\tp50\tp99\terrors\tbody B\tserver CPU/req\tserver peak RSS\treq/s vs baseline\tp99 vs baseline\t")
	base := r.Baseline.Result
	line := func(row Row, ratios bool) {
		res := row.Result
		rps, p99 := "-", "-"
		if ratios {
			rps = ratio(res.RPS(), base.RPS())
			p99 = ratio(float64(res.Percentile(99)), float64(base.Percentile(99)))
		}
		errs := fmt.Sprint(res.Errors)
		if s := res.StatusSummary(); s != "" {
			errs += " (" + s + ")"
		}
		cpu := "-"
		if d := row.CPUPerRequest(); d > 0 {
			cpu = fmt.Sprintf("%.0f µs", float64(d)/float64(time.Microsecond))
		}
		rss := "-"
		if row.ServerPeakRSS > 0 {
			rss = fmt.Sprintf("%.0f MiB", float64(row.ServerPeakRSS)/(1<<20))
		}
		fmt.Fprintf(tw, "%s\t%.0f\t%s\t%s\t%s\t%.0f\t%s\t%s\t%s\t%s\t\n", name(row.Name), res.RPS(), ms(res.Percentile(50)),
			ms(res.Percentile(99)), errs, res.BodyBytes, cpu, rss, rps, p99)
	}
	hasBaseline := r.Baseline.Name != "" // a run against an external target has none
	if hasBaseline {
		line(r.Baseline, false)
	}
	for _, row := range r.Rows {
		line(row, hasBaseline)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	b.WriteString("\n")
	for _, row := range append([]Row{r.Baseline}, r.Rows...) {
		if row.Name == "" {
			continue
		}
		if row.Note != "" {
			fmt.Fprintf(&b, "  %s: %s\n", row.Name, row.Note)
		}
		if row.Result.FirstError != "" {
			fmt.Fprintf(&b, "  %s: first error: %s\n", row.Name, row.Result.FirstError)
		}
	}
	for _, f := range r.Footer {
		b.WriteString(f + "\n")
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// ratio is ours/baseline, e.g. "0.62x".
func ratio(ours, baseline float64) string {
	if baseline <= 0 {
		return "-"
	}
	return fmt.Sprintf("%.2fx", ours/baseline)
}

// ms prints a latency in milliseconds with precision to match its size.
func ms(d time.Duration) string {
	v := float64(d) / float64(time.Millisecond)
	switch {
	case v < 10:
		return fmt.Sprintf("%.2f ms", v)
	case v < 100:
		return fmt.Sprintf("%.1f ms", v)
	default:
		return fmt.Sprintf("%.0f ms", v)
	}
}

package metrics_test

import (
	"bytes"
	"io"
	"net/http"
	"testing"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"

	"usersorchestrator/internal/metrics"
)

type families map[string]*dto.MetricFamily

// gather reads the metrics straight from the registry.
func gather(t *testing.T, m *metrics.Metrics) families {
	t.Helper()
	list, err := m.Registry().Gather()
	if err != nil {
		t.Fatalf("gather: %v", err)
	}
	fams := families{}
	for _, f := range list {
		fams[f.GetName()] = f
	}
	return fams
}

// scrape reads the metrics as Prometheus does: GET url, text format.
func scrape(t *testing.T, url string) families {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatalf("scrape: %v", err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("scrape answered %d: %s", resp.StatusCode, body)
	}
	p := expfmt.NewTextParser(model.UTF8Validation)
	fams, err := p.TextToMetricFamilies(bytes.NewReader(body))
	if err != nil {
		t.Fatalf("scrape: parse: %v\n%s", err, body)
	}
	return fams
}

// sample is the value of the series of family name whose labels include the given name/value
// pairs: a counter's or gauge's value, a histogram's count of observations; -1 when there is none.
func sample(fams families, name string, labels ...string) float64 {
	f, ok := fams[name]
	if !ok {
		return -1
	}
next:
	for _, m := range f.GetMetric() {
		have := map[string]string{}
		for _, lp := range m.GetLabel() {
			have[lp.GetName()] = lp.GetValue()
		}
		for i := 0; i+1 < len(labels); i += 2 {
			if have[labels[i]] != labels[i+1] {
				continue next
			}
		}
		switch {
		case m.Counter != nil:
			return m.GetCounter().GetValue()
		case m.Gauge != nil:
			return m.GetGauge().GetValue()
		case m.Histogram != nil:
			return float64(m.GetHistogram().GetSampleCount())
		}
	}
	return -1
}

// series counts the series of a family.
func series(fams families, name string) int {
	if f, ok := fams[name]; ok {
		return len(f.GetMetric())
	}
	return 0
}

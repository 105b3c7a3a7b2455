package load

import (
	"math"
	"strings"
	"testing"
)

const report = `  row                          |  req/s|      p50|      p99|
  baseline GET (bare gin)      |  45987|  1.15 ms|  5.83 ms|
  GET /v4/Users/{id}           |  19704|  2.79 ms|  12.3 ms|
  GET /v4/Users?email=         |  13706|  3.88 ms|  17.7 ms|
  POST /v4/Users (create)      |     78|   816 ms|  1043 ms|
  POST /v4/Users/Authentication|     88|   709 ms|   911 ms|
`

func TestCapacities(t *testing.T) {
	tests := []struct {
		name    string
		in      string
		want    map[string]float64
		wantErr string
	}{
		{"the bench report", report, map[string]float64{"get-id": 19704, "get-email": 13706, "create": 78, "login": 88}, ""},
		{"a row missing", strings.Replace(report, "POST /v4/Users (create)", "POST /v4/Users (other)", 1), nil, "no req/s for create"},
		{"a bad number", strings.Replace(report, "19704", "fast", 1), nil, "GET /v4/Users/{id}"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Capacities(strings.NewReader(tt.in))
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			for k, v := range tt.want {
				if got[k] != v {
					t.Errorf("%s = %v, want %v", k, got[k], v)
				}
			}
		})
	}
}

func TestPlan(t *testing.T) {
	capacity := map[string]float64{"get-id": 20000, "get-email": 10000, "create": 80, "login": 100}
	tests := []struct {
		name              string
		writes            map[string]float64
		load, share       float64
		wantID, wantEmail float64
		wantUsed          float64
		wantErr           bool
	}{
		// create 4/80 = 0.05, login 5/100 = 0.05, update has no row: 0.1 used, 0.4 left.
		{"half", map[string]float64{"create": 4, "login": 5, "update": 3}, 0.5, 0.5, 0.2 * 20000, 0.2 * 10000, 0.1, false},
		{"all reads by id", map[string]float64{}, 0.5, 1, 10000, 0, 0, false},
		{"writes over the load", map[string]float64{"create": 60}, 0.5, 0.5, 0, 0, 0, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rates, used, err := Plan(capacity, tt.writes, tt.load, tt.share)
			if (err != nil) != tt.wantErr {
				t.Fatalf("err = %v", err)
			}
			if tt.wantErr {
				return
			}
			if math.Abs(rates["get-id"]-tt.wantID) > 1e-6 || math.Abs(rates["get-email"]-tt.wantEmail) > 1e-6 || math.Abs(used-tt.wantUsed) > 1e-9 {
				t.Errorf("rates %v used %v", rates, used)
			}
			for op, r := range tt.writes {
				if rates[op] != r {
					t.Errorf("%s = %v, want the fixed %v", op, rates[op], r)
				}
			}
		})
	}
}

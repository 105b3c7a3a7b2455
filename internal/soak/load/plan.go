package load

import (
	"bufio"
	"fmt"
	"io"
	"strconv"
	"strings"
)

// BenchRows maps the rows of bench/results.txt (`make bench`'s report) to the soak's operations.
var BenchRows = map[string]string{
	"GET /v4/Users/{id}":            "get-id",
	"GET /v4/Users?email=":          "get-email",
	"POST /v4/Users (create)":       "create",
	"POST /v4/Users/Authentication": "login",
}

// Capacities reads the req/s column of a `make bench` report: what one instance answered per
// second for each operation it measured, at full load.
func Capacities(r io.Reader) (map[string]float64, error) {
	out := map[string]float64{}
	sc := bufio.NewScanner(r)
	for sc.Scan() {
		f := strings.Split(sc.Text(), "|")
		if len(f) < 3 {
			continue
		}
		op, ok := BenchRows[strings.TrimSpace(f[0])]
		if !ok {
			continue
		}
		v, err := strconv.ParseFloat(strings.TrimSpace(f[1]), 64)
		if err != nil {
			return nil, fmt.Errorf("bench report: row %q: %w", strings.TrimSpace(f[0]), err)
		}
		out[op] = v
	}
	if err := sc.Err(); err != nil {
		return nil, err
	}
	for _, op := range BenchRows {
		if out[op] <= 0 {
			return nil, fmt.Errorf("bench report: no req/s for %s", op)
		}
	}
	return out, nil
}

// Plan sets the rates: the writes at the fixed rates given (they are few: each create and
// login is an argon2id hash of ~25 ms of CPU), and the two reads share what remains of load (the
// fraction of capacity to use, e.g. 0.5) as readShare of get-id and the rest get-email. The
// utilisation of an operation is its rate over its capacity; operations without a bench row
// (update, forgot-password, verification) are not counted, and the plan says so.
func Plan(capacity map[string]float64, writes map[string]float64, load, readShare float64) (map[string]float64, float64, error) {
	rates := map[string]float64{}
	used := 0.0
	for op, r := range writes {
		rates[op] = r
		if c := capacity[op]; c > 0 {
			used += r / c
		}
	}
	budget := load - used
	if budget <= 0 {
		return nil, 0, fmt.Errorf("the writes alone use %.2f of the capacity, more than the %.2f asked", used, load)
	}
	rates["get-id"] = budget * readShare * capacity["get-id"]
	rates["get-email"] = budget * (1 - readShare) * capacity["get-email"]
	return rates, used, nil
}

// Package schemafuzz_test sends the running service thousands of requests generated from
// openapi.yaml (see gen_test.go) and checks every answer against the contract.
package schemafuzz_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"usersorchestrator/internal/apitest"
	"usersorchestrator/internal/contract"
	"usersorchestrator/internal/mail/mailtest"
)

// Knobs, read from the environment so that a failure seen in CI can be replayed exactly.
const (
	envSeed     = "SCHEMAFUZZ_SEED"     // the generator's seed; a new one each run when unset
	envRequests = "SCHEMAFUZZ_REQUESTS" // how many requests (default 3000, 300 with -short)
	envBudget   = "SCHEMAFUZZ_BUDGET"   // wall-time budget, a time.Duration (default 60s)
	// maxFailingRequests stops a run that fails everywhere: past this, more reports add nothing.
	maxFailingRequests = 20
)

func envUint(t *testing.T, name string, def uint64) uint64 {
	t.Helper()
	s := os.Getenv(name)
	if s == "" {
		return def
	}
	v, err := strconv.ParseUint(s, 10, 64)
	if err != nil {
		t.Fatalf("%s=%q: %v", name, s, err)
	}
	return v
}

// TestSchemaDrivenRequests generates requests from openapi.yaml with a seeded generator, sends
// them to the real service through the checking client (every answer must keep the contract:
// a status documented for the operation, a body of its schema, a catalogued code of that status),
// and asserts that none answers 5xx and that every code answered is one the contract documents for
// the operation. It logs the seed, and a tally of the codes answered per operation.
//
// A new seed each run widens what CI covers over time; a failure prints its seed, replay it with
// SCHEMAFUZZ_SEED=<seed> go test ./internal/schemafuzz -run TestSchemaDrivenRequests -v. The
// sequence of requests is a function of the seed, except where a request reuses an id the
// service generated (random UUIDs), which changes values but not the decisions taken.
func TestSchemaDrivenRequests(t *testing.T) {
	seed := envUint(t, envSeed, uint64(time.Now().UnixNano()))
	count := envUint(t, envRequests, 3000)
	if testing.Short() && os.Getenv(envRequests) == "" {
		count = 300
	}
	budget := 60 * time.Second
	if s := os.Getenv(envBudget); s != "" {
		d, err := time.ParseDuration(s)
		if err != nil {
			t.Fatalf("%s=%q: %v", envBudget, s, err)
		}
		budget = d
	}
	t.Logf("seed %d: replay with %s=%d", seed, envSeed, seed)

	doc, err := contract.Load()
	if err != nil {
		t.Fatal(err)
	}
	ops := operations(doc)
	env := apitest.Start(t)
	g := newGenerator(seed, ops, time.Now())

	tally := map[string]map[string]int{}
	failing, mailSeen := 0, 0
	start := time.Now()
	sent := uint64(0)
	for ; sent < count; sent++ {
		if time.Since(start) > budget {
			t.Logf("the time budget of %s ran out after %d requests", budget, sent)
			break
		}
		req := g.next()
		failedBefore := t.Failed()
		status, code, reqID, body := send(t, env, req)
		opID := "(no operation)"
		if req.op != nil {
			opID = req.op.id
		}
		if tally[opID] == nil {
			tally[opID] = map[string]int{}
		}
		tally[opID][fmt.Sprintf("%d %s", status, code)]++

		var problems []string
		if status >= 500 {
			problems = append(problems, fmt.Sprintf("answered %d %s", status, code))
		}
		switch {
		case req.op == nil && code != "UsersOrchestrator_E404":
			problems = append(problems, fmt.Sprintf("a route the contract does not have answered %s, not UsersOrchestrator_E404", code))
		case req.op != nil && !req.op.codes[code]:
			problems = append(problems, fmt.Sprintf("answered %s, which openapi.yaml does not document for %s", code, req.op.id))
		}
		if len(problems) > 0 {
			t.Errorf("request #%d (seed %d): %s\n%s\nanswer: %.500s\nservice log:\n%s", sent, seed, strings.Join(problems, "; "), req, body, logsFor(env, reqID))
		}
		if len(problems) > 0 || (!failedBefore && t.Failed()) {
			// The checking transport reports contract breaks without the request; add it.
			if len(problems) == 0 {
				t.Logf("the failure above is request #%d (seed %d):\n%s", sent, seed, req)
			}
			if failing++; failing >= maxFailingRequests {
				t.Fatalf("stopping after %d failing requests", failing)
			}
		}
		if status == http.StatusOK {
			g.learn(body)
		}
		// The emailed links carry what no answer does: verification codes, reset ids.
		msgs := env.Mail.Messages()
		for _, m := range msgs[mailSeen:] {
			for _, link := range mailtest.Links(m.Body) {
				if u, err := url.Parse(link); err == nil {
					for _, name := range sortedKeys(u.Query()) {
						g.learnValue(name, u.Query().Get(name))
					}
				}
			}
		}
		mailSeen = len(msgs)
	}
	elapsed := time.Since(start)
	t.Logf("%d requests in %s (%.0f/s)\n%s", sent, elapsed.Round(time.Millisecond), float64(sent)/elapsed.Seconds(), summary(tally))

	// The generator must reach the contract's checks for every operation, or the run proves
	// little: each operation answers at least one request and refuses at least one as invalid.
	if sent == count && count >= 1000 {
		for _, op := range ops {
			if tally[op.id]["400 UsersOrchestrator_E400_00"] == 0 {
				t.Errorf("%s never answered 400 UsersOrchestrator_E400_00: the generator does not reach its validation", op.id)
			}
		}
	}
}

// send sends req with the five headers of the default tenant, edited as req says, through the
// checking client. It answers the status, the message code, the request id and the body.
func send(t *testing.T, env *apitest.Env, req *request) (int, string, string, []byte) {
	t.Helper()
	target := env.URL + req.path
	if len(req.query) > 0 {
		target += "?" + strings.Join(req.query, "&")
	}
	var body io.Reader
	if req.hasBody {
		body = bytes.NewReader(req.body)
		if req.chunked {
			body = io.MultiReader(body) // hides the length: sent chunked
		}
	}
	r, err := http.NewRequestWithContext(context.Background(), req.method, target, body)
	if err != nil {
		t.Fatalf("the generator made a request Go cannot send: %v\n%s", err, req)
	}
	_ = env.As(env.Tenant)(context.Background(), r)
	if req.hasBody && req.contentType != "" {
		r.Header.Set("Content-Type", req.contentType)
	}
	for _, name := range sortedKeys(req.headers) {
		if v := req.headers[name]; v == nil {
			r.Header.Del(name)
		} else {
			r.Header.Set(name, *v)
		}
	}
	resp, err := env.HTTP.Do(r)
	if err != nil {
		t.Fatalf("the generator made a request Go cannot send: %v\n%s", err, req)
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(resp.Body)
	var envelope struct {
		Message struct {
			Code string `json:"code"`
		} `json:"message"`
	}
	_ = json.Unmarshal(data, &envelope)
	return resp.StatusCode, envelope.Message.Code, resp.Header.Get("X-Request-Id"), data
}

// logsFor picks the service's log lines of one request, for the report of a failure.
func logsFor(env *apitest.Env, requestID string) string {
	if requestID == "" {
		return "(no request id)"
	}
	var out []string
	for line := range strings.Lines(env.Logs.String()) {
		if strings.Contains(line, requestID) {
			out = append(out, strings.TrimSpace(line))
		}
	}
	return strings.Join(out, "\n")
}

// summary formats the tally: per operation, each "status code" answered and how often.
func summary(tally map[string]map[string]int) string {
	var b strings.Builder
	for _, op := range sortedKeys(tally) {
		total := 0
		for _, n := range tally[op] {
			total += n
		}
		fmt.Fprintf(&b, "%-24s %5d:", op, total)
		answers := sortedKeys(tally[op])
		sort.Strings(answers)
		for _, a := range answers {
			fmt.Fprintf(&b, "  %s×%d", strings.TrimPrefix(strings.Replace(a, "UsersOrchestrator_", "", 1), ""), tally[op][a])
		}
		b.WriteString("\n")
	}
	return b.String()
}

package main

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http/httptest"
	"net/url"
	"os"
	"strings"

	"usersorchestrator/internal/contract"
)

// har is the part of a HAR 1.2 capture (http://www.softwareishard.com/blog/har-12-spec/) that
// describes requests, as browsers' developer tools and Postman export it.
type har struct {
	Log struct {
		Entries []struct {
			Request struct {
				Method  string `json:"method"`
				URL     string `json:"url"`
				Headers []struct {
					Name  string `json:"name"`
					Value string `json:"value"`
				} `json:"headers"`
				PostData *struct {
					MimeType string `json:"mimeType"`
					Text     string `json:"text"`
				} `json:"postData"`
			} `json:"request"`
		} `json:"entries"`
	} `json:"log"`
}

// harResult is one request of a capture as `validate -har -json` prints it.
type harResult struct {
	Entry      int             `json:"entry"`
	Method     string          `json:"method"`
	Path       string          `json:"path"`
	Skipped    bool            `json:"skipped,omitempty"`
	Valid      bool            `json:"valid"`
	Operation  string          `json:"operationId,omitempty"`
	Violations []jsonViolation `json:"violations"`
	Notes      []jsonNote      `json:"notes"`
}

// validateHAR checks every /v4 request of a HAR capture; requests to other paths (the page, its
// scripts) are listed as skipped. Paths are printed without their query, which can hold a token
// or an email address. Exit status 0 when no request is invalid.
func validateHAR(v *contract.Validator, file string, asJSON bool, stdout, stderr io.Writer) int {
	data, err := os.ReadFile(file)
	if err != nil {
		fmt.Fprintln(stderr, "validate:", err)
		return 2
	}
	var capture har
	if err := json.Unmarshal(data, &capture); err != nil {
		fmt.Fprintf(stderr, "validate: %s is not a HAR capture: %v\n", file, err)
		return 2
	}
	var results []harResult
	valid, invalid, skipped := 0, 0, 0
	for i, e := range capture.Log.Entries {
		r := harResult{Entry: i + 1, Method: e.Request.Method, Violations: []jsonViolation{}, Notes: []jsonNote{}}
		u, err := url.Parse(e.Request.URL)
		if err != nil {
			fmt.Fprintf(stderr, "validate: entry %d: the url does not parse\n", i+1)
			return 2
		}
		r.Path = u.EscapedPath()
		if !strings.HasPrefix(u.Path, "/v4/") && u.Path != "/v4" {
			r.Skipped = true
			skipped++
			results = append(results, r)
			continue
		}
		var body io.Reader
		if pd := e.Request.PostData; pd != nil && pd.Text != "" {
			body = strings.NewReader(pd.Text)
		}
		req := httptest.NewRequest(e.Request.Method, u.RequestURI(), body)
		for _, h := range e.Request.Headers {
			// HTTP/2 captures list pseudo-headers (:authority, :path); they are not headers.
			if strings.HasPrefix(h.Name, ":") || strings.EqualFold(h.Name, "Content-Length") {
				continue
			}
			req.Header.Add(h.Name, h.Value)
		}
		if pd := e.Request.PostData; pd != nil && pd.MimeType != "" && req.Header.Get("Content-Type") == "" {
			req.Header.Set("Content-Type", pd.MimeType)
		}
		res := check(v, req)
		r.Operation, r.Valid = res.OperationID, len(res.Violations) == 0
		r.Violations, r.Notes = jsonViolations(res), jsonNotes(res)
		if r.Valid {
			valid++
		} else {
			invalid++
		}
		results = append(results, r)
	}
	if asJSON {
		out := struct {
			Requests []harResult `json:"requests"`
			Summary  struct {
				Valid   int `json:"valid"`
				Invalid int `json:"invalid"`
				Skipped int `json:"skipped"`
			} `json:"summary"`
		}{Requests: results}
		if out.Requests == nil {
			out.Requests = []harResult{}
		}
		out.Summary.Valid, out.Summary.Invalid, out.Summary.Skipped = valid, invalid, skipped
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		_ = enc.Encode(out)
	} else {
		for _, r := range results {
			fmt.Fprintf(stdout, "%d %s %s  %s\n", r.Entry, r.Method, r.Path, harVerdict(r))
		}
		fmt.Fprintf(stdout, "%d request(s): %d valid, %d invalid, %d skipped (not /v4)\n", len(results), valid, invalid, skipped)
	}
	if invalid > 0 {
		return 1
	}
	return 0
}

func harVerdict(r harResult) string {
	switch {
	case r.Skipped:
		return "skipped: not an API path"
	case r.Valid:
		s := "valid " + r.Operation
		if len(r.Notes) > 0 {
			s += fmt.Sprintf(" (%d name(s) in another spelling)", len(r.Notes))
		}
		return s
	}
	op := r.Operation
	if op == "" {
		op = "no operation"
	}
	first := r.Violations[0]
	s := fmt.Sprintf("invalid %s: %d %s %s", op, first.Status, first.Code, first.Text)
	if !strings.HasSuffix(first.Text, first.Detail) {
		s += " (" + first.Where + ": " + first.Detail + ")"
	}
	if n := len(r.Violations) - 1; n > 0 {
		s += fmt.Sprintf(" (+%d more)", n)
	}
	return s
}

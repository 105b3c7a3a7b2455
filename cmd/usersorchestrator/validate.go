package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"

	"usersorchestrator/internal/contract"
)

type headerFlags []string

func (h *headerFlags) String() string     { return strings.Join(*h, ", ") }
func (h *headerFlags) Set(v string) error { *h = append(*h, v); return nil }

// validate checks one request against the embedded contract, offline: the same validator, body
// cap and path rules as the server. Exit status 0 only for a valid request, 1 for an invalid one,
// 2 when the request cannot be read. It cannot check what needs the running service's data: the
// token's signature, whether the tenant exists, whether an email is taken.
func validate(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("validate", flag.ContinueOnError)
	fs.SetOutput(stderr)
	file := fs.String("file", "", "a raw HTTP request (request line, headers, blank line, body); - for stdin")
	method := fs.String("method", "GET", "the request method")
	target := fs.String("url", "", "the path and query, e.g. /v4/Users?email=jane@example.com")
	body := fs.String("d", "", "the JSON body, or @file to read it from a file")
	asJSON := fs.Bool("json", false, "print the result as JSON")
	var headers headerFlags
	fs.Var(&headers, "H", `a header, "Name: value" (repeatable)`)
	fs.Usage = func() {
		fmt.Fprint(stderr, `usage: usersorchestrator validate (-file request.http | -method M -url PATH [-H "Name: value"]... [-d JSON|@file]) [-json]

Checks one HTTP request against the contract (openapi.yaml, embedded) and prints every way it
breaks it, with the message code the server answers, first violation first.
`)
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return 2
	}
	req, err := readRequest(*file, *method, *target, *body, headers, stdin)
	if err != nil {
		fmt.Fprintln(stderr, "validate:", err)
		return 2
	}
	doc, err := contract.Load()
	if err != nil {
		fmt.Fprintln(stderr, "validate:", err)
		return 2
	}
	v, err := contract.New(doc)
	if err != nil {
		fmt.Fprintln(stderr, "validate:", err)
		return 2
	}
	contract.CanonicalizePath(req)
	req.Body = http.MaxBytesReader(nil, req.Body, contract.MaxBodyBytes)
	res := v.Validate(context.Background(), req)
	if *asJSON {
		writeJSON(stdout, res)
	} else {
		writeText(stdout, res)
	}
	if len(res.Violations) > 0 {
		return 1
	}
	return 0
}

func readRequest(file, method, target, body string, headers []string, stdin io.Reader) (*http.Request, error) {
	if file != "" {
		var r io.Reader = stdin
		if file != "-" {
			f, err := os.Open(file)
			if err != nil {
				return nil, err
			}
			defer f.Close()
			r = f
		}
		data, err := io.ReadAll(io.LimitReader(r, 1<<20))
		if err != nil {
			return nil, err
		}
		// A hand-written .http file has LF line ends and no Content-Length, so the body is taken
		// as everything after the first blank line rather than from the headers.
		head, body := splitHead(data)
		// head and body share data's array: build the head's copy rather than append to it.
		req, err := http.ReadRequest(bufio.NewReader(io.MultiReader(bytes.NewReader(head), strings.NewReader("\r\n\r\n"))))
		if err != nil {
			return nil, fmt.Errorf("%s is not an HTTP request: %w", file, err)
		}
		out := httptest.NewRequest(req.Method, req.RequestURI, bytes.NewReader(body))
		out.Header = req.Header
		return out, nil
	}
	if target == "" {
		return nil, errors.New("give -file, or -method and -url")
	}
	if strings.HasPrefix(body, "@") {
		data, err := os.ReadFile(body[1:])
		if err != nil {
			return nil, err
		}
		body = string(data)
	}
	var rdr io.Reader
	if body != "" {
		rdr = strings.NewReader(body)
	}
	req := httptest.NewRequest(method, target, rdr)
	for _, h := range headers {
		name, val, ok := strings.Cut(h, ":")
		if !ok {
			return nil, fmt.Errorf("header %q is not Name: value", h)
		}
		req.Header.Add(strings.TrimSpace(name), strings.TrimSpace(val))
	}
	if body != "" && req.Header.Get("Content-Type") == "" {
		req.Header.Set("Content-Type", "application/json")
	}
	return req, nil
}

// splitHead cuts a raw request at its first blank line (CRLF or LF).
func splitHead(data []byte) (head, body []byte) {
	for _, sep := range []string{"\r\n\r\n", "\n\n"} {
		if i := bytes.Index(data, []byte(sep)); i >= 0 {
			return bytes.TrimRight(data[:i], "\r\n"), data[i+len(sep):]
		}
	}
	return bytes.TrimRight(data, "\r\n"), nil
}

func writeText(w io.Writer, res contract.Result) {
	if len(res.Violations) == 0 {
		fmt.Fprintf(w, "valid: %s\n", res.OperationID)
		return
	}
	op := res.OperationID
	if op == "" {
		op = "no operation"
	}
	fmt.Fprintf(w, "invalid (%s): %d violation(s); the server answers the first\n", op, len(res.Violations))
	for _, v := range res.Violations {
		line := fmt.Sprintf("%d %s  %s", v.Code.Status(), v.Code, v.Text())
		if !strings.HasSuffix(v.Code.Text(), "{Message}") {
			line += "  (" + v.Detail() + ")"
		}
		fmt.Fprintln(w, line)
	}
}

func writeJSON(w io.Writer, res contract.Result) {
	type violation struct {
		Status int    `json:"status"`
		Code   string `json:"code"`
		Text   string `json:"text"`
		Where  string `json:"where"`
		Detail string `json:"detail"`
	}
	out := struct {
		Valid      bool        `json:"valid"`
		Operation  string      `json:"operationId,omitempty"`
		Violations []violation `json:"violations"`
	}{Valid: len(res.Violations) == 0, Operation: res.OperationID, Violations: []violation{}}
	for _, v := range res.Violations {
		out.Violations = append(out.Violations, violation{v.Code.Status(), string(v.Code), v.Text(), v.Where, v.Problem})
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	_ = enc.Encode(out)
}

// Command usersorchestrator is the Users Orchestrator service and its tools:
//
//	usersorchestrator [serve]  serve the API (the default command)
//	usersorchestrator validate check one HTTP request (or every request of a HAR capture) against the contract, offline
//	usersorchestrator token    print a JWT that may call the API (development)
//	usersorchestrator migrate  create or upgrade the database schema
//
// Every command reads the configuration from -config (or UO_CONFIG) and the UO_* environment.
package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"syscall"
)

func main() {
	os.Exit(run(os.Args[1:], os.Stdin, os.Stdout, os.Stderr, os.Getenv))
}

func run(args []string, stdin io.Reader, stdout, stderr io.Writer, getenv func(string) string) int {
	cmd := "serve"
	if len(args) > 0 && args[0] != "" && args[0][0] != '-' {
		cmd, args = args[0], args[1:]
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	var err error
	switch cmd {
	case "serve":
		err = serve(ctx, args, stderr, getenv)
	case "validate":
		return validate(args, stdin, stdout, stderr)
	case "token":
		err = token(args, stdout, getenv)
	case "migrate":
		err = migrate(ctx, args, stdout, getenv)
	case "help", "-h", "--help":
		fmt.Fprint(stdout, usage)
		return 0
	default:
		fmt.Fprintf(stderr, "unknown command %q\n\n%s", cmd, usage)
		return 2
	}
	if err != nil {
		fmt.Fprintln(stderr, "usersorchestrator:", err)
		return 1
	}
	return 0
}

const usage = `usage: usersorchestrator [command] [flags]

commands:
  serve     serve the API (default)
  validate  check one HTTP request (or a HAR capture: -har) against the contract, offline, and print every violation
  token     print a JWT that may call the API, signed with the configured HS256 secret
  migrate   create or upgrade the database schema

Run "usersorchestrator <command> -h" for the flags of a command.
`

func newLogger(w io.Writer, level string) *slog.Logger {
	return slog.New(slog.NewJSONHandler(w, &slog.HandlerOptions{Level: levelOf(level)}))
}

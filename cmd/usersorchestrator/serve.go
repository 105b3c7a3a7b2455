package main

import (
	"context"
	"flag"
	"io"
	"log/slog"
	"time"

	"usersorchestrator/internal/app"
	"usersorchestrator/internal/config"
	"usersorchestrator/internal/logsink"
)

func loadConfig(fs *flag.FlagSet, args []string, getenv func(string) string) (config.Config, error) {
	path := fs.String("config", getenv("UO_CONFIG"), "YAML configuration file (default: the built-in configuration)")
	if err := fs.Parse(args); err != nil {
		return config.Config{}, err
	}
	return config.Load(*path, getenv)
}

func serve(ctx context.Context, args []string, stderr io.Writer, getenv func(string) string) error {
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	fs.SetOutput(stderr)
	cfg, err := loadConfig(fs, args, getenv)
	if err != nil {
		return err
	}
	// One access-log line per request: gathered into one write per millisecond at most (logsink),
	// written in full on the way out (deferred before a.Close, so it runs after it and keeps the
	// shutdown's lines).
	sink := logsink.New(stderr, time.Millisecond)
	defer sink.Close()
	log := newLogger(sink, cfg.LogLevel)
	tuneGC(log, getenv, app.PasswordHashSlots())
	a, err := app.New(ctx, cfg, log, app.Options{})
	if err != nil {
		return err
	}
	defer a.Close()
	return a.Run(ctx, nil)
}

func levelOf(name string) slog.Level { return app.LogLevel(name) }

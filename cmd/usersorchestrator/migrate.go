package main

import (
	"context"
	"flag"
	"fmt"
	"io"

	"usersorchestrator/internal/app"
)

// migrate opens the configured store, which applies the embedded migrations, and closes it.
func migrate(ctx context.Context, args []string, stdout io.Writer, getenv func(string) string) error {
	fs := flag.NewFlagSet("migrate", flag.ContinueOnError)
	cfg, err := loadConfig(fs, args, getenv)
	if err != nil {
		return err
	}
	store, err := app.OpenStore(ctx, cfg.Database)
	if err != nil {
		return err
	}
	if err := store.Close(); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "the %s database is up to date\n", cfg.Database.Driver)
	return nil
}

package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"strings"
	"time"

	"usersorchestrator/internal/auth"
)

// token prints a JWT signed with the first configured HS256 secret, so that the README's curl
// examples work on a fresh machine. It is a development tool: production tokens come from the
// identity platform that holds the private keys.
func token(args []string, stdout io.Writer, getenv func(string) string) error {
	fs := flag.NewFlagSet("token", flag.ContinueOnError)
	clients := fs.String("client-codes", "demo", `comma-separated X-ClientCode values the token may act for; "*" for every tenant`)
	lifetime := fs.Duration("lifetime", 24*time.Hour, "how long the token is valid")
	subject := fs.String("subject", "developer", "the token's subject")
	secret := fs.String("secret", "", "HS256 secret (default: the first configured auth.hs256Secrets)")
	cfg, err := loadConfig(fs, args, getenv)
	if err != nil {
		return err
	}
	key := *secret
	if key == "" {
		if len(cfg.Auth.HS256Secrets) == 0 {
			return errors.New("no HS256 secret is configured; pass -secret")
		}
		key = cfg.Auth.HS256Secrets[0]
	}
	var codes []string
	for _, c := range strings.Split(*clients, ",") {
		if c = strings.TrimSpace(c); c != "" {
			codes = append(codes, c)
		}
	}
	tok, err := auth.MintHS256([]byte(key), auth.MintOptions{
		Subject: *subject, Issuer: cfg.Auth.Issuer, Audience: cfg.Auth.Audience, ClientCodes: codes, Lifetime: *lifetime,
	}, time.Now())
	if err != nil {
		return err
	}
	fmt.Fprintln(stdout, tok)
	return nil
}

// Command bench-baseline is the yardstick of `make bench`: a bare gin engine (no middleware, no
// validation, no store) whose one route answers GET /v4/Users/{id} with a fixed body, byte for
// byte the answer the real service gave for a seeded user. What the service does beyond this
// (auth, validation, the store, the event row, encoding) is what `make bench` measures.
//
//	bench-baseline -listen 127.0.0.1:PORT -body answer.json
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"net/http"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/gin-gonic/gin"
)

func main() {
	if err := run(os.Args[1:]); err != nil {
		fmt.Fprintln(os.Stderr, "bench-baseline:", err)
		os.Exit(1)
	}
}

func run(args []string) error {
	fs := flag.NewFlagSet("bench-baseline", flag.ContinueOnError)
	listen := fs.String("listen", "127.0.0.1:8081", "address to listen on (loopback only)")
	bodyFile := fs.String("body", "", "file holding the JSON body to answer")
	if err := fs.Parse(args); err != nil {
		return err
	}
	body, err := os.ReadFile(*bodyFile)
	if err != nil {
		return err
	}
	gin.SetMode(gin.ReleaseMode)
	engine := gin.New()
	engine.GET("/v4/Users/:customerRegistrationId", func(c *gin.Context) {
		c.Data(http.StatusOK, "application/json", body)
	})
	// The same server settings as the service's, so that only the handler chain differs.
	srv := &http.Server{
		Addr:              *listen,
		Handler:           engine,
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       30 * time.Second,
		WriteTimeout:      60 * time.Second,
		IdleTimeout:       2 * time.Minute,
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	served := make(chan error, 1)
	go func() { served <- srv.ListenAndServe() }()
	select {
	case err := <-served:
		return err
	case <-ctx.Done():
	}
	shutdownCtx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := srv.Shutdown(shutdownCtx); err != nil && !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}

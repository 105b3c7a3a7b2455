// Package httpapi is the HTTP face of the service: the gin engine, its middleware (request id,
// recovery, access log, body cap, auth and tenant, validation against openapi.yaml), the
// generated strict-server interface implemented over the orchestrator, and the one mapping of
// errors to message codes.
package httpapi

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/swaggest/swgui/v5emb"

	"usersorchestrator/gen/api"
	"usersorchestrator/internal/codes"
	"usersorchestrator/internal/contract"
	"usersorchestrator/internal/orchestrator"
)

// Options are what the API needs.
type Options struct {
	Orchestrator *orchestrator.Orchestrator
	Validator    *contract.Validator
	Verifier     TokenVerifier
	Tenants      Tenants
	// Ready reports whether the service can serve (the store answers); /readyz calls it.
	Ready func(ctx context.Context) error
	// Spec is openapi.yaml, served at /openapi.yaml and shown at /docs.
	Spec         []byte
	Log          *slog.Logger
	MaxBodyBytes int64
	// Middleware runs first on every request (metrics).
	Middleware []gin.HandlerFunc
}

// New builds the HTTP handler.
func New(o Options) (http.Handler, error) {
	if o.Orchestrator == nil || o.Validator == nil || o.Verifier == nil || o.Tenants == nil {
		return nil, errors.New("httpapi: orchestrator, validator, verifier and tenants are required")
	}
	if o.Log == nil {
		o.Log = slog.New(slog.DiscardHandler)
	}
	if o.MaxBodyBytes <= 0 {
		o.MaxBodyBytes = contract.MaxBodyBytes
	}
	if o.Ready == nil {
		o.Ready = func(context.Context) error { return nil }
	}

	gin.SetMode(gin.ReleaseMode)
	engine := gin.New()
	// The strict handlers receive the *gin.Context as their context: let it reach the request's.
	engine.ContextWithFallback = true
	// Published trailing-slash forms are served as they are (see normalizePath), never redirected.
	engine.RedirectTrailingSlash = false
	engine.RedirectFixedPath = false
	engine.HandleMethodNotAllowed = false
	engine.Use(o.Middleware...)
	engine.Use(withRequestID(), recovery(o.Log), accessLog(o.Log))
	engine.NoRoute(notFound)
	engine.NoMethod(notFound)

	engine.GET("/healthz", func(c *gin.Context) { c.JSON(http.StatusOK, gin.H{"status": "ok"}) })
	engine.GET("/readyz", func(c *gin.Context) {
		ctx, cancel := context.WithTimeout(c.Request.Context(), 2*time.Second)
		defer cancel()
		if err := o.Ready(ctx); err != nil {
			o.Log.WarnContext(ctx, "not ready", "error", err)
			c.JSON(http.StatusServiceUnavailable, gin.H{"status": "unavailable"})
			return
		}
		c.JSON(http.StatusOK, gin.H{"status": "ready"})
	})
	engine.GET("/openapi.yaml", func(c *gin.Context) { c.Data(http.StatusOK, "application/yaml", o.Spec) })
	docs := v5emb.New("Users Orchestrator API", "/openapi.yaml", "/docs/")
	engine.GET("/docs", func(c *gin.Context) { c.Redirect(http.StatusMovedPermanently, "/docs/") })
	engine.GET("/docs/*any", gin.WrapH(docs))

	v4 := engine.Group("/", limitBody(o.MaxBodyBytes), authenticate(o.Verifier, o.Tenants), validate(o.Validator))
	strict := api.NewStrictHandlerWithOptions(&handlers{o: o.Orchestrator}, []api.StrictMiddlewareFunc{recordSuccessCode}, api.StrictGinServerOptions{
		// The validator has checked the body against the contract already; a body the generated
		// types still cannot bind is a contract violation all the same.
		RequestErrorHandlerFunc: func(c *gin.Context, err error) {
			writeCode(c, failure{code: codes.E400_00, detail: "body: does not match the contract"})
		},
		HandlerErrorFunc: func(c *gin.Context, err error) { writeFailure(c, o.Log, err) },
		ResponseErrorHandlerFunc: func(c *gin.Context, err error) {
			o.Log.ErrorContext(c.Request.Context(), "writing a response failed", "request_id", requestID(c), "error", err)
		},
	})
	api.RegisterHandlersWithOptions(v4, strict, api.GinServerOptions{
		ErrorHandler: func(c *gin.Context, err error, status int) {
			writeCode(c, failure{code: codes.E400_00, detail: "request: does not match the contract"})
		},
	})
	return normalizePath(engine), nil
}

// normalizePath serves the published trailing-slash forms (/v4/Users/{id}/) as the canonical
// paths, before gin and the validator route (both would otherwise answer 404).
func normalizePath(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		contract.CanonicalizePath(r)
		next.ServeHTTP(w, r)
	})
}

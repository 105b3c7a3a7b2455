package httpapi

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"regexp"
	"runtime/debug"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"usersorchestrator/internal/auth"
	"usersorchestrator/internal/codes"
	"usersorchestrator/internal/contract"
	"usersorchestrator/internal/orchestrator"
	"usersorchestrator/internal/tenant"
)

// Keys of what the middleware leaves in the gin context.
const (
	ctxRequestID   = "uo.requestID"
	ctxMessageCode = "uo.messageCode"
	ctxOperation   = "uo.operation"
)

type callKey struct{}

// callFrom is the orchestrator.Call the middleware resolved for this request.
func callFrom(ctx context.Context) (orchestrator.Call, bool) {
	c, ok := ctx.Value(callKey{}).(orchestrator.Call)
	return c, ok
}

var requestIDPattern = regexp.MustCompile(`^[A-Za-z0-9._-]{1,64}$`)

// withRequestID keeps a caller's X-Request-Id when it is sane, or makes one; it is echoed in the
// response header and in the meta of every error.
func withRequestID() gin.HandlerFunc {
	return func(c *gin.Context) {
		id := c.GetHeader("X-Request-Id")
		if !requestIDPattern.MatchString(id) {
			var b [16]byte
			_, _ = rand.Read(b[:])
			id = hex.EncodeToString(b[:])
		}
		c.Set(ctxRequestID, id)
		c.Header("X-Request-Id", id)
		c.Next()
	}
}

func requestID(c *gin.Context) string { return c.GetString(ctxRequestID) }

// recovery turns a panic into UsersOrchestrator_E500 and logs it with its stack.
func recovery(log *slog.Logger) gin.HandlerFunc {
	return func(c *gin.Context) {
		defer func() {
			if r := recover(); r != nil {
				if err, ok := r.(error); ok && errors.Is(err, http.ErrAbortHandler) {
					panic(r)
				}
				log.ErrorContext(c.Request.Context(), "panic", "request_id", requestID(c), "panic", fmt.Sprint(r), "stack", string(debug.Stack()))
				if !c.Writer.Written() {
					writeCode(c, failure{code: codes.E500})
				}
			}
		}()
		c.Next()
	}
}

// accessLog writes one line per request. It logs the path without the query string, which can
// hold a token or an email address.
func accessLog(log *slog.Logger) gin.HandlerFunc {
	return func(c *gin.Context) {
		start := time.Now()
		c.Next()
		// Room for the code too: a slice that grows past its literal goes to the heap.
		attrs := make([]slog.Attr, 0, 8)
		attrs = append(attrs,
			slog.String("request_id", requestID(c)),
			slog.String("method", c.Request.Method),
			slog.String("path", c.Request.URL.Path),
			slog.String("operation", c.GetString(ctxOperation)),
			slog.Int("status", c.Writer.Status()),
			slog.Float64("duration_ms", float64(time.Since(start).Microseconds())/1000),
			slog.String("source_system", c.GetHeader("X-SourceSystem")),
		)
		if code, ok := c.Get(ctxMessageCode); ok {
			attrs = append(attrs, slog.Any("code", code))
		}
		log.LogAttrs(c.Request.Context(), slog.LevelInfo, "request", attrs...)
	}
}

// limitBody caps request bodies; the validator answers E413 when one is larger.
func limitBody(maxBytes int64) gin.HandlerFunc {
	return func(c *gin.Context) {
		if c.Request.ContentLength > maxBytes {
			writeCode(c, failure{code: codes.E413})
			return
		}
		c.Request.Body = http.MaxBytesReader(c.Writer, c.Request.Body, maxBytes)
		c.Next()
	}
}

// TokenVerifier checks the Authorization header of a /v4 call.
type TokenVerifier interface {
	Verify(ctx context.Context, authorization string) (auth.Claims, error)
}

// Tenants finds a tenant by its key.
type Tenants interface {
	Tenant(k tenant.Key) (*tenant.Tenant, bool)
}

// authenticate answers 401 without a valid token, then resolves the tenant: 403 when the token
// may not act for it, E400_00 when the headers name no tenant. Missing or malformed tenant
// headers are left to the validator, which names them.
func authenticate(v TokenVerifier, tenants Tenants) gin.HandlerFunc {
	return func(c *gin.Context) {
		claims, err := v.Verify(c.Request.Context(), c.GetHeader("Authorization"))
		if err != nil {
			writeCode(c, failure{code: codes.E401})
			return
		}
		key := tenant.Key{
			ClientCode:      c.GetHeader("X-ClientCode"),
			PaperCode:       c.GetHeader("X-PaperCode"),
			ClientGroupCode: c.GetHeader("X-ClientGroupCode"),
		}
		if !tenantCode.MatchString(key.ClientCode) || !tenantCode.MatchString(key.PaperCode) || !tenantCode.MatchString(key.ClientGroupCode) {
			c.Next()
			return
		}
		if !claims.AllowsClient(key.ClientCode) {
			writeCode(c, failure{code: codes.E403})
			return
		}
		t, ok := tenants.Tenant(key)
		if !ok {
			writeCode(c, failure{code: codes.E400_00, detail: "header X-ClientCode, X-PaperCode, X-ClientGroupCode: do not name a known tenant"})
			return
		}
		call := orchestrator.Call{Tenant: t, SourceSystem: c.GetHeader("X-SourceSystem"), RequestID: requestID(c), Caller: claims.Subject}
		// X-End-User-IP (added, x-published: false) travels to the provider's attack protection;
		// a value that is not an IP address is ignored, never refused.
		ctx := orchestrator.WithEndUserIP(c.Request.Context(), strings.TrimSpace(c.GetHeader(EndUserIPHeader)))
		c.Request = c.Request.WithContext(context.WithValue(ctx, callKey{}, call))
		c.Next()
	}
}

// EndUserIPHeader names the end user's IP address for the provider (openapi.yaml EndUserIP).
const EndUserIPHeader = "X-End-User-IP"

// tenantCode is the contract's TenantCode pattern.
var tenantCode = regexp.MustCompile(`^[A-Za-z0-9_-]{1,32}$`)

// validate checks the request against openapi.yaml and answers the first violation.
func validate(v *contract.Validator) gin.HandlerFunc {
	return func(c *gin.Context) {
		res := v.Validate(c.Request.Context(), c.Request)
		c.Set(ctxOperation, res.OperationID)
		if len(res.Violations) > 0 {
			first := res.Violations[0]
			writeCode(c, failure{code: first.Code, detail: first.Detail()})
			return
		}
		if _, ok := callFrom(c.Request.Context()); !ok {
			// Valid tenant headers always resolve a call in authenticate; this cannot happen.
			writeCode(c, failure{code: codes.E500})
			return
		}
		c.Next()
	}
}

package httpapi

import (
	"errors"
	"log/slog"
	"math"
	"strconv"

	"github.com/gin-gonic/gin"
	"github.com/oapi-codegen/nullable"

	"usersorchestrator/gen/api"
	"usersorchestrator/internal/codes"
	"usersorchestrator/internal/orchestrator"
)

// outcomeCodes gives each of the orchestrator's outcomes (orchestrator.Outcomes, the one list of
// them) its code. TestEveryOutcomeHasADocumentedCode fails for an outcome missing here, which
// would otherwise answer E500, and for an entry that is no outcome.
var outcomeCodes = map[error]codes.Code{
	orchestrator.ErrProviderUnavailable: codes.E503,
	orchestrator.ErrUserNotFound:        codes.E404_01,
	orchestrator.ErrInvalidEncrypted:    codes.E400_02,
	orchestrator.ErrEmailPending:        codes.E400_07,
	orchestrator.ErrEmailInUse:          codes.E400_08,
	orchestrator.ErrInvalidCredentials:  codes.E400_10,
	orchestrator.ErrNotVerified:         codes.E400_11,
	orchestrator.ErrNoPassword:          codes.E400_12,
	orchestrator.ErrInvalidToken:        codes.E400_13,
	orchestrator.ErrEmailNotRegistered:  codes.E400_14,
	orchestrator.ErrInvalidCode:         codes.E400_15,
	orchestrator.ErrAlreadyVerified:     codes.E400_16,
	orchestrator.ErrUpdateRefused:       codes.E400_22,
	orchestrator.ErrIDInUse:             codes.E400_23,
	orchestrator.ErrRejected:            codes.E400,
}

var workflowCodes = map[orchestrator.Workflow]codes.Code{
	orchestrator.WorkflowGetByID:        codes.E500_01,
	orchestrator.WorkflowGet:            codes.E500_02,
	orchestrator.WorkflowCreate:         codes.E500_03,
	orchestrator.WorkflowUpdate:         codes.E500_04,
	orchestrator.WorkflowAuthentication: codes.E500_05,
	orchestrator.WorkflowForgotPassword: codes.E500_06,
	orchestrator.WorkflowVerification:   codes.E500_07,
}

// failure is an error as the API answers it.
type failure struct {
	code codes.Code
	// detail completes a "{Message}" text.
	detail     string
	retryAfter int
}

// classify is the one place where errors become message codes.
func classify(err error) failure {
	var ii *orchestrator.InvalidInputError
	var tm *orchestrator.TooManyAttemptsError
	var we *orchestrator.WorkflowError
	switch {
	case errors.As(err, &ii):
		return failure{code: codes.E400_00, detail: ii.Error()}
	case errors.As(err, &tm):
		return failure{code: codes.E429, retryAfter: max(1, int(math.Ceil(tm.RetryAfter.Seconds())))}
	}
	for _, o := range orchestrator.Outcomes() {
		if code, ok := outcomeCodes[o]; ok && errors.Is(err, o) {
			f := failure{code: code}
			if wait := orchestrator.ProviderRetryAfter(err); code == codes.E503 && wait > 0 {
				// The provider's rate limit resets later than the adapter may wait: say when.
				f.retryAfter = int(math.Ceil(wait.Seconds()))
			}
			return f
		}
	}
	if errors.As(err, &we) {
		if code, ok := workflowCodes[we.Workflow]; ok {
			return failure{code: code}
		}
	}
	return failure{code: codes.E500}
}

// writeFailure answers err in the error envelope. Server-side failures are logged with the error;
// client-side ones are not errors of the service and are left to the access log.
func writeFailure(c *gin.Context, log *slog.Logger, err error) {
	f := classify(err)
	if f.code.Status() >= 500 {
		log.ErrorContext(c.Request.Context(), "request failed", "request_id", requestID(c), "code", string(f.code), "error", err)
	}
	writeCode(c, f)
}

func writeCode(c *gin.Context, f failure) {
	if f.retryAfter > 0 {
		c.Header("Retry-After", strconv.Itoa(f.retryAfter))
	}
	c.Set(ctxMessageCode, f.code)
	c.AbortWithStatusJSON(f.code.Status(), errorEnvelope(c, f.code, f.code.TextWith(f.detail)))
}

func errorEnvelope(c *gin.Context, code codes.Code, text string) api.ErrorEnvelope {
	id := requestID(c)
	return api.ErrorEnvelope{
		Message: api.Message{Code: api.MessageCode(code), Text: text, Type: api.MessageTypeError},
		Meta:    nullable.NewNullableWithValue(api.Meta{RequestId: &id}),
	}
}

// notFound answers paths and methods the contract does not have.
func notFound(c *gin.Context) {
	writeCode(c, failure{code: codes.E404})
}

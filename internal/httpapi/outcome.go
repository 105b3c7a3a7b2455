package httpapi

import (
	"reflect"

	"github.com/gin-gonic/gin"

	"usersorchestrator/gen/api"
	"usersorchestrator/internal/codes"
)

// RequestOutcome says what the API made of a finished request, for a middleware of
// Options.Middleware (metrics) that reads it after c.Next(): the contract's operationId the
// validator matched ("" when the request did not reach the validator: an unknown path, or a
// request refused before validation) and the message code answered, success or error ("" when
// none was, as for /healthz).
func RequestOutcome(c *gin.Context) (operation, code string) {
	operation = c.GetString(ctxOperation)
	if v, ok := c.Get(ctxMessageCode); ok {
		if mc, ok := v.(codes.Code); ok {
			code = string(mc)
		}
	}
	return operation, code
}

// recordSuccessCode is a strict-server middleware that leaves the code of a successful answer in
// the gin context, where writeCode leaves the code of an error, so that the access log and the
// metrics see the code of every answer. The handlers choose the code (success(codes.S200_xx));
// reading it back from their response keeps them the one place that does.
func recordSuccessCode(f api.StrictHandlerFunc, _ string) api.StrictHandlerFunc {
	return func(c *gin.Context, request any) (any, error) {
		resp, err := f(c, request)
		if err == nil {
			if m, ok := envelopeMessage(resp); ok {
				c.Set(ctxMessageCode, codes.Code(m.Code))
			}
		}
		return resp, err
	}
}

// envelopeMessage is the message of a response envelope. The generated response types are
// distinct named types over the contract's envelopes (GetUserById200JSONResponse is a
// UserEnvelope) with no method in common that would give it, so it is read by its field name;
// outcome_test.go checks this for every response type the handlers return.
func envelopeMessage(resp any) (api.Message, bool) {
	v := reflect.ValueOf(resp)
	if v.Kind() == reflect.Pointer && !v.IsNil() {
		v = v.Elem()
	}
	if v.Kind() != reflect.Struct {
		return api.Message{}, false
	}
	f := v.FieldByName("Message")
	if !f.IsValid() || !f.CanInterface() {
		return api.Message{}, false
	}
	m, ok := f.Interface().(api.Message)
	return m, ok
}

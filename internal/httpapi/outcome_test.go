package httpapi

import (
	"fmt"
	"testing"

	"usersorchestrator/gen/api"
	"usersorchestrator/internal/codes"
)

// Every success response type the handlers return carries its message where envelopeMessage
// reads it; a generator change that renamed or moved the field fails here, not in production
// metrics.
func TestEnvelopeMessageOfEverySuccessResponse(t *testing.T) {
	m := success(codes.S200_09)
	responses := []any{
		api.GetUsers200JSONResponse{Message: m},
		api.CreateUser200JSONResponse{Message: m},
		api.Authenticate200JSONResponse{Message: m},
		api.StartForgotPassword200JSONResponse{Message: m},
		api.FinishForgotPassword200JSONResponse{Message: m},
		api.ValidateForgotPassword200JSONResponse{Message: m},
		api.VerifyEmail200JSONResponse{Message: m},
		api.SendVerificationCode200JSONResponse{Message: m},
		api.GetUserById200JSONResponse{Message: m},
		api.UpdateUser200JSONResponse{Message: m},
		api.UpdateEmail200JSONResponse{Message: m},
		api.GetUserEvents200JSONResponse{Message: m},
		api.UpdatePassword200JSONResponse{Message: m},
		&api.UpdatePassword200JSONResponse{Message: m},
		userAnswer{Message: m},
		usersAnswer{Message: m},
	}
	for _, r := range responses {
		got, ok := envelopeMessage(r)
		if !ok || got.Code != api.MessageCode(codes.S200_09) {
			t.Errorf("envelopeMessage(%T) = %v, %v; want %s", r, got.Code, ok, codes.S200_09)
		}
	}
	var nilResp *api.UpdatePassword200JSONResponse
	for _, r := range []any{nil, nilResp, "text", struct{ Message string }{"x"}} {
		if got, ok := envelopeMessage(r); ok {
			t.Errorf("envelopeMessage(%s) = %v, want none", fmt.Sprintf("%T", r), got)
		}
	}
}

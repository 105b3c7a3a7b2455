package httpapi

import (
	"context"
	"strings"

	"usersorchestrator/gen/api"
	"usersorchestrator/internal/codes"
	"usersorchestrator/internal/orchestrator"
)

// handlers implements the generated strict server: each method maps the generated request to a
// workflow and its result to the generated response. Errors are returned as they are and become
// codes in classify, so no handler decides a code of its own.
type handlers struct {
	o *orchestrator.Orchestrator
}

var _ api.StrictServerInterface = (*handlers)(nil)

// call is the tenant and caller the middleware resolved; validate guarantees it is there.
func call(ctx context.Context) orchestrator.Call {
	c, _ := callFrom(requestContext(ctx))
	return c
}

func (h *handlers) GetUserById(ctx context.Context, r api.GetUserByIdRequestObject) (api.GetUserByIdResponseObject, error) {
	u, err := h.o.GetByID(requestContext(ctx), call(ctx), r.CustomerRegistrationId, value(r.Params.IgnoreProvider))
	if err != nil {
		return nil, err
	}
	return userAnswer{Message: success(codes.S200_01), user: u}, nil
}

func (h *handlers) GetUsers(ctx context.Context, r api.GetUsersRequestObject) (api.GetUsersResponseObject, error) {
	p := r.Params
	in := orchestrator.GetUsersInput{
		EncryptedEmail:         value(p.EncryptedEmail),
		EncryptedID:            value(p.EncryptedCustomerRegistrationId),
		Token:                  value(p.Token),
		Email:                  string(value(p.Email)),
		CustomerRegistrationID: value(p.CustomerRegistrationId),
		FirstName:              value(p.FirstName),
		LastName:               value(p.LastName),
		Verified:               p.Verified,
		State:                  orchestrator.State(value(p.State)),
		PageSize:               value(p.PageSize),
		PageNumber:             value(p.PageNumber),
		OrderBy:                orderField(p.OrderBy),
		Descending:             value(p.OrderByType) == api.Desc,
		IgnoreProvider:         value(p.IgnoreProvider),
	}
	page, err := h.o.GetUsers(requestContext(ctx), call(ctx), in)
	if err != nil {
		return nil, err
	}
	return usersAnswer{Message: success(codes.S200_01), users: page.Users,
		pageSize: page.PageSize, pageNumber: page.PageNumber, totalCount: page.TotalCount}, nil
}

func (h *handlers) CreateUser(ctx context.Context, r api.CreateUserRequestObject) (api.CreateUserResponseObject, error) {
	b := r.Body
	in := orchestrator.CreateInput{
		Email:                           string(b.Email),
		Password:                        value(b.Password),
		CustomerRegistrationID:          value(b.CustomerRegistrationId),
		EncryptedCustomerRegistrationID: value(b.EncryptedCustomerRegistrationId),
		VerifyEmail:                     value(b.VerifyEmail),
		ReturnURL:                       value(b.ReturnUrl),
		FirstName:                       b.FirstName,
		LastName:                        b.LastName,
		IgnoreProvider:                  value(b.IgnoreProvider),
	}
	if b.Metadata != nil {
		in.Metadata = *b.Metadata
	}
	ref, err := h.o.Create(requestContext(ctx), call(ctx), in)
	if err != nil {
		return nil, err
	}
	return api.CreateUser200JSONResponse{Message: success(codes.S200_06), Meta: nullMeta(), Data: toUserReference(ref)}, nil
}

func (h *handlers) UpdateUser(ctx context.Context, r api.UpdateUserRequestObject) (api.UpdateUserResponseObject, error) {
	b := r.Body
	in := orchestrator.UpdateInput{
		FirstName:            b.FirstName,
		LastName:             b.LastName,
		Verified:             b.Verified,
		LastLogoutDate:       b.LastLogoutDate,
		RemoveLastLogoutDate: value(b.RemoveLastLogoutDate),
		IgnoreProvider:       value(b.IgnoreProvider),
	}
	if b.Metadata != nil {
		in.Metadata = *b.Metadata
	}
	u, err := h.o.Update(requestContext(ctx), call(ctx), r.CustomerRegistrationId, in)
	if err != nil {
		return nil, err
	}
	return api.UpdateUser200JSONResponse{Message: success(codes.S200_07), Meta: nullMeta(), Data: toUser(u)}, nil
}

func (h *handlers) UpdatePassword(ctx context.Context, r api.UpdatePasswordRequestObject) (api.UpdatePasswordResponseObject, error) {
	if err := h.o.UpdatePassword(requestContext(ctx), call(ctx), r.CustomerRegistrationId, r.Body.Password, value(r.Body.IgnoreProvider)); err != nil {
		return nil, err
	}
	return api.UpdatePassword200JSONResponse{Message: success(codes.S200_11), Meta: nullMeta()}, nil
}

func (h *handlers) UpdateEmail(ctx context.Context, r api.UpdateEmailRequestObject) (api.UpdateEmailResponseObject, error) {
	if err := h.o.UpdateEmail(requestContext(ctx), call(ctx), r.CustomerRegistrationId, string(r.Body.Email), value(r.Body.IgnoreProvider)); err != nil {
		return nil, err
	}
	return api.UpdateEmail200JSONResponse{Message: success(codes.S200_12), Meta: nullMeta()}, nil
}

func (h *handlers) Authenticate(ctx context.Context, r api.AuthenticateRequestObject) (api.AuthenticateResponseObject, error) {
	b := r.Body
	res, err := h.o.Authenticate(requestContext(ctx), call(ctx), orchestrator.AuthenticateInput{
		LoginName:      strings.TrimSpace(value(b.LoginName)),
		Password:       value(b.Password),
		Token:          value(b.Token),
		IgnoreProvider: value(b.IgnoreProvider),
	})
	if err != nil {
		return nil, err
	}
	return api.Authenticate200JSONResponse{
		Message: success(codes.SubscribeS200_01),
		Meta:    nullMeta(),
		Data:    api.AuthenticationResult{User: toAuthenticatedUser(res.User), CookieTokens: toCookieTokens(res.CookieTokens)},
	}, nil
}

func (h *handlers) StartForgotPassword(ctx context.Context, r api.StartForgotPasswordRequestObject) (api.StartForgotPasswordResponseObject, error) {
	enc, err := h.o.StartForgotPassword(requestContext(ctx), call(ctx), strings.TrimSpace(r.Body.LoginName), value(r.Body.ReturnUrl))
	if err != nil {
		return nil, err
	}
	return api.StartForgotPassword200JSONResponse{Message: success(codes.S200_08), Meta: nullMeta(), Data: api.ForgotPasswordStart{EncryptedEventId: enc}}, nil
}

func (h *handlers) ValidateForgotPassword(ctx context.Context, r api.ValidateForgotPasswordRequestObject) (api.ValidateForgotPasswordResponseObject, error) {
	v, err := h.o.ValidateForgotPassword(requestContext(ctx), call(ctx), r.Body.EncryptedEventId)
	if err != nil {
		return nil, err
	}
	return api.ValidateForgotPassword200JSONResponse{
		Message: success(codes.S200_09),
		Meta:    nullMeta(),
		Data:    api.ForgotPasswordValidity{EventId: v.EventID, CustomerRegistrationId: v.CustomerRegistrationID},
	}, nil
}

func (h *handlers) FinishForgotPassword(ctx context.Context, r api.FinishForgotPasswordRequestObject) (api.FinishForgotPasswordResponseObject, error) {
	if err := h.o.FinishForgotPassword(requestContext(ctx), call(ctx), r.Body.EncryptedEventId, r.Body.Password); err != nil {
		return nil, err
	}
	return api.FinishForgotPassword200JSONResponse{Message: success(codes.S200_10), Meta: nullMeta()}, nil
}

func (h *handlers) VerifyEmail(ctx context.Context, r api.VerifyEmailRequestObject) (api.VerifyEmailResponseObject, error) {
	ref, err := h.o.VerifyEmail(requestContext(ctx), call(ctx), string(r.Body.Email), r.Body.VerificationCode)
	if err != nil {
		return nil, err
	}
	return api.VerifyEmail200JSONResponse{Message: success(codes.S200_13), Meta: nullMeta(), Data: toUserReference(ref)}, nil
}

func (h *handlers) SendVerificationCode(ctx context.Context, r api.SendVerificationCodeRequestObject) (api.SendVerificationCodeResponseObject, error) {
	ref, err := h.o.SendVerificationCode(requestContext(ctx), call(ctx), string(r.Body.Email), value(r.Body.ReturnUrl))
	if err != nil {
		return nil, err
	}
	return api.SendVerificationCode200JSONResponse{Message: success(codes.S200_14), Meta: nullMeta(), Data: toUserReference(ref)}, nil
}

func (h *handlers) GetUserEvents(ctx context.Context, r api.GetUserEventsRequestObject) (api.GetUserEventsResponseObject, error) {
	page, err := h.o.UserEvents(requestContext(ctx), call(ctx), r.CustomerRegistrationId, value(r.Params.PageSize), value(r.Params.PageNumber))
	if err != nil {
		return nil, err
	}
	evs := make([]api.Event, 0, len(page.Events))
	for _, e := range page.Events {
		evs = append(evs, toEvent(e))
	}
	return api.GetUserEvents200JSONResponse{
		Message: success(codes.S200_01),
		Meta:    pageMeta(page.PageSize, page.PageNumber, page.TotalCount),
		Data:    api.EventList{Events: evs},
	}, nil
}

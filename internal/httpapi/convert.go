package httpapi

import (
	"context"
	"strconv"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/oapi-codegen/nullable"

	"usersorchestrator/gen/api"
	"usersorchestrator/internal/codes"
	"usersorchestrator/internal/orchestrator"
)

// requestContext is the request's own context: the strict handlers get the *gin.Context, which
// gin recycles after the request and must not reach the workflows.
func requestContext(ctx context.Context) context.Context {
	if gc, ok := ctx.(*gin.Context); ok {
		return gc.Request.Context()
	}
	return ctx
}

func success(code codes.Code) api.Message {
	return api.Message{Code: api.MessageCode(code), Text: code.Text(), Type: api.MessageTypeSuccess}
}

func nullMeta() nullable.Nullable[api.Meta] { return nullable.NewNullNullable[api.Meta]() }

func pageMeta(size, number int, total int64) nullable.Nullable[api.Meta] {
	return nullable.NewNullableWithValue(api.Meta{PageSize: &size, PageNumber: &number, TotalCount: &total})
}

func nullableString(s *string) nullable.Nullable[string] {
	if s == nil {
		return nullable.NewNullNullable[string]()
	}
	return nullable.NewNullableWithValue(*s)
}

func toUser(u orchestrator.User) api.User {
	out := api.User{
		CustomerRegistrationId:          u.CustomerRegistrationID,
		EncryptedCustomerRegistrationId: u.EncryptedCustomerRegistrationID,
		Email:                           u.Email,
		Verified:                        u.Verified,
		State:                           api.UserState(u.State),
		FirstName:                       nullableString(u.FirstName),
		LastName:                        nullableString(u.LastName),
		LastLogoutDate:                  nullable.NewNullNullable[time.Time](),
		Metadata:                        u.Metadata,
		AddDate:                         u.AddDate,
		AddSource:                       nullableString(&u.AddSource),
		ChangeDate:                      u.ChangeDate,
		ChangeSource:                    nullableString(&u.ChangeSource),
	}
	if u.LastLogoutDate != nil {
		out.LastLogoutDate = nullable.NewNullableWithValue(*u.LastLogoutDate)
	}
	if u.AddSource == "" {
		out.AddSource = nullable.NewNullNullable[string]()
	}
	if u.ChangeSource == "" {
		out.ChangeSource = nullable.NewNullNullable[string]()
	}
	return out
}

func toUserReference(r orchestrator.UserRef) api.UserReference {
	return api.UserReference{CustomerRegistrationId: r.CustomerRegistrationID, EncryptedCustomerRegistrationId: r.EncryptedCustomerRegistrationID}
}

func toCookieTokens(ts []orchestrator.CookieToken) []api.CookieToken {
	out := make([]api.CookieToken, 0, len(ts))
	for _, t := range ts {
		out = append(out, api.CookieToken{Name: t.Name, Content: t.Content, DurationDays: strconv.Itoa(t.DurationDays)})
	}
	return out
}

func toEvent(e orchestrator.Event) api.Event {
	return api.Event{
		EventId:       e.ID,
		EventTypeCode: api.EventTypeCode(e.TypeCode),
		EventTypeId:   e.TypeID,
		SourceSystem:  e.SourceSystem,
		Outcome:       api.EventOutcome(e.Outcome),
		DurationMs:    e.DurationMs,
		OccurredAt:    e.OccurredAt,
	}
}

func orderField(o *api.GetUsersParamsOrderBy) orchestrator.OrderField {
	if o == nil {
		return orchestrator.OrderByID
	}
	return orchestrator.OrderField(*o)
}

func value[T any](p *T) T {
	var zero T
	if p == nil {
		return zero
	}
	return *p
}

package httpapi

import (
	"math/rand/v2"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"usersorchestrator/gen/api"
	"usersorchestrator/internal/codes"
	"usersorchestrator/internal/orchestrator"
)

// users are users of every shape the answer can take: names absent, empty or full of what JSON
// escapes (quotes, controls, HTML characters, invalid UTF-8, U+2028), metadata nil, empty or
// unordered, a logout date or none, dates with and without nanoseconds and in other zones,
// sources empty or set.
func users() []orchestrator.User {
	s := func(v string) *string { return &v }
	at := time.Date(2026, 1, 2, 3, 4, 5, 123456789, time.UTC)
	logout := time.Date(2025, 12, 31, 23, 59, 59, 0, time.FixedZone("", 2*3600+30*60))
	tricky := []string{"", "Ada", `"quoted" \back\slash/`, "<b>&amp;</b>", "tab\tnew\nline\rcr\bbs\fff\x00\x01\x1f\x7f",
		"é ü 中文 🙂", "bad \xff\xfe utf8 \xc3", "line\u2028sep\u2029", strings.Repeat("x", 300)}
	out := []orchestrator.User{benchUser()}
	rng := rand.New(rand.NewPCG(5, 6))
	pick := func() string { return tricky[rng.IntN(len(tricky))] }
	for i := range 300 {
		u := orchestrator.User{
			CustomerRegistrationID:          pick(),
			EncryptedCustomerRegistrationID: pick(),
			Email:                           pick(),
			Verified:                        i%2 == 0,
			State:                           []orchestrator.State{orchestrator.StateLite, orchestrator.StateStandard, orchestrator.StateUnverified}[i%3],
			AddDate:                         at.Add(time.Duration(rng.Int64N(1e15))),
			AddSource:                       pick(),
			ChangeDate:                      at.Truncate(time.Second).In(time.FixedZone("", -5*3600)),
			ChangeSource:                    pick(),
		}
		if rng.IntN(3) > 0 {
			u.FirstName = s(pick())
		}
		if rng.IntN(3) > 0 {
			u.LastName = s(pick())
		}
		if rng.IntN(2) == 0 {
			u.LastLogoutDate = &logout
		}
		switch rng.IntN(3) {
		case 0:
		case 1:
			u.Metadata = map[string]string{}
		default:
			u.Metadata = map[string]string{}
			for range rng.IntN(6) {
				u.Metadata[pick()] = pick()
			}
		}
		out = append(out, u)
	}
	return out
}

// The hand-written read answers are byte for byte what the generated responses write through
// encoding/json, with the same status and content type.
func TestAnswersAreTheGeneratedOnes(t *testing.T) {
	all := users()
	for i, u := range all {
		want := httptest.NewRecorder()
		if err := (api.GetUserById200JSONResponse{Message: success(codes.S200_01), Meta: nullMeta(), Data: toUser(u)}).VisitGetUserByIdResponse(want); err != nil {
			t.Fatal(err)
		}
		got := httptest.NewRecorder()
		if err := (userAnswer{Message: success(codes.S200_01), user: u}).VisitGetUserByIdResponse(got); err != nil {
			t.Fatal(err)
		}
		same(t, "GET by id, user "+string(rune('0'+i%10)), got, want)
	}
	for _, page := range [][]orchestrator.User{nil, all[:1], all[:7], all} {
		list := make([]api.User, 0, len(page))
		for _, u := range page {
			list = append(list, toUser(u))
		}
		want := httptest.NewRecorder()
		resp := api.GetUsers200JSONResponse{Message: success(codes.S200_01), Meta: pageMeta(20, 3, 12345678901), Data: api.UserList{Users: list}}
		if err := resp.VisitGetUsersResponse(want); err != nil {
			t.Fatal(err)
		}
		got := httptest.NewRecorder()
		if err := (usersAnswer{Message: success(codes.S200_01), users: page, pageSize: 20, pageNumber: 3, totalCount: 12345678901}).VisitGetUsersResponse(got); err != nil {
			t.Fatal(err)
		}
		same(t, "Get Users", got, want)
	}
}

func same(t *testing.T, what string, got, want *httptest.ResponseRecorder) {
	t.Helper()
	if got.Code != want.Code || got.Header().Get("Content-Type") != want.Header().Get("Content-Type") {
		t.Errorf("%s: %d %q, want %d %q", what, got.Code, got.Header().Get("Content-Type"), want.Code, want.Header().Get("Content-Type"))
	}
	if g, w := got.Body.String(), want.Body.String(); g != w {
		t.Errorf("%s:\n got %s\nwant %s", what, g, w)
	}
}

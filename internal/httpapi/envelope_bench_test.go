package httpapi

import (
	"net/http"
	"testing"
	"time"

	"usersorchestrator/gen/api"
	"usersorchestrator/internal/codes"
	"usersorchestrator/internal/orchestrator"
)

// discardWriter is a ResponseWriter that keeps nothing, so that only the encoding is measured.
type discardWriter struct {
	h http.Header
	n int
}

func (w *discardWriter) Header() http.Header         { return w.h }
func (w *discardWriter) WriteHeader(int)             {}
func (w *discardWriter) Write(p []byte) (int, error) { w.n += len(p); return len(p), nil }

// benchUser is a user as `make bench` seeds them: names, three metadata keys, no logout date.
func benchUser() orchestrator.User {
	first, last := "Ada", "Lovelace"
	at := time.Date(2026, 1, 2, 3, 4, 5, 123456789, time.UTC)
	return orchestrator.User{
		CustomerRegistrationID:          "3f6f8b1e-2c4d-4f3a-9d7e-1a2b3c4d5e6f",
		EncryptedCustomerRegistrationID: "v1.bm9uY2Vub25jZW5vbmNlLmNpcGhlcnRleHRjaXBoZXJ0ZXh0Y2lwaGVydGV4dGNpcGhlcnRleHQtdGFn",
		Email:                           "reader-00042@bench.example",
		Verified:                        true,
		State:                           orchestrator.StateLite,
		FirstName:                       &first,
		LastName:                        &last,
		Metadata:                        map[string]string{"plan": "gold", "newsletter": "weekly", "ebill_flag": "true"},
		AddDate:                         at,
		AddSource:                       "Bench",
		ChangeDate:                      at,
		ChangeSource:                    "Bench",
	}
}

// BenchmarkGetUserByIdEnvelope is the answer of GET /v4/Users/{id} from the workflow's User to the
// bytes written: the mapping to the generated type (toUser, the envelope) and the generated
// response's encoding/json encoding, as the strict handler runs them.
func BenchmarkGetUserByIdEnvelope(b *testing.B) {
	u := benchUser()
	w := &discardWriter{h: http.Header{}}
	b.ReportAllocs()
	for b.Loop() {
		resp := api.GetUserById200JSONResponse{Message: success(codes.S200_01), Meta: nullMeta(), Data: toUser(u)}
		if err := resp.VisitGetUserByIdResponse(w); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(w.n)/float64(b.N), "B/answer")
}

// BenchmarkGetUserByIdAnswer is the same answer as BenchmarkGetUserByIdEnvelope, written by hand
// as the handler now writes it (answer.go).
func BenchmarkGetUserByIdAnswer(b *testing.B) {
	u := benchUser()
	w := &discardWriter{h: http.Header{}}
	b.ReportAllocs()
	for b.Loop() {
		if err := (userAnswer{Message: success(codes.S200_01), user: u}).VisitGetUserByIdResponse(w); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(w.n)/float64(b.N), "B/answer")
}

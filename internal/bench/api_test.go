package bench

import (
	"net/http/httptest"
	"testing"
)

func TestRegistrationID(t *testing.T) {
	tests := []struct {
		name, body, want string
		wantErr          bool
	}{
		{"a create's answer", `{"data":{"customerRegistrationId":"abc-1","email":"a@b.example"},"message":{}}`, "abc-1", false},
		{"no id", `{"data":{}}`, "", true},
		{"not JSON", `<html>`, "", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := RegistrationID([]byte(tt.body))
			if got != tt.want || (err != nil) != tt.wantErr {
				t.Errorf("RegistrationID = %q, %v; want %q, error %v", got, err, tt.want, tt.wantErr)
			}
		})
	}
}

func TestSetHeaders(t *testing.T) {
	for _, jsonBody := range []bool{true, false} {
		req := httptest.NewRequest("GET", "/v4/Users/x", nil)
		SetHeaders(req, "tok", "Soak", jsonBody)
		want := map[string]string{"Authorization": "Bearer tok", "X-Sourcesystem": "Soak", "X-Clientcode": "demo",
			"X-Papercode": "demo", "X-Clientgroupcode": "demo"}
		if jsonBody {
			want["Content-Type"] = "application/json"
		}
		if len(req.Header) != len(want) {
			t.Errorf("json body %v: headers %v, want %v", jsonBody, req.Header, want)
		}
		for k, v := range want {
			if got := req.Header.Get(k); got != v {
				t.Errorf("json body %v: %s = %q, want %q", jsonBody, k, got, v)
			}
		}
	}
}

package contract_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"usersorchestrator/internal/codes"
)

// encryptedValueAlphabet and the bounds in isEncryptedValue are the EncryptedValue schema of
// openapi.yaml, spelled out again for the oracle: URL-safe base64 without padding, 16 to 1024
// characters.
var encryptedValueAlphabet = regexp.MustCompile(`^[A-Za-z0-9_-]+$`)

func isEncryptedValue(s string) bool {
	return len(s) >= 16 && len(s) <= 1024 && encryptedValueAlphabet.MatchString(s)
}

// encryptedSite is one place of the contract that takes an EncryptedValue, and the code a value
// that breaks the schema answers there: E400_02 for the selectors, as published; E400_00 for the
// create field and encryptedEventId, whose operations do not document E400_02.
type encryptedSite struct {
	where string
	code  codes.Code
	build func(value string) *http.Request
}

var encryptedSites = []encryptedSite{
	{"query parameter encryptedCustomerRegistrationId", codes.E400_02, func(v string) *http.Request {
		return request("GET", "/v4/Users?encryptedCustomerRegistrationId="+url.QueryEscape(v), "")
	}},
	{"query parameter encryptedEmail", codes.E400_02, func(v string) *http.Request {
		return request("GET", "/v4/Users?encryptedEmail="+url.QueryEscape(v), "")
	}},
	{"body.encryptedCustomerRegistrationId", codes.E400_00, func(v string) *http.Request {
		return request("POST", "/v4/Users", jsonObject("email", "jane@example.com", "encryptedCustomerRegistrationId", v))
	}},
	{"body.encryptedEventId", codes.E400_00, func(v string) *http.Request {
		return request("POST", "/v4/Users/ForgotPassword/Validity", jsonObject("encryptedEventId", v))
	}},
}

func jsonObject(kv ...string) string {
	m := map[string]string{}
	for i := 0; i+1 < len(kv); i += 2 {
		m[kv[i]] = kv[i+1]
	}
	out, _ := json.Marshal(m)
	return string(out)
}

// asDecoded is the string the server sees once a value has travelled as a JSON string: the
// encoder replaces bytes that are not UTF-8 with U+FFFD.
func asDecoded(v string) string {
	raw, _ := json.Marshal(v)
	var out string
	_ = json.Unmarshal(raw, &out)
	return out
}

// FuzzEncryptedValue feeds the validator what a client could send as an encrypted value, at every
// place the contract takes one (the encryptedCustomerRegistrationId and encryptedEmail selectors,
// the create field, encryptedEventId). A value passes iff it is in EncryptedValue's alphabet and
// length, and then nothing else about the request is wrong; a value that does not pass answers
// exactly the site's code (E400_02 for the selectors), names the site, and never repeats the
// value. Whether a value that passes also decrypts is the orchestrator's concern (FuzzOpenSealed in
// internal/orchestrator); the validator must neither decrypt nor refuse it.
//
// The decoder is fuzzed at both levels: internal/secrets FuzzOpen covers the cipher, this target
// the contract's gate in front of it, and FuzzOpenSealed the tenant binding the orchestrator adds.
func FuzzEncryptedValue(f *testing.F) {
	v := newValidator(f)
	f.Fuzz(func(t *testing.T, site uint8, value string) {
		if len(value) > 2048 {
			return
		}
		s := encryptedSites[int(site)%len(encryptedSites)]
		seen := value
		if strings.HasPrefix(s.where, "body") {
			seen = asDecoded(value)
		}
		res := v.Validate(context.Background(), s.build(value))
		if isEncryptedValue(seen) {
			if len(res.Violations) > 0 {
				t.Fatalf("%s %q is a valid EncryptedValue but answered %v", s.where, value, res.Violations)
			}
			return
		}
		if len(res.Violations) == 0 {
			t.Fatalf("%s %q is not an EncryptedValue but passed", s.where, value)
		}
		for _, vi := range res.Violations {
			if vi.Code != s.code || vi.Where != s.where {
				t.Fatalf("%s %q: got %v, want only %s violations of %s", s.where, value, res.Violations, s.code, s.where)
			}
		}
		if !secretLooking(value) {
			return
		}
		if texts := answerTexts(res.Violations); anyContains(texts, value) &&
			!anyContains(answerTexts(v.Validate(context.Background(), s.build(rotate(value))).Violations), value) {
			t.Fatalf("%s: a violation repeats the submitted value %q: %q", s.where, value, texts)
		}
	})
}

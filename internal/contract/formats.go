package contract

import (
	"errors"
	"net/mail"
	"net/url"
	"strings"

	"github.com/getkin/kin-openapi/openapi3"

	"usersorchestrator/internal/emailaddr"
)

// FormatOptions registers the formats kin-openapi leaves unchecked by default, per validation
// (not globally), so that `format: email` and `format: uri` in the contract mean something.
//
// The options run for every schema a request is checked against. They hand over one map made
// here rather than adding to a fresh one each time (WithStringFormatValidator), which allocated
// some 2 KB per request; so the map is shared, and no WithStringFormatValidator may follow these
// options (it would write into it).
func FormatOptions() []openapi3.SchemaValidationOption {
	return []openapi3.SchemaValidationOption{
		openapi3.WithStringFormatValidators(map[string]openapi3.StringFormatValidator{
			"email": openapi3.NewCallbackValidator(validateEmail),
			"uri":   openapi3.NewCallbackValidator(validateAbsoluteURL),
		}),
	}
}

var (
	errNotEmail = errors.New("not an email address")
	errNotURL   = errors.New("not an absolute http or https URL")
)

// validateEmail accepts a bare address (no display name, no angle brackets) with a dotted domain
// that emailaddr, the service's one email normaliser, accepts too (no invisible characters, an
// ASCII local part, a valid IDN domain).
func validateEmail(s string) error {
	if _, err := emailaddr.Canonical(s); err != nil {
		return err
	}
	addr, err := mail.ParseAddress(s)
	if err != nil || addr.Name != "" || addr.Address != s {
		return errNotEmail
	}
	at := strings.LastIndexByte(s, '@')
	domain := s[at+1:]
	if !strings.Contains(domain, ".") || strings.HasPrefix(domain, ".") || strings.HasSuffix(domain, ".") {
		return errNotEmail
	}
	return nil
}

func validateAbsoluteURL(s string) error {
	u, err := url.Parse(s)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.User != nil {
		return errNotURL
	}
	return nil
}

package contract

import (
	"errors"
	"net/mail"
	"net/url"
	"strings"

	"github.com/getkin/kin-openapi/openapi3"
)

// FormatOptions registers the formats kin-openapi leaves unchecked by default, per validation
// (not globally), so that `format: email` and `format: uri` in the contract mean something.
func FormatOptions() []openapi3.SchemaValidationOption {
	return []openapi3.SchemaValidationOption{
		openapi3.WithStringFormatValidator("email", openapi3.NewCallbackValidator(validateEmail)),
		openapi3.WithStringFormatValidator("uri", openapi3.NewCallbackValidator(validateAbsoluteURL)),
	}
}

var (
	errNotEmail = errors.New("not an email address")
	errNotURL   = errors.New("not an absolute http or https URL")
)

// validateEmail accepts a bare address (no display name, no angle brackets) with a dotted domain.
func validateEmail(s string) error {
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

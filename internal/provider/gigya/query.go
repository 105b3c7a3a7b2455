package gigya

import (
	"fmt"
	"strings"
	"unicode"

	"usersorchestrator/internal/provider"
)

// searchQuery builds the SQL-like query of accounts.search for q.
//
//   - email: `profile.email CONTAINS "…"`. Emails are encrypted fields in Gigya; on those CONTAINS
//     is a whole-value, case-insensitive match ("=" is case-sensitive), which is what an email
//     lookup wants. profile.email rather than loginIDs.emails because an unverified login email
//     sits in loginIDs.unverifiedEmails; callers re-check the results (hasEmail).
//   - first/last name: `profile.firstName CONTAINS "…"`: on plain text fields CONTAINS is Gigya's
//     case-insensitive partial match. Gigya has no LIKE; its regex operator is not available on
//     encrypted fields, and sites may encrypt names.
//
// Values are double-quoted with backslash escapes for `"` and `\`; control characters are
// refused rather than escaped, no name or email holds one and Gigya documents no escape for them.
func searchQuery(op string, q provider.Query) (string, error) {
	var where []string
	for _, f := range []struct{ field, value string }{
		{"profile.email", q.Email},
		{"profile.firstName", q.FirstName},
		{"profile.lastName", q.LastName},
	} {
		if f.value == "" {
			continue
		}
		lit, err := quote(op, f.value)
		if err != nil {
			return "", err
		}
		where = append(where, f.field+" CONTAINS "+lit)
	}
	var b strings.Builder
	b.WriteString("SELECT * FROM accounts")
	if len(where) > 0 {
		b.WriteString(" WHERE " + strings.Join(where, " AND "))
	}
	if q.Limit > 0 {
		fmt.Fprintf(&b, " LIMIT %d", q.Limit)
	}
	return b.String(), nil
}

// quote makes s a Gigya string literal.
func quote(op, s string) (string, error) {
	var b strings.Builder
	b.WriteByte('"')
	for _, r := range s {
		switch {
		case r == '"' || r == '\\':
			b.WriteByte('\\')
			b.WriteRune(r)
		case unicode.IsControl(r):
			return "", provider.Errorf(Name, op, provider.ErrRejected, 0, "a search value holds a control character")
		default:
			b.WriteRune(r)
		}
	}
	b.WriteByte('"')
	return b.String(), nil
}

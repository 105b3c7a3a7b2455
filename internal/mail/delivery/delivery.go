// Package delivery sends the emails of the store's outbox: the Worker claims due emails, hands
// them to a Sender (SMTP) and records the outcome, retrying with backoff. What the emails say is
// composed by package mail, in the workflows' transactions; this package never reads a body
// except to send it, and never logs one or puts it in an error (bodies can hold secrets).
package delivery

import (
	"strings"
	"unicode"
)

// oneLine flattens text to a single line (as package mail does for what it composes): a subject
// or an error message with a line break could otherwise start a header or fake a log line.
func oneLine(s string) string {
	return strings.Join(strings.FieldsFunc(s, func(r rune) bool {
		return unicode.IsSpace(r) || unicode.IsControl(r)
	}), " ")
}

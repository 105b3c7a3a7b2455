package httpapi

import (
	"net/http"
	"slices"
	"strconv"
	"sync"
	"time"
	"unicode/utf8"

	"usersorchestrator/gen/api"
	"usersorchestrator/internal/orchestrator"
)

// The two read answers (GET by id, Get By Email) are written by hand rather than through the
// generated types and encoding/json: mapping a user to api.User builds a map per nullable field
// (nullable.Nullable is a map) and encoding/json walks it by reflection, calling each nullable's
// MarshalJSON, which marshals again and is compacted after; together some 6% of a GET's CPU in
// `make bench`. The bytes are the same as the generated response would write, down to the
// escaping and the closing newline: answer_test.go compares the two on users of every shape.

// userAnswer is GetUserById's 200 answer.
type userAnswer struct {
	// Message is read by recordSuccessCode, as on the generated responses.
	Message api.Message
	user    orchestrator.User
}

func (a userAnswer) VisitGetUserByIdResponse(w http.ResponseWriter) error {
	return writeAnswer(w, func(b []byte) []byte {
		b = append(b, `{"data":`...)
		b = appendUser(b, &a.user)
		b = appendMessage(append(b, `,"message":`...), a.Message)
		return append(b, `,"meta":null}`+"\n"...)
	})
}

// usersAnswer is GetUsers' 200 answer, a page of users.
type usersAnswer struct {
	Message              api.Message
	users                []orchestrator.User
	pageSize, pageNumber int
	totalCount           int64
}

func (a usersAnswer) VisitGetUsersResponse(w http.ResponseWriter) error {
	return writeAnswer(w, func(b []byte) []byte {
		b = append(b, `{"data":{"users":[`...)
		for i := range a.users {
			if i > 0 {
				b = append(b, ',')
			}
			b = appendUser(b, &a.users[i])
		}
		b = appendMessage(append(b, `]},"message":`...), a.Message)
		b = append(b, `,"meta":{"pageNumber":`...)
		b = strconv.AppendInt(b, int64(a.pageNumber), 10)
		b = append(b, `,"pageSize":`...)
		b = strconv.AppendInt(b, int64(a.pageSize), 10)
		b = append(b, `,"totalCount":`...)
		b = strconv.AppendInt(b, a.totalCount, 10)
		return append(b, "}}\n"...)
	})
}

var answerBuffers = sync.Pool{New: func() any { b := make([]byte, 0, 2048); return &b }}

func writeAnswer(w http.ResponseWriter, build func([]byte) []byte) error {
	bp := answerBuffers.Get().(*[]byte)
	b := build((*bp)[:0])
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusOK)
	_, err := w.Write(b)
	if cap(b) <= 64<<10 { // a rare huge page is not kept
		*bp = b
		answerBuffers.Put(bp)
	}
	return err
}

// appendUser writes u as toUser and encoding/json would write api.User: its fields in the
// generated struct's order, the nullable ones null when absent.
func appendUser(b []byte, u *orchestrator.User) []byte {
	b = appendTime(append(b, `{"addDate":`...), u.AddDate)
	b = appendOptString(append(b, `,"addSource":`...), u.AddSource)
	b = appendTime(append(b, `,"changeDate":`...), u.ChangeDate)
	b = appendOptString(append(b, `,"changeSource":`...), u.ChangeSource)
	b = appendString(append(b, `,"customerRegistrationId":`...), u.CustomerRegistrationID)
	b = appendString(append(b, `,"email":`...), u.Email)
	b = appendString(append(b, `,"encryptedCustomerRegistrationId":`...), u.EncryptedCustomerRegistrationID)
	b = appendNullString(append(b, `,"firstName":`...), u.FirstName)
	b = append(b, `,"lastLogoutDate":`...)
	if u.LastLogoutDate == nil {
		b = append(b, "null"...)
	} else {
		b = appendTime(b, *u.LastLogoutDate)
	}
	b = appendNullString(append(b, `,"lastName":`...), u.LastName)
	b = append(b, `,"metadata":`...)
	if u.Metadata == nil {
		b = append(b, "null"...)
	} else {
		b = append(b, '{')
		keys := make([]string, 0, 8)
		for k := range u.Metadata {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		for i, k := range keys {
			if i > 0 {
				b = append(b, ',')
			}
			b = appendString(b, k)
			b = appendString(append(b, ':'), u.Metadata[k])
		}
		b = append(b, '}')
	}
	b = appendString(append(b, `,"state":`...), string(u.State))
	b = append(b, `,"verified":`...)
	b = strconv.AppendBool(b, u.Verified)
	return append(b, '}')
}

func appendMessage(b []byte, m api.Message) []byte {
	b = appendString(append(b, `{"code":`...), string(m.Code))
	b = appendString(append(b, `,"text":`...), m.Text)
	b = appendString(append(b, `,"type":`...), string(m.Type))
	return append(b, '}')
}

// appendOptString is a source: null when empty (toUser).
func appendOptString(b []byte, s string) []byte {
	if s == "" {
		return append(b, "null"...)
	}
	return appendString(b, s)
}

func appendNullString(b []byte, s *string) []byte {
	if s == nil {
		return append(b, "null"...)
	}
	return appendString(b, *s)
}

// appendTime writes t as time.Time.MarshalJSON does (RFC 3339 with the nanoseconds it has).
func appendTime(b []byte, t time.Time) []byte {
	if y := t.Year(); y < 0 || y > 9999 {
		// MarshalJSON refuses these; no stored date is one, but should one be, say what it says.
		j, _ := t.MarshalJSON()
		return append(b, j...)
	}
	b = append(b, '"')
	b = t.AppendFormat(b, time.RFC3339Nano)
	return append(b, '"')
}

const hexDigits = "0123456789abcdef"

// appendString writes s as encoding/json does by default: quoted, with ", \ and control
// characters escaped, <, > and & as \u003c \u003e \u0026 (HTML-safe), invalid UTF-8 as \ufffd
// and U+2028, U+2029 escaped.
func appendString(b []byte, s string) []byte {
	b = append(b, '"')
	start := 0
	for i := 0; i < len(s); {
		if c := s[i]; c < utf8.RuneSelf {
			if c >= 0x20 && c != '"' && c != '\\' && c != '<' && c != '>' && c != '&' {
				i++
				continue
			}
			b = append(b, s[start:i]...)
			switch c {
			case '\\', '"':
				b = append(b, '\\', c)
			case '\b':
				b = append(b, '\\', 'b')
			case '\f':
				b = append(b, '\\', 'f')
			case '\n':
				b = append(b, '\\', 'n')
			case '\r':
				b = append(b, '\\', 'r')
			case '\t':
				b = append(b, '\\', 't')
			default:
				b = append(b, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xF])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			b = append(b, s[start:i]...)
			b = append(b, `\ufffd`...)
			i += size
			start = i
			continue
		}
		if r == '\u2028' || r == '\u2029' {
			b = append(b, s[start:i]...)
			b = append(b, '\\', 'u', '2', '0', '2', hexDigits[r&0xF])
			i += size
			start = i
			continue
		}
		i += size
	}
	b = append(b, s[start:]...)
	return append(b, '"')
}

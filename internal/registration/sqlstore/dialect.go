// Package sqlstore implements registration.Store once, over database/sql, for the SQL databases
// the service supports. What differs between them (placeholders, how times are stored, how a
// constraint violation is reported, what an unbounded LIMIT is written as, whether a failed
// statement poisons a transaction) is spelled out in a Dialect; the sqlite and postgres packages
// each provide one, open the connections, and run their own migrations.
package sqlstore

import (
	"strconv"
	"strings"
	"time"
)

// Dialect is everything the SQL of Store needs to know about one database.
type Dialect struct {
	// Name is used in error messages ("sqlite", "postgres").
	Name string
	// Rebind rewrites the '?' placeholders of a query into the database's own. Queries in this
	// package never contain a literal '?', so a plain rewrite is safe.
	Rebind func(query string) string
	// Time turns a time, already in UTC and truncated to microseconds, into the value stored.
	Time func(time.Time) any
	// EventTime is Time for events.occurred_at, which is written on every request: SQLite stores
	// it as microseconds since the Unix epoch (MicroTime: 8 bytes in the row and in both of its
	// indexes, where TextTime took 27), PostgreSQL as its own timestamptz.
	EventTime func(time.Time) any
	// Constraint translates the violation of one of the schema's constraints into
	// registration.ErrEmailTaken, ErrIDTaken or ErrNotFound (a token for a missing
	// registration); for any other error it returns nil.
	Constraint func(error) error
	// NoLimit is written after LIMIT when a page has no limit but an offset: SQLite needs a
	// LIMIT before OFFSET and spells "none" -1, PostgreSQL spells it ALL.
	NoLimit string
	// TxAbortsOnError is true when, after a failed statement, a transaction refuses every further
	// statement (PostgreSQL). Statements that can fail on a constraint then run inside a
	// savepoint, so that a caller of InTx can handle ErrEmailTaken and carry on, as on SQLite.
	TxAbortsOnError bool
	// SkipLocked ends the SELECT that picks the rows a claim takes. On PostgreSQL it is
	// " FOR UPDATE SKIP LOCKED": concurrent claims lock disjoint rows instead of queueing behind
	// each other. SQLite has no row locks (a write statement holds the database's one write lock
	// from its start, so claims are serialized already) and leaves it empty.
	SkipLocked string
}

// Identity is the Rebind of databases that take '?' as they are.
func Identity(query string) string { return query }

// Dollar is the Rebind of PostgreSQL: the n-th '?' becomes $n.
func Dollar(query string) string {
	if !strings.Contains(query, "?") {
		return query
	}
	b := make([]byte, 0, len(query)+16)
	n := int64(0)
	for i := 0; i < len(query); i++ {
		if query[i] != '?' {
			b = append(b, query[i])
			continue
		}
		n++
		b = append(b, '$')
		b = strconv.AppendInt(b, n, 10)
	}
	return string(b)
}

// TextTimeLayout is how SQLite stores times: fixed width, always UTC, so that comparing and
// sorting the text compares and sorts the times.
const TextTimeLayout = "2006-01-02T15:04:05.000000Z"

// TextTime is the Time of databases that store times as TextTimeLayout text.
func TextTime(t time.Time) any { return t.Format(TextTimeLayout) }

// MicroTime is the EventTime of databases that store event times as microseconds since the Unix
// epoch.
func MicroTime(t time.Time) any { return t.UnixMicro() }

// NativeTime is the Time of databases with a timestamp type of microsecond precision.
func NativeTime(t time.Time) any { return t }

// normTime is the one place times are brought to what the store keeps: UTC, microseconds. Every
// time is passed through it on the way in and on the way out, so a round trip is exact.
func normTime(t time.Time) time.Time { return t.UTC().Truncate(time.Microsecond) }

package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"usersorchestrator/internal/emailaddr"
	"usersorchestrator/internal/registration"
	"usersorchestrator/internal/tenant"
)

// querier is what *sql.DB and *sql.Tx have in common.
type querier interface {
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

// Store is registration.Store over database/sql. A Store made by New uses its pools; the Store
// that InTx hands to its fn is bound to the transaction and uses nothing else.
type Store struct {
	d Dialect
	// write takes every write and every transaction; read takes plain reads. They are the same
	// pool unless the database needs writes serialized apart from reads (SQLite).
	write *sql.DB
	read  *sql.DB
	// tx is set on the Store bound to a transaction.
	tx *txState
	// stmts are the prepared statements of the hot paths, shared with the Stores bound to
	// transactions (which do not use them).
	stmts *stmtCache
	// keys are the event tenants and types known to be stored, shared like stmts.
	keys *eventKeys
}

// stmtCache maps a pool and a query to the statement prepared for them.
type stmtCache struct {
	m sync.Map // stmtKey -> *sql.Stmt
}

type stmtKey struct {
	db    *sql.DB
	query string
}

type txState struct {
	tx *sql.Tx
	// savepoints numbers the savepoints of the transaction, so that nested ones get unique names.
	savepoints atomic.Int64
}

var _ registration.Store = (*Store)(nil)

// New makes a Store over the pools. read may equal write. The Store owns both: Close closes them.
func New(d Dialect, write, read *sql.DB) *Store {
	return &Store{d: d, write: write, read: read, stmts: &stmtCache{}, keys: &eventKeys{}}
}

func (s *Store) reader() querier {
	if s.tx != nil {
		return s.tx.tx
	}
	return s.read
}

func (s *Store) writer() drainingQuerier {
	if s.tx != nil {
		return drainingQuerier{s.tx.tx}
	}
	return drainingQuerier{s.write}
}

// drainingQuerier is the querier writes go through. Its QueryRowContext reads the statement to
// its end, where *sql.Row stops at the first row: SQLite runs its WAL autocheckpoint only when a
// statement steps to SQLITE_DONE, so an autocommit INSERT ... RETURNING read through *sql.Row
// commits but never checkpoints. Under a load of such writes (an event row per request) the WAL
// grew without bound (67 MB in a few seconds of `make bench`) and every page read got slower.
type drainingQuerier struct{ querier }

func (q drainingQuerier) QueryRowContext(ctx context.Context, query string, args ...any) rowScanner {
	rows, err := q.QueryContext(ctx, query, args...)
	return drainedRow{rows: rows, err: err}
}

// drainedRow is *sql.Row's Scan over rows that are read to their end.
type drainedRow struct {
	rows *sql.Rows
	err  error
}

func (r drainedRow) Scan(dest ...any) error {
	if r.err != nil {
		return r.err
	}
	defer r.rows.Close()
	if !r.rows.Next() {
		if err := r.rows.Err(); err != nil {
			return err
		}
		return sql.ErrNoRows
	}
	if err := r.rows.Scan(dest...); err != nil {
		return err
	}
	for r.rows.Next() {
		// Only the first row is the answer; stepping on is what lets the statement finish.
	}
	if err := r.rows.Err(); err != nil {
		return err
	}
	return r.rows.Close()
}

// prepared is db's statement for query, prepared on first use. Unprepared, every call parses and
// plans its query again: on SQLite (modernc) that was 13 % of the server's CPU on GET by id under
// `make bench`. Only the hot paths use it (readRow, writeRow): a statement stays prepared on every
// connection of its pool for the life of the Store.
func (s *Store) prepared(ctx context.Context, db *sql.DB, query string) (*sql.Stmt, error) {
	k := stmtKey{db: db, query: query}
	if st, ok := s.stmts.m.Load(k); ok {
		return st.(*sql.Stmt), nil
	}
	st, err := db.PrepareContext(ctx, query)
	if err != nil {
		return nil, err
	}
	if prev, loaded := s.stmts.m.LoadOrStore(k, st); loaded {
		_ = st.Close()
		return prev.(*sql.Stmt), nil
	}
	return st, nil
}

// readRow is reader().QueryRowContext through a prepared statement (outside transactions).
func (s *Store) readRow(ctx context.Context, query string, args ...any) rowScanner {
	if s.tx != nil {
		return s.reader().QueryRowContext(ctx, query, args...)
	}
	st, err := s.prepared(ctx, s.read, query)
	if err != nil {
		return drainedRow{err: err}
	}
	return st.QueryRowContext(ctx, args...)
}

// writeRow is writer().QueryRowContext through a prepared statement (outside transactions),
// read to its end as drainingQuerier does.
func (s *Store) writeRow(ctx context.Context, query string, args ...any) rowScanner {
	if s.tx != nil {
		return s.writer().QueryRowContext(ctx, query, args...)
	}
	st, err := s.prepared(ctx, s.write, query)
	if err != nil {
		return drainedRow{err: err}
	}
	rows, err := st.QueryContext(ctx, args...)
	return drainedRow{rows: rows, err: err}
}

func (s *Store) q(query string) string { return s.d.Rebind(query) }

func (s *Store) wrap(op string, err error) error {
	return fmt.Errorf("registration %s: %s: %w", s.d.Name, op, err)
}

// encodeTenant is the tenant column: the key's String form. A part holding '/' would make two
// different keys share one stored value, letting one tenant read another's rows, so it is refused.
func encodeTenant(k tenant.Key) (string, error) {
	for _, p := range []string{k.ClientCode, k.PaperCode, k.ClientGroupCode} {
		if strings.Contains(p, "/") {
			return "", fmt.Errorf("registration: tenant key part %q contains '/'", p)
		}
	}
	return k.String(), nil
}

// decodeTenant reads what encodeTenant wrote. Unlike tenant.ParseKey it accepts empty parts, so
// that any key that could be stored reads back as it was.
func decodeTenant(s string) (tenant.Key, error) {
	parts := strings.Split(s, "/")
	if len(parts) != 3 {
		return tenant.Key{}, fmt.Errorf("registration: stored tenant %q is not client/paper/group", s)
	}
	return tenant.Key{ClientCode: parts[0], PaperCode: parts[1], ClientGroupCode: parts[2]}, nil
}

func (s *Store) timeArg(t time.Time) any { return s.d.Time(normTime(t)) }

func (s *Store) nullTimeArg(t *time.Time) any {
	if t == nil {
		return nil
	}
	return s.timeArg(*t)
}

// timeCol scans a time as either dialect returns it: text in TextTimeLayout or microseconds since
// the Unix epoch (SQLite) or a time.Time (PostgreSQL). nullable allows NULL, which leaves *dst nil.
type timeCol struct {
	dst      *time.Time
	nullDst  **time.Time
	nullable bool
}

func scanTime(dst *time.Time) timeCol      { return timeCol{dst: dst} }
func scanNullTime(dst **time.Time) timeCol { return timeCol{nullDst: dst, nullable: true} }

func (c timeCol) Scan(v any) error {
	var t time.Time
	switch v := v.(type) {
	case nil:
		if !c.nullable {
			return errors.New("NULL in a time column that is NOT NULL")
		}
		*c.nullDst = nil
		return nil
	case time.Time:
		t = v
	case int64: // MicroTime
		t = time.UnixMicro(v)
	case string:
		p, err := time.Parse(TextTimeLayout, v)
		if err != nil {
			return err
		}
		t = p
	case []byte:
		p, err := time.Parse(TextTimeLayout, string(v))
		if err != nil {
			return err
		}
		t = p
	default:
		return fmt.Errorf("cannot scan %T into a time", v)
	}
	t = normTime(t)
	if c.nullable {
		*c.nullDst = &t
	} else {
		*c.dst = t
	}
	return nil
}

// tenantCol scans the tenant column into a tenant.Key.
type tenantCol struct{ dst *tenant.Key }

func (c tenantCol) Scan(v any) error {
	var s string
	switch v := v.(type) {
	case string:
		s = v
	case []byte:
		s = string(v)
	default:
		return fmt.Errorf("cannot scan %T into a tenant", v)
	}
	k, err := decodeTenant(s)
	if err != nil {
		return err
	}
	*c.dst = k
	return nil
}

// lowerKey is the form lookups, uniqueness, prefix matching and sorting use. It is computed here,
// not by the database's lower(), because SQLite's lower() folds only ASCII: the same rule in Go
// makes both databases agree on "É" and "é".
func lowerKey(s string) string { return strings.ToLower(s) }

// emailKey is the email's identity (emailaddr.Key): uniqueness and lookups by email use the one
// normaliser the orchestrator and the contract use, never a Unicode lower-casing of their own.
func emailKey(s string) string { return emailaddr.Key(s) }

func nullableKey(s *string) any {
	if s == nil {
		return nil
	}
	return lowerKey(*s)
}

func nullableString(s *string) any {
	if s == nil {
		return nil
	}
	return *s
}

// likeEscaper makes a string match itself literally in LIKE ... ESCAPE '\'.
var likeEscaper = strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`)

func escapeLike(s string) string { return likeEscaper.Replace(s) }

// guard runs a statement that may fail on a constraint. Inside a transaction of a database whose
// transactions die with a failed statement, it runs inside a savepoint that is rolled back on
// failure, so the transaction stays usable.
func (s *Store) guard(ctx context.Context, fn func() error) error {
	if s.tx == nil || !s.d.TxAbortsOnError {
		return fn()
	}
	return s.savepoint(ctx, fn)
}

func (s *Store) savepoint(ctx context.Context, fn func() error) (err error) {
	name := "uo_sp_" + strconv.FormatInt(s.tx.savepoints.Add(1), 10)
	if _, err := s.tx.tx.ExecContext(ctx, "SAVEPOINT "+name); err != nil {
		return s.wrap("savepoint", err)
	}
	rollback := func() error {
		if _, err := s.tx.tx.ExecContext(ctx, "ROLLBACK TO SAVEPOINT "+name); err != nil {
			return s.wrap("rollback to savepoint", err)
		}
		if _, err := s.tx.tx.ExecContext(ctx, "RELEASE SAVEPOINT "+name); err != nil {
			return s.wrap("release savepoint", err)
		}
		return nil
	}
	defer func() {
		if p := recover(); p != nil {
			_ = rollback()
			panic(p)
		}
	}()
	if err := fn(); err != nil {
		return errors.Join(err, rollback())
	}
	if _, err := s.tx.tx.ExecContext(ctx, "RELEASE SAVEPOINT "+name); err != nil {
		return s.wrap("release savepoint", err)
	}
	return nil
}

// InTx runs fn in one transaction. Called on the Store bound to a transaction, it runs fn in a
// savepoint of that transaction: fn's writes are undone if fn fails, and the outer transaction
// goes on. fn must use the Store it is given: on SQLite the transaction holds the only write
// connection, so a write through the outer Store would wait for it until ctx ends.
func (s *Store) InTx(ctx context.Context, fn func(tx registration.Store) error) (err error) {
	if s.tx != nil {
		return s.savepoint(ctx, func() error { return fn(s) })
	}
	tx, err := s.write.BeginTx(ctx, nil)
	if err != nil {
		return s.wrap("begin", err)
	}
	committed := false
	defer func() {
		if committed {
			return
		}
		if rbErr := tx.Rollback(); rbErr != nil && !errors.Is(rbErr, sql.ErrTxDone) {
			err = errors.Join(err, s.wrap("rollback", rbErr))
		}
	}()
	if err := fn(&Store{d: s.d, write: s.write, read: s.read, tx: &txState{tx: tx}, stmts: s.stmts, keys: s.keys}); err != nil {
		return err
	}
	if err := tx.Commit(); err != nil {
		return s.wrap("commit", err)
	}
	committed = true
	return nil
}

// Ping checks both pools. On the Store bound to a transaction it checks the transaction's
// connection: asking a pool would wait forever on SQLite, whose one write connection the
// transaction holds.
func (s *Store) Ping(ctx context.Context) error {
	if s.tx != nil {
		if _, err := s.tx.tx.ExecContext(ctx, `SELECT 1`); err != nil {
			return s.wrap("ping", err)
		}
		return nil
	}
	if err := s.write.PingContext(ctx); err != nil {
		return s.wrap("ping", err)
	}
	if s.read != s.write {
		if err := s.read.PingContext(ctx); err != nil {
			return s.wrap("ping", err)
		}
	}
	return nil
}

// Close closes the pools. On the Store bound to a transaction it does nothing: the transaction
// belongs to InTx.
func (s *Store) Close() error {
	if s.tx != nil {
		return nil
	}
	var err error
	s.stmts.m.Range(func(k, st any) bool {
		err = errors.Join(err, st.(*sql.Stmt).Close())
		s.stmts.m.Delete(k)
		return true
	})
	err = errors.Join(err, s.write.Close())
	if s.read != s.write {
		err = errors.Join(err, s.read.Close())
	}
	return err
}

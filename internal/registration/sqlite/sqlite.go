// Package sqlite is the registration store in one SQLite file (modernc.org/sqlite: pure Go, no
// cgo), the service's embedded default.
//
// SQLite allows one writer at a time; a second connection that wants to write waits, and gives up
// with "database is locked" when the wait is long. So the Store never lets its connections
// compete: every write and every transaction goes through a pool of exactly one connection, and
// plain reads go through a separate read-only pool, which WAL lets read while the writer writes.
package sqlite

import (
	"context"
	"database/sql"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"strings"

	"github.com/pressly/goose/v3"
	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"

	"usersorchestrator/internal/registration"
	"usersorchestrator/internal/registration/sqlstore"
)

//go:embed migrations/*.sql
var embedded embed.FS

// busyTimeoutMs bounds how long a connection waits for a lock held by another process (another
// instance, the migrate command). Within one process writes never wait on SQLite's lock: the
// write pool has one connection.
const busyTimeoutMs = 5000

// Every connection: WAL (readers do not block the writer nor it them), wait instead of failing
// on a lock, enforce foreign keys (tokens go with their registration), and sync at checkpoints
// only, which WAL makes safe against corruption (a power cut may lose the last commits).
// Checkpoints come every 8000 pages of WAL (32 MiB) instead of SQLite's 1000: a checkpoint copies
// each changed page back once however many commits changed it, and the event batches change
// the same index pages again and again (`make bench`: ~5% of a GET by id's CPU). The WAL file
// stays at about that size on disk.
var common = fmt.Sprintf("_pragma=busy_timeout(%d)&_pragma=foreign_keys(1)&_pragma=journal_mode(WAL)&_pragma=synchronous(NORMAL)&_pragma=wal_autocheckpoint(%d)", busyTimeoutMs, walAutocheckpointPages)

const walAutocheckpointPages = 8000

// The write connection begins its transactions IMMEDIATE: it takes the write lock at BEGIN, so a
// transaction that reads first cannot fail later when another process wrote in between.
var writeParams = common + "&_txlock=immediate"

// Read connections refuse writes, so that a write sent to the wrong pool fails loudly instead
// of competing with the writer.
var readParams = common + "&_pragma=query_only(1)"

// Store is the SQLite registration store.
type Store struct {
	*sqlstore.Store
}

var _ registration.Store = (*Store)(nil)

// dialect is how the shared SQL speaks to SQLite.
var dialect = sqlstore.Dialect{
	Name:       "sqlite",
	Rebind:     sqlstore.Identity,
	Time:       sqlstore.TextTime,
	Constraint: constraint,
	EventTime:  sqlstore.MicroTime,
	NoLimit:    "-1",
	// A failed statement in SQLite undoes itself only; the transaction goes on.
	TxAbortsOnError: false,
	// No row locks: a claim's UPDATE holds the write lock from its first step.
	SkipLocked: "",
}

// constraint maps SQLite's constraint errors. SQLite does not name UNIQUE constraints in its
// errors, it names the columns ("UNIQUE constraint failed: registrations.tenant,
// registrations.email_key"), so the columns decide. Its foreign key errors name nothing; the only
// foreign key is the token's registration.
func constraint(err error) error {
	var se *sqlite.Error
	if !errors.As(err, &se) {
		return nil
	}
	switch se.Code() {
	case sqlite3.SQLITE_CONSTRAINT_UNIQUE, sqlite3.SQLITE_CONSTRAINT_PRIMARYKEY:
		msg := se.Error()
		switch {
		case strings.Contains(msg, "registrations.email_key"):
			return registration.ErrEmailTaken
		case strings.Contains(msg, "registrations.customer_registration_id"):
			return registration.ErrIDTaken
		}
	case sqlite3.SQLITE_CONSTRAINT_FOREIGNKEY:
		return registration.ErrNotFound
	}
	return nil
}

// Open opens (creating it and its directory when missing) the database file at path, applies
// the pending migrations, and returns the store. path is a file name: ":memory:" and "file:"
// URIs are refused, because the two pools must share one database.
func Open(ctx context.Context, path string) (*Store, error) {
	write, err := openWritePool(ctx, path)
	if err != nil {
		return nil, err
	}
	if err := migrate(ctx, write); err != nil {
		return nil, errors.Join(err, write.Close())
	}
	read, err := sql.Open("sqlite", path+"?"+readParams)
	if err != nil {
		return nil, errors.Join(fmt.Errorf("registration sqlite: open %s: %w", path, err), write.Close())
	}
	n := max(4, runtime.GOMAXPROCS(0))
	read.SetMaxOpenConns(n)
	read.SetMaxIdleConns(n)
	if err := read.PingContext(ctx); err != nil {
		return nil, errors.Join(fmt.Errorf("registration sqlite: open %s: %w", path, err), read.Close(), write.Close())
	}
	return &Store{sqlstore.New(dialect, write, read)}, nil
}

// Migrate applies the pending migrations to the database file at path (creating it) and closes
// it. Open migrates too; Migrate is for doing it alone, e.g. the migrate command before a rollout.
func Migrate(ctx context.Context, path string) error {
	write, err := openWritePool(ctx, path)
	if err != nil {
		return err
	}
	return errors.Join(migrate(ctx, write), write.Close())
}

func openWritePool(ctx context.Context, path string) (*sql.DB, error) {
	if path == "" || path == ":memory:" || strings.HasPrefix(path, "file:") || strings.Contains(path, "?") {
		return nil, fmt.Errorf("registration sqlite: %q is not a plain file path", path)
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o750); err != nil {
		return nil, fmt.Errorf("registration sqlite: %w", err)
	}
	db, err := sql.Open("sqlite", path+"?"+writeParams)
	if err != nil {
		return nil, fmt.Errorf("registration sqlite: open %s: %w", path, err)
	}
	// One connection, kept open: writes queue in the pool instead of on SQLite's lock.
	db.SetMaxOpenConns(1)
	db.SetMaxIdleConns(1)
	db.SetConnMaxLifetime(0)
	db.SetConnMaxIdleTime(0)
	if err := db.PingContext(ctx); err != nil {
		return nil, errors.Join(fmt.Errorf("registration sqlite: open %s: %w", path, err), db.Close())
	}
	return db, nil
}

// migrate runs goose on the write pool. goose runs SQL migrations on one connection it holds, so
// a pool of one is enough.
func migrate(ctx context.Context, db *sql.DB) error {
	fsys, err := fs.Sub(embedded, "migrations")
	if err != nil {
		return fmt.Errorf("registration sqlite: %w", err)
	}
	return sqlstore.Migrate(ctx, goose.DialectSQLite3, db, fsys)
}

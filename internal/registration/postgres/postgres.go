// Package postgres is the registration store in PostgreSQL (pgx v5 through database/sql), for
// running several instances of the service on one database.
package postgres

import (
	"context"
	"database/sql"
	"embed"
	"errors"
	"fmt"
	"hash/fnv"
	"io/fs"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/stdlib"
	"github.com/pressly/goose/v3"
	"github.com/pressly/goose/v3/lock"

	"usersorchestrator/internal/registration"
	"usersorchestrator/internal/registration/sqlstore"
)

//go:embed migrations/*.sql
var embedded embed.FS

// Pool limits. PostgreSQL serves 100 connections by default; a few instances of 20 fit.
const (
	defaultMaxConns = 20
	connMaxIdleTime = 5 * time.Minute
	connMaxLifetime = 30 * time.Minute
)

// Option tunes Open.
type Option func(*options)

type options struct {
	maxConns int
}

// WithMaxConns caps the connections the store opens (default 20). The instances of the service
// together must stay under the server's max_connections.
func WithMaxConns(n int) Option {
	return func(o *options) { o.maxConns = n }
}

// Store is the PostgreSQL registration store.
type Store struct {
	*sqlstore.Store
}

var _ registration.Store = (*Store)(nil)

var dialect = sqlstore.Dialect{
	Name:       "postgres",
	Rebind:     sqlstore.Dollar,
	Time:       sqlstore.NativeTime,
	Constraint: constraint,
	EventTime:  sqlstore.NativeTime,
	NoLimit:    "ALL",
	// After a failed statement PostgreSQL refuses the rest of the transaction until it is rolled
	// back (to a savepoint).
	TxAbortsOnError: true,
	SkipLocked:      " FOR UPDATE SKIP LOCKED",
}

// SQLSTATEs (github.com/jackc/pgerrcode names them; one dependency fewer for two constants).
const (
	uniqueViolation     = "23505"
	foreignKeyViolation = "23503"
)

// constraint maps violations by the constraint names of migrations/00001_initial.sql.
func constraint(err error) error {
	var pe *pgconn.PgError
	if !errors.As(err, &pe) {
		return nil
	}
	switch {
	case pe.Code == uniqueViolation && pe.ConstraintName == "registrations_email_key":
		return registration.ErrEmailTaken
	case pe.Code == uniqueViolation && pe.ConstraintName == "registrations_pkey":
		return registration.ErrIDTaken
	case pe.Code == foreignKeyViolation && pe.ConstraintName == "tokens_registration_fkey":
		return registration.ErrNotFound
	}
	return nil
}

// Open connects to the database of dsn (a URL or key=value string, as pgx reads it; a
// search_path parameter selects the schema), applies the pending migrations and returns the store.
func Open(ctx context.Context, dsn string, opts ...Option) (*Store, error) {
	o := options{maxConns: defaultMaxConns}
	for _, opt := range opts {
		opt(&o)
	}
	if o.maxConns < 1 {
		return nil, fmt.Errorf("registration postgres: max connections %d, want at least 1", o.maxConns)
	}
	db, err := openDB(ctx, dsn, o.maxConns)
	if err != nil {
		return nil, err
	}
	if err := migrate(ctx, db); err != nil {
		return nil, errors.Join(err, db.Close())
	}
	return &Store{sqlstore.New(dialect, db, db)}, nil
}

// Migrate applies the pending migrations to the database of dsn and disconnects. Open migrates
// too; Migrate is for doing it alone, e.g. the migrate command before a rollout.
func Migrate(ctx context.Context, dsn string) error {
	// The session lock holds one connection while the migrations run on it.
	db, err := openDB(ctx, dsn, 2)
	if err != nil {
		return err
	}
	return errors.Join(migrate(ctx, db), db.Close())
}

func openDB(ctx context.Context, dsn string, maxConns int) (*sql.DB, error) {
	cfg, err := pgx.ParseConfig(dsn)
	if err != nil {
		// pgx's message can quote the DSN, password included; say only what kind of mistake it is.
		return nil, errors.New("registration postgres: the DSN cannot be parsed")
	}
	db := stdlib.OpenDB(*cfg)
	db.SetMaxOpenConns(maxConns)
	db.SetMaxIdleConns(maxConns)
	db.SetConnMaxIdleTime(connMaxIdleTime)
	db.SetConnMaxLifetime(connMaxLifetime)
	if err := db.PingContext(ctx); err != nil {
		return nil, errors.Join(fmt.Errorf("registration postgres: connect: %w", err), db.Close())
	}
	return db, nil
}

// migrate runs goose under a session advisory lock, so that instances starting together migrate
// one after the other. The lock is per schema (its id hashes the schema's name): stores in
// different schemas of one database, such as parallel tests, do not wait for each other.
func migrate(ctx context.Context, db *sql.DB) error {
	var schema sql.NullString
	if err := db.QueryRowContext(ctx, `SELECT current_schema()`).Scan(&schema); err != nil {
		return fmt.Errorf("registration postgres: current schema: %w", err)
	}
	if !schema.Valid {
		return errors.New("registration postgres: no schema of the search_path exists")
	}
	h := fnv.New64a()
	h.Write([]byte("usersorchestrator registration " + schema.String))
	locker, err := lock.NewPostgresSessionLocker(lock.WithLockID(int64(h.Sum64())), lock.WithLockTimeout(1, 300))
	if err != nil {
		return fmt.Errorf("registration postgres: %w", err)
	}
	fsys, err := fs.Sub(embedded, "migrations")
	if err != nil {
		return fmt.Errorf("registration postgres: %w", err)
	}
	return sqlstore.Migrate(ctx, goose.DialectPostgres, db, fsys, goose.WithSessionLocker(locker))
}

package postgres

import (
	"database/sql"
	"io/fs"

	"github.com/pressly/goose/v3"
)

// Migrations is the goose provider of the package's migrations over db, for tests that migrate
// step by step.
func Migrations(db *sql.DB) (*goose.Provider, error) {
	fsys, err := fs.Sub(embedded, "migrations")
	if err != nil {
		return nil, err
	}
	return goose.NewProvider(goose.DialectPostgres, db, fsys, goose.WithDisableGlobalRegistry(true))
}

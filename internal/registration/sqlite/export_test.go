package sqlite

import (
	"database/sql"
	"io/fs"

	"github.com/pressly/goose/v3"
)

// WALAutocheckpointPages is for the tests of package sqlite_test.
const WALAutocheckpointPages = walAutocheckpointPages

// Migrations is the goose provider of the package's migrations over db, for tests that migrate
// step by step.
func Migrations(db *sql.DB) (*goose.Provider, error) {
	fsys, err := fs.Sub(embedded, "migrations")
	if err != nil {
		return nil, err
	}
	return goose.NewProvider(goose.DialectSQLite3, db, fsys, goose.WithDisableGlobalRegistry(true))
}

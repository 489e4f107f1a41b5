// Package b24pg keeps a portal's OAuth tokens and the receiver's event spool
// in PostgreSQL, so that several processes share them. Its types satisfy the
// b24 runtime's SharedTokenStore and Spool interfaces structurally: the
// package imports no b24, so it fits every generated tree's copy of the
// runtime.
//
// NewTokenStore and NewSpool create their tables when missing (CREATE TABLE
// IF NOT EXISTS), so a first start needs the right to create tables; times
// that several processes must agree on (leases) come from the database's
// clock, not the callers'.
package b24pg

import (
	"errors"
	"fmt"
	"regexp"

	"github.com/jackc/pgx/v5"
)

var errNilPool = errors.New("b24pg: nil pool")

// validName accepts the table names this package writes into SQL.
var validName = regexp.MustCompile(`^[a-z_][a-z0-9_]{0,50}$`)

func tableName(name string) (string, error) {
	if !validName.MatchString(name) {
		return "", fmt.Errorf("b24pg: table name %q: want lower-case letters, digits and underscores", name)
	}
	return pgx.Identifier{name}.Sanitize(), nil
}

package sqlstore

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"usersorchestrator/internal/registration"
	"usersorchestrator/internal/tenant"
)

const registrationCols = `tenant, customer_registration_id, email, password_hash, verified, pending,
	first_name, last_name, metadata, last_logout_date, auth_system,
	add_date, add_source, change_date, change_source, version, password_changed_at`

type rowScanner interface{ Scan(dest ...any) error }

func scanRegistration(row rowScanner) (registration.Registration, error) {
	var (
		r           registration.Registration
		first, last sql.NullString
		metadata    string
	)
	err := row.Scan(tenantCol{&r.Tenant}, &r.CustomerRegistrationID, &r.Email, &r.PasswordHash,
		&r.Verified, &r.Pending, &first, &last, &metadata, scanNullTime(&r.LastLogoutDate), &r.AuthSystem,
		scanTime(&r.AddDate), &r.AddSource, scanTime(&r.ChangeDate), &r.ChangeSource, &r.Version,
		scanNullTime(&r.PasswordChangedAt))
	if err != nil {
		return registration.Registration{}, err
	}
	if first.Valid {
		r.FirstName = &first.String
	}
	if last.Valid {
		r.LastName = &last.String
	}
	if r.Metadata, err = decodeMetadata(metadata); err != nil {
		return registration.Registration{}, err
	}
	return r, nil
}

// encodeMetadata stores metadata as a JSON object. Nil and empty are the same ("{}") and both
// read back as nil.
func encodeMetadata(m map[string]string) (string, error) {
	if len(m) == 0 {
		return "{}", nil
	}
	b, err := json.Marshal(m)
	if err != nil {
		return "", fmt.Errorf("registration: metadata: %w", err)
	}
	return string(b), nil
}

func decodeMetadata(s string) (map[string]string, error) {
	var m map[string]string
	if err := json.Unmarshal([]byte(s), &m); err != nil {
		return nil, fmt.Errorf("registration: stored metadata: %w", err)
	}
	if len(m) == 0 {
		return nil, nil
	}
	return m, nil
}

// Create inserts r with Version 1.
func (s *Store) Create(ctx context.Context, r registration.Registration) error {
	if r.CustomerRegistrationID == "" {
		return errors.New("registration: create: customer registration id is empty")
	}
	tk, err := encodeTenant(r.Tenant)
	if err != nil {
		return err
	}
	meta, err := encodeMetadata(r.Metadata)
	if err != nil {
		return err
	}
	return s.guard(ctx, func() error {
		_, err := s.writer().ExecContext(ctx, s.q(`INSERT INTO registrations (
			tenant, customer_registration_id, email, email_key, password_hash, verified, pending,
			first_name, first_name_key, last_name, last_name_key, metadata, last_logout_date,
			auth_system, add_date, add_source, change_date, change_source, version, password_changed_at)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 1, ?)`),
			tk, r.CustomerRegistrationID, r.Email, lowerKey(r.Email), r.PasswordHash, r.Verified, r.Pending,
			nullableString(r.FirstName), nullableKey(r.FirstName), nullableString(r.LastName), nullableKey(r.LastName),
			meta, s.nullTimeArg(r.LastLogoutDate), r.AuthSystem,
			s.timeArg(r.AddDate), r.AddSource, s.timeArg(r.ChangeDate), r.ChangeSource, s.nullTimeArg(r.PasswordChangedAt))
		if err != nil {
			if mapped := s.d.Constraint(err); mapped != nil {
				return mapped
			}
			return s.wrap("create", err)
		}
		return nil
	})
}

// Get returns the tenant's registration with this id.
func (s *Store) Get(ctx context.Context, t tenant.Key, id string) (registration.Registration, error) {
	return s.getBy(ctx, "get", t, "customer_registration_id", id)
}

// GetByEmail returns the tenant's registration with this email, ignoring case.
func (s *Store) GetByEmail(ctx context.Context, t tenant.Key, email string) (registration.Registration, error) {
	return s.getBy(ctx, "get by email", t, "email_key", lowerKey(email))
}

func (s *Store) getBy(ctx context.Context, op string, t tenant.Key, col, val string) (registration.Registration, error) {
	tk, err := encodeTenant(t)
	if err != nil {
		return registration.Registration{}, err
	}
	row := s.readRow(ctx, s.q(`SELECT `+registrationCols+` FROM registrations WHERE tenant = ? AND `+col+` = ?`), tk, val)
	r, err := scanRegistration(row)
	if errors.Is(err, sql.ErrNoRows) {
		return registration.Registration{}, registration.ErrNotFound
	}
	if err != nil {
		return registration.Registration{}, s.wrap(op, err)
	}
	return r, nil
}

// orderColumns maps the sortable fields to the columns sorted on. Names sort by their lowered
// key, as they are matched; a missing name sorts last in either direction, so that a page of
// "by last name" starts with people who have one.
var orderColumns = map[registration.OrderField]struct {
	col      string
	nullable bool
}{
	registration.OrderByID:         {"customer_registration_id", false},
	registration.OrderByEmail:      {"email_key", false},
	registration.OrderByFirstName:  {"first_name_key", true},
	registration.OrderByLastName:   {"last_name_key", true},
	registration.OrderByAddDate:    {"add_date", false},
	registration.OrderByChangeDate: {"change_date", false},
}

// Search returns one page of the tenant's matching registrations and the number of all matches.
// An empty OrderBy sorts by id. Ties are broken by id in the same direction, so a descending
// page is the ascending one reversed, missing names apart. The page and the count are two
// statements; a write between them can make them disagree by that write.
func (s *Store) Search(ctx context.Context, t tenant.Key, q registration.Query) ([]registration.Registration, int64, error) {
	if q.Limit < 0 || q.Offset < 0 {
		return nil, 0, fmt.Errorf("registration: search: negative limit %d or offset %d", q.Limit, q.Offset)
	}
	orderBy := q.OrderBy
	if orderBy == "" {
		orderBy = registration.OrderByID
	}
	order, ok := orderColumns[orderBy]
	if !ok {
		return nil, 0, fmt.Errorf("registration: search: unknown order field %q", q.OrderBy)
	}
	tk, err := encodeTenant(t)
	if err != nil {
		return nil, 0, err
	}

	where := []string{"tenant = ?"}
	args := []any{tk}
	if q.CustomerRegistrationID != "" {
		where = append(where, "customer_registration_id = ?")
		args = append(args, q.CustomerRegistrationID)
	}
	if q.Email != "" {
		where = append(where, "email_key = ?")
		args = append(args, lowerKey(q.Email))
	}
	if q.FirstNamePrefix != "" {
		where = append(where, `first_name_key LIKE ? ESCAPE '\'`)
		args = append(args, escapeLike(lowerKey(q.FirstNamePrefix))+"%")
	}
	if q.LastNamePrefix != "" {
		where = append(where, `last_name_key LIKE ? ESCAPE '\'`)
		args = append(args, escapeLike(lowerKey(q.LastNamePrefix))+"%")
	}
	if q.Verified != nil {
		where = append(where, "verified = ?")
		args = append(args, *q.Verified)
	}
	if q.HasPassword != nil {
		if *q.HasPassword {
			where = append(where, "password_hash <> ''")
		} else {
			where = append(where, "password_hash = ''")
		}
	}
	cond := strings.Join(where, " AND ")

	var total int64
	if err := s.reader().QueryRowContext(ctx, s.q(`SELECT COUNT(*) FROM registrations WHERE `+cond), args...).Scan(&total); err != nil {
		return nil, 0, s.wrap("search count", err)
	}

	dir := "ASC"
	if q.Descending {
		dir = "DESC"
	}
	orderSQL := order.col + " " + dir
	if order.nullable {
		orderSQL += " NULLS LAST"
	}
	if order.col != "customer_registration_id" {
		orderSQL += ", customer_registration_id " + dir
	}
	query := `SELECT ` + registrationCols + ` FROM registrations WHERE ` + cond + ` ORDER BY ` + orderSQL
	pageArgs := args
	if q.Limit > 0 || q.Offset > 0 {
		query, pageArgs = s.page(query, args, q.Limit, q.Offset)
	}
	rows, err := s.reader().QueryContext(ctx, s.q(query), pageArgs...)
	if err != nil {
		return nil, 0, s.wrap("search", err)
	}
	defer rows.Close()
	out := make([]registration.Registration, 0)
	for rows.Next() {
		r, err := scanRegistration(rows)
		if err != nil {
			return nil, 0, s.wrap("search", err)
		}
		out = append(out, r)
	}
	if err := rows.Err(); err != nil {
		return nil, 0, s.wrap("search", err)
	}
	return out, total, nil
}

// page appends LIMIT and OFFSET; limit 0 means none.
func (s *Store) page(query string, args []any, limit, offset int) (string, []any) {
	out := append([]any(nil), args...)
	if limit > 0 {
		return query + " LIMIT ? OFFSET ?", append(out, limit, offset)
	}
	return query + " LIMIT " + s.d.NoLimit + " OFFSET ?", append(out, offset)
}

// Update stores r if r.Version is the stored version. AddDate and AddSource are not changed:
// they record the creation. The result is the row as stored.
func (s *Store) Update(ctx context.Context, r registration.Registration) (registration.Registration, error) {
	tk, err := encodeTenant(r.Tenant)
	if err != nil {
		return registration.Registration{}, err
	}
	meta, err := encodeMetadata(r.Metadata)
	if err != nil {
		return registration.Registration{}, err
	}
	var out registration.Registration
	err = s.guard(ctx, func() error {
		row := s.writer().QueryRowContext(ctx, s.q(`UPDATE registrations SET
			email = ?, email_key = ?, password_hash = ?, verified = ?, pending = ?,
			first_name = ?, first_name_key = ?, last_name = ?, last_name_key = ?, metadata = ?,
			last_logout_date = ?, auth_system = ?, change_date = ?, change_source = ?,
			password_changed_at = ?, version = version + 1
			WHERE tenant = ? AND customer_registration_id = ? AND version = ?
			RETURNING `+registrationCols),
			r.Email, lowerKey(r.Email), r.PasswordHash, r.Verified, r.Pending,
			nullableString(r.FirstName), nullableKey(r.FirstName), nullableString(r.LastName), nullableKey(r.LastName), meta,
			s.nullTimeArg(r.LastLogoutDate), r.AuthSystem, s.timeArg(r.ChangeDate), r.ChangeSource,
			s.nullTimeArg(r.PasswordChangedAt), tk, r.CustomerRegistrationID, r.Version)
		var err error
		out, err = scanRegistration(row)
		switch {
		case err == nil:
			return nil
		case errors.Is(err, sql.ErrNoRows):
			return s.whyNotUpdated(ctx, tk, r.CustomerRegistrationID)
		default:
			if mapped := s.d.Constraint(err); mapped != nil {
				return mapped
			}
			return s.wrap("update", err)
		}
	})
	if err != nil {
		return registration.Registration{}, err
	}
	return out, nil
}

// whyNotUpdated tells a stale version from a missing row after an update matched nothing.
func (s *Store) whyNotUpdated(ctx context.Context, tk, id string) error {
	var v int64
	err := s.writer().QueryRowContext(ctx,
		s.q(`SELECT version FROM registrations WHERE tenant = ? AND customer_registration_id = ?`), tk, id).Scan(&v)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return registration.ErrNotFound
	case err != nil:
		return s.wrap("update", err)
	default:
		return registration.ErrConflict
	}
}

// Delete removes the registration; its tokens go with it (ON DELETE CASCADE).
func (s *Store) Delete(ctx context.Context, t tenant.Key, id string) error {
	tk, err := encodeTenant(t)
	if err != nil {
		return err
	}
	if _, err := s.writer().ExecContext(ctx,
		s.q(`DELETE FROM registrations WHERE tenant = ? AND customer_registration_id = ?`), tk, id); err != nil {
		return s.wrap("delete", err)
	}
	return nil
}

// Package storetest is the one suite of tests every registration.Store backend runs, so that
// SQLite and PostgreSQL behave the same (as Ory Kratos' test/persistence.go does for its
// persisters). A backend's test calls Run with a function opening a fresh, empty store.
package storetest

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"usersorchestrator/internal/registration"
	"usersorchestrator/internal/tenant"
)

// Opener returns n stores (n >= 1) on one new, empty, migrated database of their own, as n
// instances of the service would open it, and closes them when the test ends (t.Cleanup).
type Opener func(t *testing.T, n int) []registration.Store

// Run runs the suite; subtests run in parallel, each on a database of its own.
func Run(t *testing.T, open Opener) {
	tests := []struct {
		name string
		run  func(t *testing.T, s registration.Store)
	}{
		{"CreateAndGet", testCreateAndGet},
		{"RoundTrip", testRoundTrip},
		{"CreateConflicts", testCreateConflicts},
		{"CreateRejectsBadKeys", testCreateRejectsBadKeys},
		{"Update", testUpdate},
		{"UpdateErrors", testUpdateErrors},
		{"Search", testSearch},
		{"SearchRejectsBadQueries", testSearchRejectsBadQueries},
		{"Delete", testDelete},
		{"Tokens", testTokens},
		{"UseToken", testUseToken},
		{"UseTokenRace", testUseTokenRace},
		{"RecordTokenFailure", testRecordTokenFailure},
		{"RevokeTokens", testRevokeTokens},
		{"ScrubEmails", testScrubEmails},
		{"Events", testEvents},
		{"RecordEvents", testRecordEvents},
		{"Outbox", testOutbox},
		{"OutboxDefaults", testOutboxDefaults},
		{"InTxCommits", testInTxCommits},
		{"InTxRollsBackOnError", testInTxRollsBackOnError},
		{"InTxRollsBackOnPanic", testInTxRollsBackOnPanic},
		{"InTxNested", testInTxNested},
		{"InTxSurvivesConstraintError", testInTxSurvivesConstraintError},
		{"ConcurrentCreateSameEmail", testConcurrentCreateSameEmail},
		{"ConcurrentMixed", testConcurrentMixed},
		{"Ping", testPing},
		{"ClaimDueEmails", testClaimDueEmails},
		{"AttemptSequence", testAttemptSequence},
		{"AttemptKeysAndReset", testAttemptKeysAndReset},
		{"AttemptSweep", testAttemptSweep},
		{"PruneEvents", testPruneEvents},
		{"PruneTokens", testPruneTokens},
		{"PruneEmails", testPruneEmails},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			tc.run(t, open(t, 1)[0])
		})
	}
	// Several instances of the service on one database.
	instances := []struct {
		name string
		run  func(t *testing.T, stores []registration.Store)
	}{
		{"InstancesRaceOnOneLimit", testInstancesRaceOnOneLimit},
		{"InstancesClaimEachEmailOnce", testInstancesClaimEachEmailOnce},
		{"InstancesPruneTogether", testInstancesPruneTogether},
	}
	for _, tc := range instances {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			tc.run(t, open(t, 2))
		})
	}
}

var (
	tenantA = tenant.Key{ClientCode: "CLA", PaperCode: "PAPA", ClientGroupCode: "GRP"}
	tenantB = tenant.Key{ClientCode: "CLB", PaperCode: "PAPB", ClientGroupCode: "GRP"}

	// base is deliberately not UTC and finer than a microsecond: the store must give back UTC,
	// truncated to the microsecond.
	zone = time.FixedZone("UTC+05:30", 5*3600+1800)
	base = time.Date(2025, 3, 14, 15, 9, 26, 535897932, zone)
	// baseStored is base as the store keeps it, written out rather than computed.
	baseStored = time.Date(2025, 3, 14, 9, 39, 26, 535897000, time.UTC)
)

func ptr[T any](v T) *T { return &v }

// micro is a time as the store keeps it: UTC, truncated to the microsecond.
func micro(t time.Time) time.Time { return t.UTC().Truncate(time.Microsecond) }

func newRegistration(k tenant.Key, id, email string) registration.Registration {
	return registration.Registration{
		Tenant:                 k,
		CustomerRegistrationID: id,
		Email:                  email,
		PasswordHash:           "$argon2id$v=19$m=65536,t=3,p=2$c2FsdHNhbHQ$aGFzaGhhc2hoYXNo",
		Verified:               true,
		FirstName:              ptr("Ada"),
		LastName:               ptr("Lovelace"),
		Metadata:               map[string]string{"plan": "gold", "quote": `she said "hi"\n`, "name": "Zoë ✓", "empty": ""},
		LastLogoutDate:         ptr(base.Add(-time.Hour)),
		PasswordChangedAt:      ptr(base.Add(-2 * time.Hour)),
		AuthSystem:             "Auth0",
		AddDate:                base,
		AddSource:              "Web",
		ChangeDate:             base,
		ChangeSource:           "App",
	}
}

// stored is r as the store gives it back with this version.
func stored(r registration.Registration, version int64) registration.Registration {
	r.Version = version
	r.AddDate = micro(r.AddDate)
	r.ChangeDate = micro(r.ChangeDate)
	if r.LastLogoutDate != nil {
		r.LastLogoutDate = ptr(micro(*r.LastLogoutDate))
	}
	if r.PasswordChangedAt != nil {
		r.PasswordChangedAt = ptr(micro(*r.PasswordChangedAt))
	}
	if len(r.Metadata) == 0 {
		r.Metadata = nil
	}
	return r
}

// show prints a value with its pointers followed, for failure messages.
func show(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Sprintf("%+v", v)
	}
	return string(b)
}

func mustEqual[T any](t *testing.T, what string, got, want T) {
	t.Helper()
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("%s:\n got: %s\nwant: %s", what, show(got), show(want))
	}
}

func mustNoErr(t *testing.T, what string, err error) {
	t.Helper()
	if err != nil {
		t.Fatalf("%s: %v", what, err)
	}
}

func mustErrIs(t *testing.T, what string, err, want error) {
	t.Helper()
	if !errors.Is(err, want) {
		t.Fatalf("%s: got error %v, want %v", what, err, want)
	}
}

func mustCreate(t *testing.T, s registration.Store, r registration.Registration) {
	t.Helper()
	mustNoErr(t, "create "+r.CustomerRegistrationID, s.Create(t.Context(), r))
}

func mustGet(t *testing.T, s registration.Store, k tenant.Key, id string) registration.Registration {
	t.Helper()
	r, err := s.Get(t.Context(), k, id)
	mustNoErr(t, "get "+id, err)
	return r
}

func mustNotFound(t *testing.T, s registration.Store, k tenant.Key, id string) {
	t.Helper()
	_, err := s.Get(t.Context(), k, id)
	mustErrIs(t, "get "+id, err, registration.ErrNotFound)
}

func testCreateAndGet(t *testing.T, s registration.Store) {
	ctx := t.Context()
	r := newRegistration(tenantA, "u1", "Ada.Lovelace@Example.com")
	r.Version = 7 // Create starts every registration at 1, whatever it is given.
	mustCreate(t, s, r)

	got := mustGet(t, s, tenantA, "u1")
	mustEqual(t, "get", got, stored(r, 1))
	if !got.AddDate.Equal(baseStored) || got.AddDate != baseStored {
		t.Fatalf("AddDate %v (%v), want %v in UTC", got.AddDate, got.AddDate.Location(), baseStored)
	}

	for _, email := range []string{"Ada.Lovelace@Example.com", "ada.lovelace@example.com", "ADA.LOVELACE@EXAMPLE.COM"} {
		byEmail, err := s.GetByEmail(ctx, tenantA, email)
		mustNoErr(t, "get by email "+email, err)
		mustEqual(t, "get by email "+email, byEmail, stored(r, 1))
	}

	notFound := []struct {
		name string
		get  func() error
	}{
		{"missing id", func() error { _, err := s.Get(ctx, tenantA, "nobody"); return err }},
		{"id in another tenant", func() error { _, err := s.Get(ctx, tenantB, "u1"); return err }},
		{"missing email", func() error { _, err := s.GetByEmail(ctx, tenantA, "nobody@example.com"); return err }},
		{"email in another tenant", func() error { _, err := s.GetByEmail(ctx, tenantB, "ada.lovelace@example.com"); return err }},
		{"email prefix", func() error { _, err := s.GetByEmail(ctx, tenantA, "ada.lovelace@"); return err }},
	}
	for _, tc := range notFound {
		mustErrIs(t, tc.name, tc.get(), registration.ErrNotFound)
	}
}

func testRoundTrip(t *testing.T, s registration.Store) {
	tests := []struct {
		name   string
		change func(r *registration.Registration)
	}{
		{"everything set", func(r *registration.Registration) {}},
		{"nothing optional", func(r *registration.Registration) {
			r.PasswordHash, r.AuthSystem, r.AddSource, r.ChangeSource = "", "", "", ""
			r.Verified, r.Pending = false, true
			r.FirstName, r.LastName, r.LastLogoutDate, r.Metadata, r.PasswordChangedAt = nil, nil, nil, nil, nil
		}},
		{"empty names are not missing names", func(r *registration.Registration) {
			r.FirstName, r.LastName = ptr(""), ptr("")
		}},
		{"empty metadata reads back as nil", func(r *registration.Registration) {
			r.Metadata = map[string]string{}
		}},
		{"unicode and quotes", func(r *registration.Registration) {
			r.Email = "Zoë.O'Brien@Exämple.com"
			r.FirstName, r.LastName = ptr("Zoë"), ptr("O'Brien \"Jr\" \\ %_")
			r.Metadata = map[string]string{"k\"ey": "v\\al\u0000ue", "ключ": "значение"}
		}},
		{"times at microsecond edges", func(r *registration.Registration) {
			r.AddDate = time.Date(1999, 12, 31, 23, 59, 59, 999999999, time.UTC)
			r.ChangeDate = time.Date(2038, 1, 19, 3, 14, 8, 1000, zone)
			r.LastLogoutDate = ptr(time.Date(2000, 2, 29, 0, 0, 0, 999, time.UTC))
		}},
	}
	for i, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := newRegistration(tenantA, fmt.Sprintf("rt%d", i), fmt.Sprintf("rt%d@example.com", i))
			tc.change(&r)
			mustCreate(t, s, r)
			got := mustGet(t, s, tenantA, r.CustomerRegistrationID)
			mustEqual(t, "round trip", got, stored(r, 1))
			if len(r.Metadata) == 0 && got.Metadata != nil {
				t.Fatalf("empty metadata read back as %#v, want nil", got.Metadata)
			}
		})
	}
}

func testCreateConflicts(t *testing.T, s registration.Store) {
	first := newRegistration(tenantA, "u1", "Taken@Example.com")
	mustCreate(t, s, first)

	tests := []struct {
		name    string
		r       registration.Registration
		wantErr error
	}{
		{"same email", newRegistration(tenantA, "u2", "Taken@Example.com"), registration.ErrEmailTaken},
		{"same email in another case", newRegistration(tenantA, "u2", "tAKEN@example.COM"), registration.ErrEmailTaken},
		{"same id", newRegistration(tenantA, "u1", "other@example.com"), registration.ErrIDTaken},
		{"same id and email in another tenant", newRegistration(tenantB, "u1", "taken@example.com"), nil},
		{"another id and email", newRegistration(tenantA, "u3", "free@example.com"), nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := s.Create(t.Context(), tc.r)
			if tc.wantErr == nil {
				mustNoErr(t, "create", err)
				mustEqual(t, "stored", mustGet(t, s, tc.r.Tenant, tc.r.CustomerRegistrationID), stored(tc.r, 1))
				return
			}
			mustErrIs(t, "create", err, tc.wantErr)
		})
	}
	// The refused creates left nothing behind and did not touch the first registration.
	mustEqual(t, "first after conflicts", mustGet(t, s, tenantA, "u1"), stored(first, 1))
	_, total, err := s.Search(t.Context(), tenantA, registration.Query{})
	mustNoErr(t, "search", err)
	if total != 2 {
		t.Fatalf("tenant A holds %d registrations, want 2 (u1, u3)", total)
	}
}

func testCreateRejectsBadKeys(t *testing.T, s registration.Store) {
	tests := []struct {
		name string
		r    registration.Registration
	}{
		{"empty id", newRegistration(tenantA, "", "a@example.com")},
		// "A/B" + "C" and "A" + "B/C" would be stored alike; the store must refuse rather than mix tenants.
		{"tenant part with a slash", newRegistration(tenant.Key{ClientCode: "A/B", PaperCode: "C", ClientGroupCode: "D"}, "u1", "a@example.com")},
	}
	for _, tc := range tests {
		err := s.Create(t.Context(), tc.r)
		if err == nil {
			t.Fatalf("%s: create succeeded, want an error", tc.name)
		}
		for _, sentinel := range []error{registration.ErrEmailTaken, registration.ErrIDTaken, registration.ErrNotFound, registration.ErrConflict} {
			if errors.Is(err, sentinel) {
				t.Fatalf("%s: got %v, want an error that is none of the store's sentinels", tc.name, err)
			}
		}
	}
}

func testUpdate(t *testing.T, s registration.Store) {
	ctx := t.Context()
	orig := newRegistration(tenantA, "u1", "ada@example.com")
	mustCreate(t, s, orig)
	cur := mustGet(t, s, tenantA, "u1")

	next := cur
	next.Email = "Ada.King@Example.com"
	next.PasswordHash = "$argon2id$v=19$m=65536,t=3,p=2$bmV3c2FsdA$bmV3aGFzaA"
	next.Verified, next.Pending = false, true
	next.FirstName, next.LastName = ptr("Augusta"), nil
	next.Metadata = map[string]string{"plan": "silver"}
	next.LastLogoutDate = nil
	next.AuthSystem = "Gigya"
	next.ChangeDate = base.Add(36*time.Hour + 123456789*time.Nanosecond)
	next.ChangeSource = "Support"
	// The creation is history: Update must not rewrite it.
	next.AddDate = base.Add(-240 * time.Hour)
	next.AddSource = "Forged"

	got, err := s.Update(ctx, next)
	mustNoErr(t, "update", err)
	want := stored(next, 2)
	want.AddDate, want.AddSource = cur.AddDate, cur.AddSource
	mustEqual(t, "update result", got, want)
	mustEqual(t, "stored after update", mustGet(t, s, tenantA, "u1"), want)
	if _, err := s.GetByEmail(ctx, tenantA, "ADA.KING@example.com"); err != nil {
		t.Fatalf("get by the new email: %v", err)
	}
	if _, err := s.GetByEmail(ctx, tenantA, "ada@example.com"); !errors.Is(err, registration.ErrNotFound) {
		t.Fatalf("get by the old email: %v, want ErrNotFound", err)
	}

	// The result carries the new version, so it can be updated again straight away, here
	// to its own email in another case.
	again := got
	again.Email = "ADA.KING@EXAMPLE.COM"
	got3, err := s.Update(ctx, again)
	mustNoErr(t, "update with the returned version", err)
	if got3.Version != 3 || got3.Email != "ADA.KING@EXAMPLE.COM" {
		t.Fatalf("second update: version %d email %q, want 3 and the new case", got3.Version, got3.Email)
	}
}

func testUpdateErrors(t *testing.T, s registration.Store) {
	ctx := t.Context()
	ada := newRegistration(tenantA, "u1", "ada@example.com")
	bob := newRegistration(tenantA, "u2", "bob@example.com")
	mustCreate(t, s, ada)
	mustCreate(t, s, bob)
	mustCreate(t, s, newRegistration(tenantB, "u3", "carol@example.com"))
	adaV1 := mustGet(t, s, tenantA, "u1")
	adaV2, err := s.Update(ctx, adaV1)
	mustNoErr(t, "update", err)

	tests := []struct {
		name    string
		r       func() registration.Registration
		wantErr error
	}{
		{"stale version", func() registration.Registration { r := adaV1; r.FirstName = ptr("Stale"); return r }, registration.ErrConflict},
		{"version from the future", func() registration.Registration { r := adaV2; r.Version = 9; return r }, registration.ErrConflict},
		{"email of another registration", func() registration.Registration {
			r := mustGet(t, s, tenantA, "u2")
			r.Email = "ADA@example.com"
			return r
		}, registration.ErrEmailTaken},
		{"missing registration", func() registration.Registration {
			r := adaV2
			r.CustomerRegistrationID = "nobody"
			return r
		}, registration.ErrNotFound},
		{"id of another tenant", func() registration.Registration {
			r := mustGet(t, s, tenantB, "u3")
			r.Tenant = tenantA
			return r
		}, registration.ErrNotFound},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := s.Update(ctx, tc.r())
			mustErrIs(t, "update", err, tc.wantErr)
		})
	}
	// None of the refused updates changed anything.
	mustEqual(t, "ada", mustGet(t, s, tenantA, "u1"), adaV2)
	mustEqual(t, "bob", mustGet(t, s, tenantA, "u2"), stored(bob, 1))
}

// searchSeed is tenant A's registrations for testSearch, chosen so that every order differs from
// the id order, names tie once lowered, names are missing, and dates tie.
func searchSeed() []registration.Registration {
	day := func(month time.Month, d int) time.Time { return time.Date(2024, month, d, 10, 0, 0, 0, time.UTC) }
	// u4 was made in a provider: Standard on a provider tenant whatever its verified flag.
	mkProvider := func(r registration.Registration) registration.Registration { r.AuthSystem = "Auth0"; return r }
	mk := func(id, email string, first, last *string, add, change time.Time, verified bool, password string) registration.Registration {
		r := newRegistration(tenantA, id, email)
		r.FirstName, r.LastName = first, last
		r.AddDate, r.ChangeDate = add, change
		r.Verified, r.PasswordHash = verified, password
		r.AuthSystem = "" // Subscribe only, but for mkProvider's
		return r
	}
	return []registration.Registration{
		mk("u1", "carol@example.com", ptr("Carol"), ptr("Young_Jr"), day(1, 3), day(2, 1), true, "h1"),
		mk("u2", "Alice@Example.com", ptr("anna"), ptr("Smith"), day(1, 1), day(2, 3), false, ""),
		mk("u3", "bob@example.com", ptr("Anna"), nil, day(1, 2), day(2, 2), true, ""),
		mkProvider(mk("u4", "dave@example.com", nil, ptr("smithers"), day(1, 2), day(2, 4), false, "h4")),
		mk("u0", "eve@example.com", ptr("Éva"), ptr("Adams"), day(1, 5), day(2, 1), true, "h0"),
	}
}

func testSearch(t *testing.T, s registration.Store) {
	ctx := t.Context()
	seed := searchSeed()
	byID := map[string]registration.Registration{}
	for _, r := range seed {
		mustCreate(t, s, r)
		byID[r.CustomerRegistrationID] = stored(r, 1)
	}
	other := newRegistration(tenantB, "b1", "alice@example.com")
	other.FirstName = ptr("Anna")
	mustCreate(t, s, other)

	yes, no := ptr(true), ptr(false)
	type Q = registration.Query
	tests := []struct {
		name  string
		q     Q
		want  []string
		total int64
	}{
		{"everything, by id", Q{}, []string{"u0", "u1", "u2", "u3", "u4"}, 5},
		{"id", Q{CustomerRegistrationID: "u3"}, []string{"u3"}, 1},
		{"email ignoring case", Q{Email: "ALICE@example.COM"}, []string{"u2"}, 1},
		{"email is not a prefix", Q{Email: "alice@"}, []string{}, 0},
		{"first name prefix", Q{FirstNamePrefix: "an"}, []string{"u2", "u3"}, 2},
		{"first name prefix ignoring case", Q{FirstNamePrefix: "ANN"}, []string{"u2", "u3"}, 2},
		{"first name prefix ignoring non-ASCII case", Q{FirstNamePrefix: "É"}, []string{"u0"}, 1},
		{"whole first name", Q{FirstNamePrefix: "carol"}, []string{"u1"}, 1},
		{"last name prefix", Q{LastNamePrefix: "smith"}, []string{"u2", "u4"}, 2},
		{"longer last name prefix", Q{LastNamePrefix: "SMITHE"}, []string{"u4"}, 1},
		{"underscore matches itself", Q{LastNamePrefix: "young_j"}, []string{"u1"}, 1},
		{"underscore is not a wildcard", Q{LastNamePrefix: "smit_"}, []string{}, 0},
		{"percent is not a wildcard", Q{FirstNamePrefix: "%"}, []string{}, 0},
		{"verified", Q{Verified: yes}, []string{"u0", "u1", "u3"}, 3},
		{"not verified", Q{Verified: no}, []string{"u2", "u4"}, 2},
		{"has password", Q{HasPassword: yes}, []string{"u0", "u1", "u4"}, 3},
		{"has no password", Q{HasPassword: no}, []string{"u2", "u3"}, 2},
		{"filters combine", Q{Verified: yes, FirstNamePrefix: "anna"}, []string{"u3"}, 1},
		{"state Standard", Q{State: registration.StateStandard}, []string{"u0", "u1"}, 2},
		{"state Lite", Q{State: registration.StateLite}, []string{"u3"}, 1},
		{"state Unverified", Q{State: registration.StateUnverified}, []string{"u2", "u4"}, 2},
		{"state Standard, provider tenant", Q{State: registration.StateStandard, ProviderAccounts: true}, []string{"u0", "u1", "u4"}, 3},
		{"state Lite, provider tenant", Q{State: registration.StateLite, ProviderAccounts: true}, []string{"u3"}, 1},
		{"state Unverified, provider tenant", Q{State: registration.StateUnverified, ProviderAccounts: true}, []string{"u2"}, 1},
		{"nothing matches", Q{LastNamePrefix: "zz"}, []string{}, 0},

		// Orders: names sort lowered, missing names last either way, ties by id in the same direction.
		{"by id desc", Q{OrderBy: registration.OrderByID, Descending: true}, []string{"u4", "u3", "u2", "u1", "u0"}, 5},
		{"by email", Q{OrderBy: registration.OrderByEmail}, []string{"u2", "u3", "u1", "u4", "u0"}, 5},
		{"by email desc", Q{OrderBy: registration.OrderByEmail, Descending: true}, []string{"u0", "u4", "u1", "u3", "u2"}, 5},
		{"by first name", Q{OrderBy: registration.OrderByFirstName}, []string{"u2", "u3", "u1", "u0", "u4"}, 5},
		{"by first name desc", Q{OrderBy: registration.OrderByFirstName, Descending: true}, []string{"u0", "u1", "u3", "u2", "u4"}, 5},
		{"by last name", Q{OrderBy: registration.OrderByLastName}, []string{"u0", "u2", "u4", "u1", "u3"}, 5},
		{"by last name desc", Q{OrderBy: registration.OrderByLastName, Descending: true}, []string{"u1", "u4", "u2", "u0", "u3"}, 5},
		{"by add date", Q{OrderBy: registration.OrderByAddDate}, []string{"u2", "u3", "u4", "u1", "u0"}, 5},
		{"by add date desc", Q{OrderBy: registration.OrderByAddDate, Descending: true}, []string{"u0", "u1", "u4", "u3", "u2"}, 5},
		{"by change date", Q{OrderBy: registration.OrderByChangeDate}, []string{"u0", "u1", "u3", "u2", "u4"}, 5},
		{"by change date desc", Q{OrderBy: registration.OrderByChangeDate, Descending: true}, []string{"u4", "u2", "u3", "u1", "u0"}, 5},

		// Pages: the total counts every match, not the page.
		{"page", Q{Limit: 2, Offset: 1}, []string{"u1", "u2"}, 5},
		{"first page", Q{Limit: 2}, []string{"u0", "u1"}, 5},
		{"last, short page", Q{Limit: 2, Offset: 4}, []string{"u4"}, 5},
		{"past the end", Q{Limit: 2, Offset: 10}, []string{}, 5},
		{"offset without limit", Q{Offset: 3}, []string{"u3", "u4"}, 5},
		{"page of a filter", Q{Verified: yes, Limit: 1, Offset: 1}, []string{"u1"}, 3},
		{"page of an order", Q{OrderBy: registration.OrderByAddDate, Descending: true, Limit: 2, Offset: 1}, []string{"u1", "u4"}, 5},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, total, err := s.Search(ctx, tenantA, tc.q)
			mustNoErr(t, "search", err)
			ids := make([]string, 0, len(got))
			for _, r := range got {
				ids = append(ids, r.CustomerRegistrationID)
				mustEqual(t, "row "+r.CustomerRegistrationID, r, byID[r.CustomerRegistrationID])
			}
			mustEqual(t, "ids", ids, tc.want)
			if total != tc.total {
				t.Fatalf("total %d, want %d", total, tc.total)
			}
		})
	}

	got, total, err := s.Search(ctx, tenantB, registration.Query{FirstNamePrefix: "anna"})
	mustNoErr(t, "search tenant B", err)
	if total != 1 || len(got) != 1 || got[0].CustomerRegistrationID != "b1" {
		t.Fatalf("tenant B search: %s (total %d), want only b1", show(got), total)
	}
}

func testSearchRejectsBadQueries(t *testing.T, s registration.Store) {
	mustCreate(t, s, newRegistration(tenantA, "u1", "a@example.com"))
	for name, q := range map[string]registration.Query{
		"unknown order field": {OrderBy: "password"},
		"negative limit":      {Limit: -1},
		"negative offset":     {Offset: -1},
	} {
		if _, _, err := s.Search(t.Context(), tenantA, q); err == nil {
			t.Errorf("%s: search succeeded, want an error", name)
		}
	}
}

func newToken(k tenant.Key, p registration.Purpose, id, crid string) registration.Token {
	return registration.Token{
		Tenant:                 k,
		Purpose:                p,
		ID:                     id,
		CustomerRegistrationID: crid,
		SecretHash:             []byte{0x00, 0xff, 0x10, 0x80, 'h', 'a', 's', 'h'},
		EventID:                42,
		CreatedAt:              base,
		ExpiresAt:              base.Add(time.Hour),
	}
}

func storedToken(tok registration.Token) registration.Token {
	tok.CreatedAt, tok.ExpiresAt = micro(tok.CreatedAt), micro(tok.ExpiresAt)
	if tok.UsedAt != nil {
		tok.UsedAt = ptr(micro(*tok.UsedAt))
	}
	return tok
}

func testDelete(t *testing.T, s registration.Store) {
	ctx := t.Context()
	mustCreate(t, s, newRegistration(tenantA, "u1", "ada@example.com"))
	mustCreate(t, s, newRegistration(tenantA, "u2", "bob@example.com"))
	mustCreate(t, s, newRegistration(tenantB, "u1", "ada@example.com"))
	for _, tok := range []registration.Token{
		newToken(tenantA, registration.PurposeVerifyEmail, "t1", "u1"),
		newToken(tenantA, registration.PurposeForgotPassword, "t2", "u1"),
		newToken(tenantA, registration.PurposeVerifyEmail, "t3", "u2"),
		newToken(tenantB, registration.PurposeVerifyEmail, "t4", "u1"),
	} {
		mustNoErr(t, "put token "+tok.ID, s.PutToken(ctx, tok))
	}
	_, err := s.RecordEvent(ctx, registration.Event{Tenant: tenantA, CustomerRegistrationID: "u1", TypeCode: "SUBSCRIBE_USER_CREATE", TypeID: 4002, OccurredAt: base})
	mustNoErr(t, "record event", err)

	mustNoErr(t, "delete", s.Delete(ctx, tenantA, "u1"))
	mustNotFound(t, s, tenantA, "u1")
	if _, err := s.GetByEmail(ctx, tenantA, "ada@example.com"); !errors.Is(err, registration.ErrNotFound) {
		t.Fatalf("get by email after delete: %v, want ErrNotFound", err)
	}
	for _, id := range []struct {
		p  registration.Purpose
		id string
	}{{registration.PurposeVerifyEmail, "t1"}, {registration.PurposeForgotPassword, "t2"}} {
		_, err := s.GetToken(ctx, tenantA, id.p, id.id)
		mustErrIs(t, "token of the deleted registration", err, registration.ErrNotFound)
	}
	// Other registrations, their tokens, and the same id in another tenant stay.
	mustGet(t, s, tenantA, "u2")
	mustGet(t, s, tenantB, "u1")
	for _, tok := range []struct {
		k  tenant.Key
		id string
	}{{tenantA, "t3"}, {tenantB, "t4"}} {
		_, err := s.GetToken(ctx, tok.k, registration.PurposeVerifyEmail, tok.id)
		mustNoErr(t, "token "+tok.id+" of another registration", err)
	}
	// Events are the audit trail: they outlive the registration.
	_, total, err := s.ListEvents(ctx, tenantA, "u1", 0, 0)
	mustNoErr(t, "list events", err)
	if total != 1 {
		t.Fatalf("events of the deleted registration: %d, want 1", total)
	}

	mustNoErr(t, "delete again", s.Delete(ctx, tenantA, "u1"))
	mustNoErr(t, "delete a missing id", s.Delete(ctx, tenantA, "nobody"))
	// The email is free again.
	mustCreate(t, s, newRegistration(tenantA, "u9", "ADA@example.com"))
}

func testTokens(t *testing.T, s registration.Store) {
	ctx := t.Context()
	mustCreate(t, s, newRegistration(tenantA, "u1", "ada@example.com"))
	mustCreate(t, s, newRegistration(tenantA, "u2", "bob@example.com"))

	tok := newToken(tenantA, registration.PurposeForgotPassword, "t1", "u1")
	mustNoErr(t, "put", s.PutToken(ctx, tok))
	got, err := s.GetToken(ctx, tenantA, registration.PurposeForgotPassword, "t1")
	mustNoErr(t, "get", err)
	mustEqual(t, "token", got, storedToken(tok))

	// A token of another purpose may share the id.
	other := newToken(tenantA, registration.PurposeVerifyEmail, "t1", "u2")
	other.SecretHash = []byte("other")
	mustNoErr(t, "put other purpose", s.PutToken(ctx, other))

	// Putting the same tenant, purpose and id replaces the whole token, used and failed state included.
	mustNoErr(t, "use", s.UseToken(ctx, tenantA, registration.PurposeForgotPassword, "t1", base))
	_, err = s.RecordTokenFailure(ctx, tenantA, registration.PurposeForgotPassword, "t1")
	mustNoErr(t, "fail", err)
	replacement := newToken(tenantA, registration.PurposeForgotPassword, "t1", "u2")
	replacement.SecretHash = []byte("new secret")
	replacement.EventID = 0
	replacement.CreatedAt = base.Add(time.Minute)
	replacement.ExpiresAt = base.Add(2 * time.Hour)
	mustNoErr(t, "replace", s.PutToken(ctx, replacement))
	got, err = s.GetToken(ctx, tenantA, registration.PurposeForgotPassword, "t1")
	mustNoErr(t, "get replaced", err)
	mustEqual(t, "replaced token", got, storedToken(replacement))
	got, err = s.GetToken(ctx, tenantA, registration.PurposeVerifyEmail, "t1")
	mustNoErr(t, "get other purpose", err)
	mustEqual(t, "other purpose", got, storedToken(other))

	// A used token is still returned, with when it was used.
	used := newToken(tenantA, registration.PurposeVerifyEmail, "t2", "u1")
	used.UsedAt = ptr(base.Add(time.Second))
	used.FailedAttempts = 2
	mustNoErr(t, "put used", s.PutToken(ctx, used))
	got, err = s.GetToken(ctx, tenantA, registration.PurposeVerifyEmail, "t2")
	mustNoErr(t, "get used", err)
	mustEqual(t, "used token", got, storedToken(used))

	// Tokens belong to a registration.
	err = s.PutToken(ctx, newToken(tenantA, registration.PurposeVerifyEmail, "t3", "nobody"))
	mustErrIs(t, "put token of a missing registration", err, registration.ErrNotFound)
	err = s.PutToken(ctx, newToken(tenantB, registration.PurposeVerifyEmail, "t3", "u1"))
	mustErrIs(t, "put token of another tenant's registration", err, registration.ErrNotFound)

	for _, tc := range []struct {
		name string
		k    tenant.Key
		p    registration.Purpose
		id   string
	}{
		{"missing id", tenantA, registration.PurposeForgotPassword, "nope"},
		{"other purpose", tenantA, registration.PurposeForgotPassword, "t2"},
		{"other tenant", tenantB, registration.PurposeForgotPassword, "t1"},
		{"never put", tenantA, registration.PurposeVerifyEmail, "t3"},
	} {
		_, err := s.GetToken(ctx, tc.k, tc.p, tc.id)
		mustErrIs(t, "get "+tc.name, err, registration.ErrNotFound)
	}
}

func testUseToken(t *testing.T, s registration.Store) {
	ctx := t.Context()
	mustCreate(t, s, newRegistration(tenantA, "u1", "ada@example.com"))
	expires := base.Add(time.Hour)
	tests := []struct {
		name    string
		setup   func(tok *registration.Token)
		at      time.Time
		wantErr error
	}{
		{"fresh", nil, base.Add(time.Minute), nil},
		{"a microsecond before expiry", nil, expires.Add(-time.Microsecond), nil},
		{"at expiry", nil, expires, registration.ErrNotFound},
		{"after expiry", nil, expires.Add(time.Second), registration.ErrNotFound},
		{"already used", func(tok *registration.Token) { tok.UsedAt = ptr(base) }, base.Add(time.Minute), registration.ErrNotFound},
	}
	for i, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tok := newToken(tenantA, registration.PurposeVerifyEmail, fmt.Sprintf("t%d", i), "u1")
			tok.ExpiresAt = expires
			if tc.setup != nil {
				tc.setup(&tok)
			}
			mustNoErr(t, "put", s.PutToken(ctx, tok))
			err := s.UseToken(ctx, tenantA, tok.Purpose, tok.ID, tc.at)
			got, gerr := s.GetToken(ctx, tenantA, tok.Purpose, tok.ID)
			mustNoErr(t, "get", gerr)
			if tc.wantErr != nil {
				mustErrIs(t, "use", err, tc.wantErr)
				mustEqual(t, "token after a refused use", got, storedToken(tok))
				return
			}
			mustNoErr(t, "use", err)
			want := storedToken(tok)
			want.UsedAt = ptr(micro(tc.at))
			mustEqual(t, "token after use", got, want)
			err = s.UseToken(ctx, tenantA, tok.Purpose, tok.ID, tc.at)
			mustErrIs(t, "second use", err, registration.ErrNotFound)
		})
	}
	mustErrIs(t, "use a missing token", s.UseToken(ctx, tenantA, registration.PurposeVerifyEmail, "nope", base), registration.ErrNotFound)
	mustErrIs(t, "use in another tenant", s.UseToken(ctx, tenantB, registration.PurposeVerifyEmail, "t0", base), registration.ErrNotFound)
	mustErrIs(t, "use with another purpose", s.UseToken(ctx, tenantA, registration.PurposeForgotPassword, "t1", base), registration.ErrNotFound)
}

func testUseTokenRace(t *testing.T, s registration.Store) {
	ctx := t.Context()
	mustCreate(t, s, newRegistration(tenantA, "u1", "ada@example.com"))
	tok := newToken(tenantA, registration.PurposeForgotPassword, "race", "u1")
	mustNoErr(t, "put", s.PutToken(ctx, tok))

	exactlyOneWins(t, 20, "use", "concurrent uses", registration.ErrNotFound, func(i int) error {
		return s.UseToken(ctx, tenantA, tok.Purpose, tok.ID, base.Add(time.Duration(i+1)*time.Millisecond))
	})
}

// exactlyOneWins runs op(0..n-1) at once and fails the test unless exactly one call succeeds and
// every other one fails with loser. what names one call and many the calls, in the messages.
func exactlyOneWins(t *testing.T, n int, what, many string, loser error, op func(i int) error) {
	t.Helper()
	start := make(chan struct{})
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			<-start
			errs[i] = op(i)
		})
	}
	close(start)
	wg.Wait()
	wins := 0
	for i, err := range errs {
		switch {
		case err == nil:
			wins++
		case !errors.Is(err, loser):
			t.Errorf("%s %d: %v, want nil or %v", what, i, err, loser)
		}
	}
	if wins != 1 {
		t.Fatalf("%d of %d %s succeeded, want exactly 1", wins, n, many)
	}
}

// A password or email change ends every link of the user issued before it, and only those.
func testRevokeTokens(t *testing.T, s registration.Store) {
	ctx := t.Context()
	mustCreate(t, s, newRegistration(tenantA, "u1", "ada@example.com"))
	mustCreate(t, s, newRegistration(tenantA, "u2", "bob@example.com"))
	mustCreate(t, s, newRegistration(tenantB, "u1", "ada@example.com"))
	put := func(k tenant.Key, p registration.Purpose, id, crid string, used *time.Time) registration.Token {
		tok := newToken(k, p, id, crid)
		tok.UsedAt = used
		mustNoErr(t, "put", s.PutToken(ctx, tok))
		return storedToken(tok)
	}
	older, newer := put(tenantA, registration.PurposeForgotPassword, "1", "u1", nil), put(tenantA, registration.PurposeForgotPassword, "2", "u1", nil)
	used := put(tenantA, registration.PurposeForgotPassword, "3", "u1", ptr(base))
	code := put(tenantA, registration.PurposeVerifyEmail, "u1", "u1", nil)
	bobs := put(tenantA, registration.PurposeForgotPassword, "4", "u2", nil)
	otherTenant := put(tenantB, registration.PurposeForgotPassword, "1", "u1", nil)

	at := base.Add(time.Minute)
	n, err := s.RevokeTokens(ctx, tenantA, "u1", registration.PurposeForgotPassword, at)
	mustNoErr(t, "revoke", err)
	mustEqual(t, "tokens revoked", n, int64(2))
	for _, tc := range []struct {
		name string
		tok  registration.Token
		want *time.Time
	}{
		{"older link", older, ptr(micro(at))}, {"newer link", newer, ptr(micro(at))},
		{"a used link keeps its use", used, used.UsedAt}, {"another purpose", code, nil},
		{"another user", bobs, nil}, {"another tenant", otherTenant, nil},
	} {
		got, err := s.GetToken(ctx, tc.tok.Tenant, tc.tok.Purpose, tc.tok.ID)
		mustNoErr(t, tc.name, err)
		want := tc.tok
		want.UsedAt = tc.want
		mustEqual(t, tc.name, got, want)
	}
	mustErrIs(t, "a revoked link cannot be used", s.UseToken(ctx, tenantA, registration.PurposeForgotPassword, "2", at), registration.ErrNotFound)
	n, err = s.RevokeTokens(ctx, tenantA, "nobody", registration.PurposeForgotPassword, at)
	mustNoErr(t, "revoke for nobody", err)
	mustEqual(t, "revoked for nobody", n, int64(0))
}

// An unsent email keeps its secret only while the secret works: the body is blanked once it has
// expired or delivery was given up on.
func testScrubEmails(t *testing.T, s registration.Store) {
	ctx := t.Context()
	reader, ok := s.(emailReader)
	if !ok {
		t.Fatalf("%T has no Email(ctx, id) method", s)
	}
	const body = "Open https://daily.example/reset?e=SECRET"
	enqueue := func(expires *time.Time) int64 {
		id, err := s.EnqueueEmail(ctx, registration.Email{Tenant: tenantA, Kind: "forgot-password", From: "f@daily.example",
			To: "ada@example.com", Subject: "Reset", Body: body, CreatedAt: base, NextAttemptAt: base, BodyExpiresAt: expires})
		mustNoErr(t, "enqueue", err)
		return id
	}
	expired, live, none, abandoned := enqueue(ptr(base.Add(time.Hour))), enqueue(ptr(base.Add(3*time.Hour))), enqueue(nil), enqueue(ptr(base.Add(3*time.Hour)))
	sent := enqueue(ptr(base.Add(time.Hour)))
	mustNoErr(t, "sent", s.MarkEmailSent(ctx, sent, base))
	now := base.Add(2 * time.Hour)
	n, err := s.ScrubEmails(ctx, now, abandoned)
	mustNoErr(t, "scrub", err)
	mustEqual(t, "emails scrubbed", n, int64(2))
	for _, tc := range []struct {
		name string
		id   int64
		want string
	}{{"expired", expired, ""}, {"live", live, body}, {"no expiry", none, body}, {"given up on", abandoned, ""}, {"sent", sent, ""}} {
		e, err := reader.Email(ctx, tc.id)
		mustNoErr(t, tc.name, err)
		mustEqual(t, tc.name+" body", e.Body, tc.want)
		if e.Subject != "Reset" || e.To != "ada@example.com" {
			t.Errorf("%s: scrubbing lost the row's other fields: %+v", tc.name, e)
		}
	}
	got, err := reader.Email(ctx, live)
	mustNoErr(t, "live", err)
	mustEqual(t, "expiry read back", got.BodyExpiresAt, ptr(micro(base.Add(3*time.Hour))))
	n, err = s.ScrubEmails(ctx, now)
	mustNoErr(t, "scrub again", err)
	mustEqual(t, "scrubbed again", n, int64(0))
}

func testRecordTokenFailure(t *testing.T, s registration.Store) {
	ctx := t.Context()
	mustCreate(t, s, newRegistration(tenantA, "u1", "ada@example.com"))
	tok := newToken(tenantA, registration.PurposeVerifyEmail, "t1", "u1")
	mustNoErr(t, "put", s.PutToken(ctx, tok))
	for want := 1; want <= 3; want++ {
		n, err := s.RecordTokenFailure(ctx, tenantA, tok.Purpose, tok.ID)
		mustNoErr(t, "record failure", err)
		if n != want {
			t.Fatalf("failure count %d, want %d", n, want)
		}
	}
	got, err := s.GetToken(ctx, tenantA, tok.Purpose, tok.ID)
	mustNoErr(t, "get", err)
	if got.FailedAttempts != 3 || got.UsedAt != nil {
		t.Fatalf("token after 3 failures: %s, want FailedAttempts 3 and unused", show(got))
	}
	_, err = s.RecordTokenFailure(ctx, tenantA, tok.Purpose, "nope")
	mustErrIs(t, "record failure of a missing token", err, registration.ErrNotFound)
	_, err = s.RecordTokenFailure(ctx, tenantB, tok.Purpose, tok.ID)
	mustErrIs(t, "record failure in another tenant", err, registration.ErrNotFound)
}

// testRecordEvents: a batch lands whole, in order (IDs growing as given), across the
// statement-size boundary, with every field intact; an empty batch is a no-op.
func testRecordEvents(t *testing.T, s registration.Store) {
	ctx := context.Background()
	base := time.Date(2026, 11, 2, 9, 15, 0, 123456000, time.UTC)
	mustNoErr(t, "empty batch", s.RecordEvents(ctx, nil))
	const n = 1203 // more than one multi-row INSERT
	batch := make([]registration.Event, n)
	for i := range batch {
		batch[i] = registration.Event{
			Tenant: tenantA, CustomerRegistrationID: "batch", TypeCode: "SUBSCRIBE_USER_GETBYID", TypeID: 4001,
			SourceSystem: "Web", Outcome: registration.OutcomeSuccess, DurationMs: int64(i),
			// Older first, so that newest-first lists them in reverse of the batch.
			OccurredAt: base.Add(time.Duration(i) * time.Millisecond), RequestID: fmt.Sprint("req-", i), Detail: "",
		}
	}
	batch[7].Outcome, batch[7].Detail = registration.OutcomeFailure, "provider unavailable"
	mustNoErr(t, "record events", s.RecordEvents(ctx, batch))
	got, total, err := s.ListEvents(ctx, tenantA, "batch", 0, 0)
	mustNoErr(t, "list", err)
	if total != n || len(got) != n {
		t.Fatalf("%d events (total %d), want %d", len(got), total, n)
	}
	for i, e := range got {
		want := batch[n-1-i]
		want.ID = e.ID
		if !reflect.DeepEqual(e, want) {
			t.Fatalf("event %d: got %+v, want %+v", i, e, want)
		}
		if i > 0 && e.ID >= got[i-1].ID {
			t.Fatalf("IDs do not grow in batch order: %d then %d", got[i-1].ID, e.ID)
		}
	}
}

func testEvents(t *testing.T, s registration.Store) {
	ctx := t.Context()
	ev := func(k tenant.Key, crid string, at time.Time, code string, id int) registration.Event {
		return registration.Event{
			Tenant: k, CustomerRegistrationID: crid, TypeCode: code, TypeID: id,
			SourceSystem: "Web", Outcome: registration.OutcomeSuccess, DurationMs: int64(10 * id),
			OccurredAt: at, RequestID: "req-" + code, Detail: "detail " + code,
		}
	}
	events := []registration.Event{
		ev(tenantA, "u1", base, "SUBSCRIBE_USER_CREATE", 4002),                            // e0
		ev(tenantA, "u1", base.Add(time.Second), "AUTHSYSTEM_USER_CREATE", 4602),          // e1
		ev(tenantA, "u1", base.Add(time.Second), "SUBSCRIBE_USER_UPDATE", 4004),           // e2: same time as e1, later id
		ev(tenantA, "u1", base.Add(-time.Second), "SUBSCRIBE_USER_GET", 4000),             // e3: recorded late, happened first
		ev(tenantA, "u2", base.Add(5*time.Second), "SUBSCRIBE_USER_LOGIN", 4006),          // e4: another user
		ev(tenantB, "u1", base.Add(9*time.Second), "SUBSCRIBE_USER_CHANGEPASSWORD", 4010), // e5: another tenant
		ev(tenantA, "", base, "AUTHSYSTEM_USER_CREATE", 4602),                             // e6: a create that failed
	}
	events[6].Outcome, events[6].Detail = registration.OutcomeFailure, "provider_unavailable"
	var last int64
	for i := range events {
		id, err := s.RecordEvent(ctx, events[i])
		mustNoErr(t, "record event", err)
		if id <= last {
			t.Fatalf("event %d got id %d after %d, want increasing ids", i, id, last)
		}
		last = id
		events[i].ID = id
		events[i].OccurredAt = micro(events[i].OccurredAt)
	}
	e := events
	tests := []struct {
		name          string
		k             tenant.Key
		crid          string
		limit, offset int
		want          []registration.Event
		total         int64
	}{
		{"newest first, ties by id", tenantA, "u1", 0, 0, []registration.Event{e[2], e[1], e[0], e[3]}, 4},
		{"first page", tenantA, "u1", 2, 0, []registration.Event{e[2], e[1]}, 4},
		{"second page", tenantA, "u1", 2, 2, []registration.Event{e[0], e[3]}, 4},
		{"past the end", tenantA, "u1", 2, 4, []registration.Event{}, 4},
		{"offset without limit", tenantA, "u1", 0, 1, []registration.Event{e[1], e[0], e[3]}, 4},
		{"another user", tenantA, "u2", 10, 0, []registration.Event{e[4]}, 1},
		{"another tenant", tenantB, "u1", 10, 0, []registration.Event{e[5]}, 1},
		{"no user", tenantA, "", 10, 0, []registration.Event{e[6]}, 1},
		{"unknown user", tenantA, "nobody", 10, 0, []registration.Event{}, 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, total, err := s.ListEvents(ctx, tc.k, tc.crid, tc.limit, tc.offset)
			mustNoErr(t, "list events", err)
			mustEqual(t, "events", got, tc.want)
			if total != tc.total {
				t.Fatalf("total %d, want %d", total, tc.total)
			}
		})
	}
	if _, _, err := s.ListEvents(ctx, tenantA, "u1", -1, 0); err == nil {
		t.Fatal("list events with a negative limit succeeded, want an error")
	}
}

// emailReader is what the suite needs beyond registration.Store to see a sent email, whose body
// must be gone. Both backends have it.
type emailReader interface {
	Email(ctx context.Context, id int64) (registration.Email, error)
}

func testOutbox(t *testing.T, s registration.Store) {
	ctx := t.Context()
	reader, ok := s.(emailReader)
	if !ok {
		t.Fatalf("%T has no Email(ctx, id) method; the suite needs it to check that sending clears the body", s)
	}
	mail := func(k tenant.Key, to string, created, next time.Time) registration.Email {
		return registration.Email{
			Tenant: k, Kind: "forgot-password", From: "Daily <noreply@daily.example>", To: to,
			Subject: "Reset your password", Body: "Open https://daily.example/reset?e=SECRET\nThanks",
			CreatedAt: created, NextAttemptAt: next,
		}
	}
	t0 := base
	emails := []registration.Email{
		mail(tenantA, "e0@example.com", t0, t0),
		mail(tenantA, "e1@example.com", t0.Add(time.Second), t0.Add(time.Second)),
		mail(tenantA, "e2@example.com", t0.Add(-time.Hour), t0.Add(time.Hour)), // oldest, but not due yet
		mail(tenantB, "e3@example.com", t0.Add(2*time.Second), t0.Add(2*time.Second)),
	}
	// A new email is unsent and untried, whatever it is given.
	emails[0].Attempts, emails[0].LastError, emails[0].SentAt = 5, "old", ptr(t0)
	for i := range emails {
		id, err := s.EnqueueEmail(ctx, emails[i])
		mustNoErr(t, "enqueue", err)
		emails[i].ID = id
		emails[i].CreatedAt, emails[i].NextAttemptAt = micro(emails[i].CreatedAt), micro(emails[i].NextAttemptAt)
		emails[i].Attempts, emails[i].LastError, emails[i].SentAt = 0, "", nil
	}
	e := emails
	due := func(now time.Time, limit int, want ...registration.Email) {
		t.Helper()
		got, err := s.DueEmails(ctx, now, limit)
		mustNoErr(t, "due emails", err)
		if want == nil {
			want = []registration.Email{}
		}
		mustEqual(t, fmt.Sprintf("due at %v, limit %d", now, limit), got, want)
	}
	backlog := func(want int64) {
		t.Helper()
		n, err := s.OutboxBacklog(ctx)
		mustNoErr(t, "backlog", err)
		if n != want {
			t.Fatalf("backlog %d, want %d", n, want)
		}
	}

	due(t0.Add(10*time.Second), 0, e[0], e[1], e[3])
	due(t0.Add(10*time.Second), 2, e[0], e[1])
	due(t0.Add(time.Second), 0, e[0], e[1]) // due exactly now counts
	due(t0.Add(-time.Microsecond), 0)
	due(t0.Add(time.Hour), 0, e[2], e[0], e[1], e[3])
	backlog(4)

	sentAt := t0.Add(20*time.Second + 999*time.Nanosecond)
	mustNoErr(t, "mark sent", s.MarkEmailSent(ctx, e[0].ID, sentAt))
	due(t0.Add(10*time.Second), 0, e[1], e[3])
	backlog(3)
	sent, err := reader.Email(ctx, e[0].ID)
	mustNoErr(t, "read sent email", err)
	wantSent := e[0]
	wantSent.Body, wantSent.SentAt = "", ptr(micro(sentAt))
	mustEqual(t, "sent email", sent, wantSent)

	next := t0.Add(time.Hour)
	mustNoErr(t, "mark failed", s.MarkEmailFailed(ctx, e[1].ID, next, "smtp: 451 try later"))
	due(t0.Add(10*time.Second), 0, e[3])
	failed := e[1]
	failed.Attempts, failed.NextAttemptAt, failed.LastError = 1, micro(next), "smtp: 451 try later"
	due(t0.Add(time.Hour), 0, e[2], failed, e[3])
	mustNoErr(t, "mark failed again", s.MarkEmailFailed(ctx, e[1].ID, next.Add(time.Hour), "smtp: 421"))
	failed.Attempts, failed.NextAttemptAt, failed.LastError = 2, micro(next.Add(time.Hour)), "smtp: 421"
	due(t0.Add(2*time.Hour), 1, e[2])
	due(t0.Add(2*time.Hour), 0, e[2], failed, e[3])
	backlog(3)

	mustErrIs(t, "mark a missing email sent", s.MarkEmailSent(ctx, 1<<40, t0), registration.ErrNotFound)
	mustErrIs(t, "mark a missing email failed", s.MarkEmailFailed(ctx, 1<<40, t0, "x"), registration.ErrNotFound)
	_, err = reader.Email(ctx, 1<<40)
	mustErrIs(t, "read a missing email", err, registration.ErrNotFound)
	if _, err := s.DueEmails(ctx, t0, -1); err == nil {
		t.Fatal("due emails with a negative limit succeeded, want an error")
	}
}

func testOutboxDefaults(t *testing.T, s registration.Store) {
	ctx := t.Context()
	before := time.Now().Add(-time.Millisecond)
	id, err := s.EnqueueEmail(ctx, registration.Email{Tenant: tenantA, Kind: "welcome", To: "a@example.com", Body: "hi"})
	mustNoErr(t, "enqueue", err)
	after := time.Now().Add(time.Millisecond)

	got, err := s.DueEmails(ctx, after, 0)
	mustNoErr(t, "due", err)
	if len(got) != 1 || got[0].ID != id {
		t.Fatalf("an email enqueued without a time is not due now: %s", show(got))
	}
	if got[0].CreatedAt.Before(before) || got[0].CreatedAt.After(after) {
		t.Fatalf("CreatedAt %v, want now (%v .. %v)", got[0].CreatedAt, before, after)
	}
	if !got[0].NextAttemptAt.Equal(got[0].CreatedAt) {
		t.Fatalf("NextAttemptAt %v, want CreatedAt %v", got[0].NextAttemptAt, got[0].CreatedAt)
	}
}

var errBoom = errors.New("boom")

func testInTxCommits(t *testing.T, s registration.Store) {
	ctx := t.Context()
	r := newRegistration(tenantA, "u1", "ada@example.com")
	var eventID int64
	err := s.InTx(ctx, func(tx registration.Store) error {
		pingCtx, cancel := context.WithTimeout(ctx, 5*time.Second)
		defer cancel()
		if err := tx.Ping(pingCtx); err != nil {
			return fmt.Errorf("ping inside the transaction: %w", err)
		}
		if err := tx.Create(ctx, r); err != nil {
			return err
		}
		// The transaction sees its own writes; the outside does not, yet.
		if _, err := tx.GetByEmail(ctx, tenantA, "ADA@example.com"); err != nil {
			return fmt.Errorf("read own write: %w", err)
		}
		if _, err := s.Get(ctx, tenantA, "u1"); !errors.Is(err, registration.ErrNotFound) {
			return fmt.Errorf("outside the transaction before commit: %v, want ErrNotFound", err)
		}
		cur, err := tx.Get(ctx, tenantA, "u1")
		if err != nil {
			return err
		}
		cur.Verified = false
		if _, err := tx.Update(ctx, cur); err != nil {
			return err
		}
		if err := tx.PutToken(ctx, newToken(tenantA, registration.PurposeVerifyEmail, "t1", "u1")); err != nil {
			return err
		}
		if eventID, err = tx.RecordEvent(ctx, registration.Event{Tenant: tenantA, CustomerRegistrationID: "u1", TypeCode: "SUBSCRIBE_USER_CREATE", TypeID: 4002, OccurredAt: base}); err != nil {
			return err
		}
		_, err = tx.EnqueueEmail(ctx, registration.Email{Tenant: tenantA, Kind: "verify", To: "ada@example.com", Body: "code"})
		return err
	})
	mustNoErr(t, "in tx", err)

	got := mustGet(t, s, tenantA, "u1")
	if got.Version != 2 || got.Verified {
		t.Fatalf("after commit: version %d verified %v, want 2 and false", got.Version, got.Verified)
	}
	_, err = s.GetToken(ctx, tenantA, registration.PurposeVerifyEmail, "t1")
	mustNoErr(t, "token after commit", err)
	events, _, err := s.ListEvents(ctx, tenantA, "u1", 0, 0)
	mustNoErr(t, "events after commit", err)
	if len(events) != 1 || events[0].ID != eventID {
		t.Fatalf("events after commit: %s, want the one recorded (id %d)", show(events), eventID)
	}
	n, err := s.OutboxBacklog(ctx)
	mustNoErr(t, "backlog", err)
	if n != 1 {
		t.Fatalf("backlog after commit %d, want 1", n)
	}
}

// assertEmptyAfterRollback checks that nothing of testInTx*'s rolled-back work landed.
func assertEmptyAfterRollback(t *testing.T, s registration.Store) {
	t.Helper()
	ctx := t.Context()
	mustNotFound(t, s, tenantA, "u1")
	mustEqual(t, "existing registration", mustGet(t, s, tenantA, "u0"), stored(newRegistration(tenantA, "u0", "zed@example.com"), 1))
	_, total, err := s.ListEvents(ctx, tenantA, "u1", 0, 0)
	mustNoErr(t, "list events", err)
	n, err := s.OutboxBacklog(ctx)
	mustNoErr(t, "backlog", err)
	if total != 0 || n != 0 {
		t.Fatalf("after rollback: %d events, %d emails, want none", total, n)
	}
	_, err = s.GetToken(ctx, tenantA, registration.PurposeVerifyEmail, "t0")
	mustNoErr(t, "token put before the transaction", err)
}

// writeEverything writes one of each kind through tx, changing u0 and its token t0 too.
func writeEverything(ctx context.Context, tx registration.Store) error {
	if err := tx.Create(ctx, newRegistration(tenantA, "u1", "ada@example.com")); err != nil {
		return err
	}
	u0, err := tx.Get(ctx, tenantA, "u0")
	if err != nil {
		return err
	}
	u0.Email = "changed@example.com"
	if _, err := tx.Update(ctx, u0); err != nil {
		return err
	}
	if err := tx.UseToken(ctx, tenantA, registration.PurposeVerifyEmail, "t0", base); err != nil {
		return err
	}
	if _, err := tx.RecordEvent(ctx, registration.Event{Tenant: tenantA, CustomerRegistrationID: "u1", OccurredAt: base}); err != nil {
		return err
	}
	_, err = tx.EnqueueEmail(ctx, registration.Email{Tenant: tenantA, To: "ada@example.com"})
	return err
}

func seedForRollback(t *testing.T, s registration.Store) {
	t.Helper()
	mustCreate(t, s, newRegistration(tenantA, "u0", "zed@example.com"))
	mustNoErr(t, "put token", s.PutToken(t.Context(), newToken(tenantA, registration.PurposeVerifyEmail, "t0", "u0")))
}

func testInTxRollsBackOnError(t *testing.T, s registration.Store) {
	ctx := t.Context()
	seedForRollback(t, s)
	err := s.InTx(ctx, func(tx registration.Store) error {
		if err := writeEverything(ctx, tx); err != nil {
			return fmt.Errorf("writes before the failure: %w", err)
		}
		return fmt.Errorf("workflow failed: %w", errBoom)
	})
	mustErrIs(t, "in tx", err, errBoom)
	assertEmptyAfterRollback(t, s)
	tok, err := s.GetToken(ctx, tenantA, registration.PurposeVerifyEmail, "t0")
	mustNoErr(t, "get token", err)
	if tok.UsedAt != nil {
		t.Fatal("the token use inside the rolled-back transaction landed")
	}
}

func testInTxRollsBackOnPanic(t *testing.T, s registration.Store) {
	ctx := t.Context()
	seedForRollback(t, s)
	var writeErr error
	func() {
		defer func() {
			if p := recover(); p != errBoom {
				t.Fatalf("recovered %v, want the panic of fn to go through InTx", p)
			}
		}()
		_ = s.InTx(ctx, func(tx registration.Store) error {
			writeErr = writeEverything(ctx, tx)
			panic(errBoom)
		})
	}()
	mustNoErr(t, "writes before the panic", writeErr)
	assertEmptyAfterRollback(t, s)
	// The store is still usable: the panicking transaction did not keep a connection.
	mustCreate(t, s, newRegistration(tenantA, "u2", "after@example.com"))
}

func testInTxNested(t *testing.T, s registration.Store) {
	ctx := t.Context()
	err := s.InTx(ctx, func(tx registration.Store) error {
		if err := tx.Create(ctx, newRegistration(tenantA, "outer", "outer@example.com")); err != nil {
			return err
		}
		if err := tx.InTx(ctx, func(inner registration.Store) error {
			if _, err := inner.Get(ctx, tenantA, "outer"); err != nil {
				return fmt.Errorf("inner reads the outer's write: %w", err)
			}
			return inner.Create(ctx, newRegistration(tenantA, "inner-ok", "inner-ok@example.com"))
		}); err != nil {
			return fmt.Errorf("nested commit: %w", err)
		}
		// A nested transaction that fails undoes its own writes only; the outer one goes on.
		err := tx.InTx(ctx, func(inner registration.Store) error {
			if err := inner.Create(ctx, newRegistration(tenantA, "inner-failed", "inner-failed@example.com")); err != nil {
				return err
			}
			return errBoom
		})
		if !errors.Is(err, errBoom) {
			return fmt.Errorf("failing nested transaction returned %v, want errBoom", err)
		}
		if _, err := tx.Get(ctx, tenantA, "inner-failed"); !errors.Is(err, registration.ErrNotFound) {
			return fmt.Errorf("inside the outer transaction, the failed nested write: %v, want ErrNotFound", err)
		}
		return tx.Create(ctx, newRegistration(tenantA, "after", "after@example.com"))
	})
	mustNoErr(t, "in tx", err)
	for _, id := range []string{"outer", "inner-ok", "after"} {
		mustGet(t, s, tenantA, id)
	}
	mustNotFound(t, s, tenantA, "inner-failed")

	// A failing outer transaction takes its committed nested ones with it.
	err = s.InTx(ctx, func(tx registration.Store) error {
		if err := tx.InTx(ctx, func(inner registration.Store) error {
			return inner.Create(ctx, newRegistration(tenantA, "doomed", "doomed@example.com"))
		}); err != nil {
			return err
		}
		return errBoom
	})
	mustErrIs(t, "outer failure", err, errBoom)
	mustNotFound(t, s, tenantA, "doomed")
}

func testInTxSurvivesConstraintError(t *testing.T, s registration.Store) {
	ctx := t.Context()
	mustCreate(t, s, newRegistration(tenantA, "u1", "taken@example.com"))
	err := s.InTx(ctx, func(tx registration.Store) error {
		// A workflow may meet ErrEmailTaken and carry on in the same transaction.
		if err := tx.Create(ctx, newRegistration(tenantA, "u2", "TAKEN@example.com")); !errors.Is(err, registration.ErrEmailTaken) {
			return fmt.Errorf("create with a taken email: %v, want ErrEmailTaken", err)
		}
		if err := tx.Create(ctx, newRegistration(tenantA, "u1", "x@example.com")); !errors.Is(err, registration.ErrIDTaken) {
			return fmt.Errorf("create with a taken id: %v, want ErrIDTaken", err)
		}
		if err := tx.PutToken(ctx, newToken(tenantA, registration.PurposeVerifyEmail, "t", "nobody")); !errors.Is(err, registration.ErrNotFound) {
			return fmt.Errorf("token of a missing registration: %v, want ErrNotFound", err)
		}
		u1, err := tx.Get(ctx, tenantA, "u1")
		if err != nil {
			return err
		}
		stale := u1
		u1.FirstName = ptr("Changed")
		if _, err := tx.Update(ctx, u1); err != nil {
			return err
		}
		if _, err := tx.Update(ctx, stale); !errors.Is(err, registration.ErrConflict) {
			return fmt.Errorf("stale update: %v, want ErrConflict", err)
		}
		return tx.Create(ctx, newRegistration(tenantA, "u2", "free@example.com"))
	})
	mustNoErr(t, "in tx", err)
	mustGet(t, s, tenantA, "u2")
	if got := mustGet(t, s, tenantA, "u1"); got.FirstName == nil || *got.FirstName != "Changed" || got.Version != 2 {
		t.Fatalf("u1 after the transaction: %s, want first name Changed at version 2", show(got))
	}
}

func testConcurrentCreateSameEmail(t *testing.T, s registration.Store) {
	ctx := t.Context()
	exactlyOneWins(t, 16, "create", "concurrent creates with one email", registration.ErrEmailTaken, func(i int) error {
		email := "same@example.com"
		if i%2 == 1 {
			email = strings.ToUpper(email)
		}
		return s.Create(ctx, newRegistration(tenantA, fmt.Sprintf("c%02d", i), email))
	})
	_, total, err := s.Search(ctx, tenantA, registration.Query{})
	mustNoErr(t, "search", err)
	if total != 1 {
		t.Fatalf("%d registrations stored, want 1", total)
	}
}

// testConcurrentMixed has workers do every kind of call at once for a while: none may fail (on
// SQLite this is where "database is locked" would show), and every worker's writes must land.
func testConcurrentMixed(t *testing.T, s registration.Store) {
	ctx := t.Context()
	const workers = 8
	deadline := time.Now().Add(time.Second)
	var (
		wg      sync.WaitGroup
		ops     atomic.Int64
		mu      sync.Mutex
		created = map[string]bool{}
	)
	fail := func(w int, step string, err error) {
		t.Errorf("worker %d: %s: %v", w, step, err)
	}
	for w := range workers {
		wg.Go(func() {
			for i := 0; time.Now().Before(deadline) && !t.Failed(); i++ {
				id := fmt.Sprintf("w%d-%d", w, i)
				r := newRegistration(tenantA, id, id+"@example.com")
				if err := s.Create(ctx, r); err != nil {
					fail(w, "create", err)
					return
				}
				cur, err := s.Get(ctx, tenantA, id)
				if err != nil {
					fail(w, "get", err)
					return
				}
				cur.FirstName = ptr("Worker")
				if _, err := s.Update(ctx, cur); err != nil {
					fail(w, "update", err)
					return
				}
				if _, _, err := s.Search(ctx, tenantA, registration.Query{FirstNamePrefix: "work", Limit: 5}); err != nil {
					fail(w, "search", err)
					return
				}
				tok := newToken(tenantA, registration.PurposeVerifyEmail, id, id)
				tok.ExpiresAt = time.Now().Add(time.Hour)
				if err := s.PutToken(ctx, tok); err != nil {
					fail(w, "put token", err)
					return
				}
				if err := s.UseToken(ctx, tenantA, tok.Purpose, id, time.Now()); err != nil {
					fail(w, "use token", err)
					return
				}
				if _, err := s.RecordEvent(ctx, registration.Event{Tenant: tenantA, CustomerRegistrationID: id, OccurredAt: time.Now()}); err != nil {
					fail(w, "record event", err)
					return
				}
				if _, _, err := s.ListEvents(ctx, tenantA, id, 10, 0); err != nil {
					fail(w, "list events", err)
					return
				}
				emailID, err := s.EnqueueEmail(ctx, registration.Email{Tenant: tenantA, To: id + "@example.com", Body: "b"})
				if err != nil {
					fail(w, "enqueue", err)
					return
				}
				if _, err := s.DueEmails(ctx, time.Now(), 5); err != nil {
					fail(w, "due emails", err)
					return
				}
				if err := s.MarkEmailSent(ctx, emailID, time.Now()); err != nil {
					fail(w, "mark sent", err)
					return
				}
				err = s.InTx(ctx, func(tx registration.Store) error {
					cur, err := tx.Get(ctx, tenantA, id)
					if err != nil {
						return err
					}
					cur.Verified = false
					if _, err := tx.Update(ctx, cur); err != nil {
						return err
					}
					_, err = tx.RecordEvent(ctx, registration.Event{Tenant: tenantA, CustomerRegistrationID: id, OccurredAt: time.Now()})
					return err
				})
				if err != nil {
					fail(w, "in tx", err)
					return
				}
				mu.Lock()
				created[id] = true
				mu.Unlock()
				ops.Add(14)
			}
		})
	}
	wg.Wait()
	if t.Failed() {
		return
	}
	if ops.Load() == 0 {
		t.Fatal("no worker finished a round in a second")
	}
	t.Logf("%d operations by %d workers in a second", ops.Load(), workers)
	ids := make([]string, 0, len(created))
	for id := range created {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	for _, id := range ids {
		r := mustGet(t, s, tenantA, id)
		if r.Version != 3 || r.Verified || r.FirstName == nil || *r.FirstName != "Worker" {
			t.Fatalf("%s after its round: %s, want version 3, unverified, first name Worker", id, show(r))
		}
	}
	_, total, err := s.Search(ctx, tenantA, registration.Query{})
	mustNoErr(t, "search", err)
	if total != int64(len(ids)) {
		t.Fatalf("%d registrations stored, want %d", total, len(ids))
	}
	n, err := s.OutboxBacklog(ctx)
	mustNoErr(t, "backlog", err)
	if n != 0 {
		t.Fatalf("backlog %d, want 0 (every email was marked sent)", n)
	}
}

func testPing(t *testing.T, s registration.Store) {
	mustNoErr(t, "ping", s.Ping(t.Context()))
}

package orchestrator

import (
	"fmt"
	"testing"
	"time"

	"usersorchestrator/internal/provider"
	"usersorchestrator/internal/provider/providertest"
)

func TestGetUsersSelectors(t *testing.T) {
	const email = "jane@example.com"
	tests := []struct {
		name   string
		setup  func(f *fixture) (GetUsersInput, string) // the input and the id it should find ("" for none)
		local  bool
		want   string
		calls  ops
		events evs
	}{
		{name: "encrypted id", setup: func(f *fixture) (GetUsersInput, string) {
			crid := f.linkedUser(email)
			return GetUsersInput{EncryptedID: f.o.sealID(f.pc, crid)}, crid
		}, want: "ok", calls: ops{providertest.OpGetUser}, events: evs{evAuthGet, evSubGet}},
		{name: "encrypted id that does not open", setup: func(f *fixture) (GetUsersInput, string) {
			return GetUsersInput{EncryptedID: "nope"}, ""
		}, want: ErrInvalidEncrypted.Error()},
		{name: "encrypted email", setup: func(f *fixture) (GetUsersInput, string) {
			crid := f.linkedUser(email)
			return GetUsersInput{EncryptedEmail: f.o.SealEmail(f.pc, "Jane@Example.com")}, crid
		}, want: "ok", calls: ops{providertest.OpFindByEmail}, events: evs{evAuthGet, evSubGet}},
		{name: "encrypted email that does not open", setup: func(f *fixture) (GetUsersInput, string) {
			return GetUsersInput{EncryptedEmail: f.o.sealID(f.pc, email)}, "" // sealed for another purpose
		}, want: ErrInvalidEncrypted.Error()},
		{name: "email: a provider-only user is copied in", setup: func(f *fixture) (GetUsersInput, string) {
			return GetUsersInput{Email: email}, f.providerUser(email).ID
		}, want: "ok", calls: ops{providertest.OpFindByEmail}, events: evs{"AUTHSYSTEM_USER_SEARCH Success", evSubGet, evSubUpdate}},
		{name: "email: a provider user of another id is not this registration's", setup: func(f *fixture) (GetUsersInput, string) {
			crid := f.localUser(f.pc, email, true)
			f.providerUser(email)
			return GetUsersInput{Email: email}, crid
		}, want: "ok", calls: ops{providertest.OpFindByEmail}, events: evs{"AUTHSYSTEM_USER_SEARCH Success", evSubGet}},
		{name: "email nobody has: an empty page", setup: func(f *fixture) (GetUsersInput, string) {
			return GetUsersInput{Email: email}, ""
		}, want: "ok", calls: ops{providertest.OpFindByEmail}, events: evs{"AUTHSYSTEM_USER_SEARCH Success", evSubGet}},
		{name: "email, provider down", setup: func(f *fixture) (GetUsersInput, string) {
			f.prov.Fail(providertest.OpFindByEmail, provider.ErrUnavailable)
			return GetUsersInput{Email: email}, ""
		}, want: ErrProviderUnavailable.Error(), calls: ops{providertest.OpFindByEmail}, events: evs{"AUTHSYSTEM_USER_SEARCH Failure"}},
		{name: "email, store down", local: true, setup: func(f *fixture) (GetUsersInput, string) {
			f.store.failOnce("GetByEmail", errDisk)
			return GetUsersInput{Email: email}, ""
		}, want: "failed Get", events: evs{"SUBSCRIBE_USER_GET Failure"}},
		{name: "email, ignoreProvider", setup: func(f *fixture) (GetUsersInput, string) {
			crid := f.linkedUser(email)
			return GetUsersInput{Email: email, IgnoreProvider: true}, crid
		}, want: "ok", events: evs{evSubGet}},
		{name: "page 2 of a single user is empty but counts it", setup: func(f *fixture) (GetUsersInput, string) {
			f.linkedUser(email)
			return GetUsersInput{Email: email, IgnoreProvider: true, PageNumber: 2, PageSize: 1}, ""
		}, want: "ok", events: evs{evSubGet}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t)
			in, crid := tt.setup(f)
			c := f.pc
			if tt.local {
				c = f.lc
			}
			page, err := f.o.GetUsers(f.ctx, c, in)
			if got := outcome(err); got != tt.want {
				t.Fatalf("outcome %q, want %q", got, tt.want)
			}
			f.expectCalls(tt.calls...)
			f.expectEvents(tt.events...)
			if err != nil {
				return
			}
			switch {
			case crid == "" && len(page.Users) != 0:
				t.Errorf("found %+v", page.Users)
			case crid != "" && (len(page.Users) != 1 || page.Users[0].CustomerRegistrationID != crid || page.TotalCount != 1):
				t.Errorf("page %+v, want %s", page, crid)
			}
		})
	}
}

func TestGetUsersByToken(t *testing.T) {
	const email = "jane@example.com"
	tests := []struct {
		name   string
		setup  func(f *fixture) (token, crid string)
		local  bool
		ignore bool
		want   string
		calls  ops
		events evs
	}{
		{name: "a uo_session from Authenticate", setup: func(f *fixture) (string, string) {
			crid := f.linkedUser(email)
			a, err := f.o.Authenticate(f.ctx, f.pc, AuthenticateInput{LoginName: email, Password: pw})
			if err != nil {
				f.t.Fatal(err)
			}
			f.settle()
			return a.CookieTokens[0].Content, crid
		}, want: "ok", calls: ops{providertest.OpGetUser}, events: evs{evAuthGet, evSubGet}},
		{name: "a uo_session issued before the last logout", local: true, setup: func(f *fixture) (string, string) {
			crid := f.localUser(f.lc, email, false)
			tok, _, _ := f.o.Sessions.Issue(localKey, crid, 1, f.clock.Now())
			f.clock.Advance(time.Minute)
			if _, err := f.o.Update(f.ctx, f.lc, crid, UpdateInput{LastLogoutDate: ptr(f.clock.Now())}); err != nil {
				f.t.Fatal(err)
			}
			f.settle()
			return tok, ""
		}, want: ErrInvalidToken.Error(), events: evs{evSubGet}},
		{name: "a uo_session of a user since deleted", setup: func(f *fixture) (string, string) {
			tok, _, _ := f.o.Sessions.Issue(provKey, "auth0|gone", 1, f.clock.Now())
			return tok, ""
		}, ignore: true, want: ErrInvalidToken.Error(), events: evs{evSubGet}},
		{name: "a uo_session issued before a password change made at the provider", setup: func(f *fixture) (string, string) {
			crid := f.linkedUser(email)
			tok, _, _ := f.o.Sessions.Issue(provKey, crid, 1, f.clock.Now())
			f.clock.Advance(10 * time.Minute)
			f.prov.ChangePasswordDirectly(crid, "changed-elsewhere", f.clock.Now())
			return tok, ""
		}, want: ErrInvalidToken.Error(), calls: ops{providertest.OpGetUser}, events: evs{evAuthGet, evSubGet, evSubUpdate}},
		{name: "a uo_session of a user the provider has blocked", setup: func(f *fixture) (string, string) {
			crid := f.linkedUser(email)
			tok, _, _ := f.o.Sessions.Issue(provKey, crid, 1, f.clock.Now())
			f.prov.Block(crid, true)
			return tok, ""
		}, want: ErrInvalidToken.Error(), calls: ops{providertest.OpGetUser}, events: evs{evAuthGet, evSubGet}},
		{name: "a uo_session while the provider is down", setup: func(f *fixture) (string, string) {
			crid := f.linkedUser(email)
			tok, _, _ := f.o.Sessions.Issue(provKey, crid, 1, f.clock.Now())
			f.prov.Fail(providertest.OpGetUser, provider.ErrUnavailable)
			return tok, ""
		}, want: ErrProviderUnavailable.Error(), calls: ops{providertest.OpGetUser}, events: evs{"AUTHSYSTEM_USER_GET Failure"}},
		{name: "the provider's access token", setup: func(f *fixture) (string, string) {
			crid := f.linkedUser(email)
			return f.prov.IssueToken(crid), crid
		}, want: "ok", calls: ops{providertest.OpUserForToken}, events: evs{evAuthGet, evSubGet}},
		{name: "the provider's token of a user Subscribe lacks: copied in", setup: func(f *fixture) (string, string) {
			pu := f.providerUser(email)
			return f.prov.IssueToken(pu.ID), pu.ID
		}, want: "ok", calls: ops{providertest.OpUserForToken}, events: evs{evAuthGet, evSubGet, evSubUpdate}},
		{name: "the provider's token of a blocked user", setup: func(f *fixture) (string, string) {
			crid := f.linkedUser(email)
			f.prov.Block(crid, true)
			return f.prov.IssueToken(crid), ""
		}, want: ErrInvalidToken.Error(), calls: ops{providertest.OpUserForToken}, events: evs{evAuthGet}},
		{name: "a token nobody issued", setup: func(f *fixture) (string, string) { return "forged", "" },
			want: ErrInvalidToken.Error(), calls: ops{providertest.OpUserForToken}, events: evs{"AUTHSYSTEM_USER_GET Failure"}},
		{name: "a token nobody issued, ignoreProvider", ignore: true, setup: func(f *fixture) (string, string) { return "forged", "" },
			want: ErrInvalidToken.Error()},
		{name: "a provider token while the provider is down", setup: func(f *fixture) (string, string) {
			f.prov.Fail(providertest.OpUserForToken, provider.ErrUnavailable)
			return "whatever", ""
		}, want: ErrProviderUnavailable.Error(), calls: ops{providertest.OpUserForToken}, events: evs{"AUTHSYSTEM_USER_GET Failure"}},
		{name: "a provider token, the store down", setup: func(f *fixture) (string, string) {
			crid := f.linkedUser(email)
			f.store.failOnce("Get", errDisk)
			return f.prov.IssueToken(crid), ""
		}, want: "failed Get", calls: ops{providertest.OpUserForToken}, events: evs{evAuthGet, "SUBSCRIBE_USER_GET Failure"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t)
			tok, crid := tt.setup(f)
			c := f.pc
			if tt.local {
				c = f.lc
			}
			page, err := f.o.GetUsers(f.ctx, c, GetUsersInput{Token: tok, IgnoreProvider: tt.ignore})
			if got := outcome(err); got != tt.want {
				t.Fatalf("outcome %q, want %q", got, tt.want)
			}
			f.expectCalls(tt.calls...)
			f.expectEvents(tt.events...)
			if crid != "" && (len(page.Users) != 1 || page.Users[0].CustomerRegistrationID != crid) {
				t.Errorf("page %+v, want %s", page, crid)
			}
		})
	}
}

func TestSearch(t *testing.T) {
	f := newFixture(t)
	// Subscribe: one linked user, one Subscribe-only; the provider also has one Subscribe lacks.
	linked := f.linkedUser("ann@example.com")
	only := f.localUser(f.pc, "bob@example.com", true)
	pu := f.prov.Add(provider.User{Email: "jan@example.com", FirstName: "Jane", EmailVerified: true}, pw)
	f.settle()

	page, err := f.o.GetUsers(f.ctx, f.pc, GetUsersInput{FirstName: "Ja", PageSize: 10})
	if err != nil {
		t.Fatal(err)
	}
	f.expectCalls(providertest.OpSearch)
	f.expectEvents("AUTHSYSTEM_USER_SEARCH Success", evSubUpdate, evSubGet)
	ids := map[string]bool{}
	for _, u := range page.Users {
		ids[u.CustomerRegistrationID] = true
	}
	// "Jane" of the provider was copied in; the linked user is Jane too (linkedUser names her so).
	if !ids[pu.ID] || !ids[linked] || ids[only] || page.TotalCount != 2 {
		t.Errorf("page %+v", page)
	}
	if !f.hasReg(provKey, pu.ID) {
		t.Error("the provider's user was not copied in")
	}

	// Searching again copies nothing: the provider is asked, Subscribe has them all.
	if _, err := f.o.GetUsers(f.ctx, f.pc, GetUsersInput{FirstName: "Ja", PageSize: 10}); err != nil {
		t.Fatal(err)
	}
	f.expectCalls(providertest.OpSearch)
	f.expectEvents("AUTHSYSTEM_USER_SEARCH Success", evSubGet)

	// By id: the provider is read by id, Subscribe searched.
	if page, err := f.o.GetUsers(f.ctx, f.pc, GetUsersInput{CustomerRegistrationID: linked, Verified: ptr(true)}); err != nil || page.TotalCount != 1 {
		t.Errorf("by id: %+v, %v", page, err)
	}
	f.expectCalls(providertest.OpGetUser)
	f.expectEvents("AUTHSYSTEM_USER_SEARCH Success", evSubGet, evSubGet)
	if page, err := f.o.GetUsers(f.ctx, f.pc, GetUsersInput{CustomerRegistrationID: "auth0|nobody", Verified: ptr(true)}); err != nil || page.TotalCount != 0 {
		t.Errorf("unknown id: %+v, %v", page, err)
	}
	f.settle()

	// Without name, id or email filters the provider is not searched.
	if page, err := f.o.GetUsers(f.ctx, f.pc, GetUsersInput{Verified: ptr(true), PageSize: 10}); err != nil || page.TotalCount != 3 {
		t.Errorf("verified: %+v, %v", page, err)
	}
	f.expectCalls()
	f.expectEvents(evSubGet)

	// Provider down: E503 and Subscribe not searched.
	f.prov.Fail(providertest.OpSearch, provider.ErrUnavailable)
	if _, err := f.o.GetUsers(f.ctx, f.pc, GetUsersInput{LastName: "Doe"}); outcome(err) != ErrProviderUnavailable.Error() {
		t.Errorf("provider down: %v", err)
	}
	f.expectEvents("AUTHSYSTEM_USER_SEARCH Failure")
	f.prov.Heal()

	// Store down.
	f.store.failOnce("Search", errDisk)
	if _, err := f.o.GetUsers(f.ctx, f.pc, GetUsersInput{LastName: "Doe", IgnoreProvider: true}); outcome(err) != "failed Get" {
		t.Errorf("store down: %v", err)
	}
	f.store.failOnce("Get", errDisk)
	if _, err := f.o.GetUsers(f.ctx, f.pc, GetUsersInput{FirstName: "Ja"}); outcome(err) != "failed Get" {
		t.Errorf("store down checking a provider user: %v", err)
	}
}

func TestSearchByState(t *testing.T) {
	f := newFixture(t)
	standard := f.localUser(f.lc, "std@example.com", false)
	lite, err := f.o.Create(f.ctx, f.lc, CreateInput{Email: "lite@example.com"})
	if err != nil {
		t.Fatal(err)
	}
	unverified, err := f.o.SendVerificationCode(f.ctx, f.lc, "new@example.com", "")
	if err != nil {
		t.Fatal(err)
	}
	f.linkedUser("prov@example.com")
	tests := []struct {
		name  string
		c     Call
		in    GetUsersInput
		wants []string
	}{
		{"Standard", f.lc, GetUsersInput{State: StateStandard}, []string{standard}},
		{"Lite", f.lc, GetUsersInput{State: StateLite}, []string{lite.CustomerRegistrationID}},
		{"Unverified", f.lc, GetUsersInput{State: StateUnverified}, []string{unverified.CustomerRegistrationID}},
		{"Unverified and verified cannot both hold", f.lc, GetUsersInput{State: StateUnverified, Verified: ptr(true)}, nil},
		{"provider tenant: every user is Standard", f.pc, GetUsersInput{State: StateStandard, IgnoreProvider: true}, []string{"auth0|000001"}},
		{"provider tenant: nobody is Lite", f.pc, GetUsersInput{State: StateLite, IgnoreProvider: true}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.in.PageSize = 10
			tt.in.OrderBy = OrderByEmail
			page, err := f.o.GetUsers(f.ctx, tt.c, tt.in)
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, u := range page.Users {
				got = append(got, u.CustomerRegistrationID)
			}
			if len(got) != len(tt.wants) || (len(got) > 0 && got[0] != tt.wants[0]) {
				t.Errorf("found %v, want %v", got, tt.wants)
			}
		})
	}
}

func TestSearchOrder(t *testing.T) {
	f := newFixture(t)
	for _, u := range []struct{ email, first string }{{"a@example.com", "Zoe"}, {"b@example.com", "Adam"}} {
		if _, err := f.o.Create(f.ctx, f.lc, CreateInput{Email: u.email, Password: pw, FirstName: ptr(u.first)}); err != nil {
			t.Fatal(err)
		}
		f.clock.Advance(time.Second)
	}
	for _, tt := range []struct {
		by    OrderField
		desc  bool
		first string
	}{
		{OrderByEmail, false, "a@example.com"}, {OrderByEmail, true, "b@example.com"},
		{OrderByFirstName, false, "b@example.com"}, {OrderByAddDate, true, "b@example.com"},
		{OrderByChangeDate, false, "a@example.com"}, {"", false, "a@example.com"},
	} {
		page, err := f.o.GetUsers(f.ctx, f.lc, GetUsersInput{Verified: ptr(true), OrderBy: tt.by, Descending: tt.desc, PageSize: 10})
		if err != nil || len(page.Users) != 2 || page.Users[0].Email != tt.first {
			t.Errorf("by %q desc %v: %+v, %v", tt.by, tt.desc, page.Users, err)
		}
	}
	// Every field has its column, under the same name.
	for _, by := range []OrderField{OrderByID, OrderByEmail, OrderByFirstName, OrderByLastName, OrderByAddDate, OrderByChangeDate} {
		if string(orderColumns[by]) != string(by) {
			t.Errorf("%s sorts by %q", by, orderColumns[by])
		}
	}
}

// TestSearchImportsThePagesBeforeTheOneAskedFor: a later page of a provider search needs every
// provider user before it in Subscribe, beyond the 100 a single page can hold (the adapters
// read the provider page by page, bounded by maxImported).
func TestSearchImportsThePagesBeforeTheOneAskedFor(t *testing.T) {
	f := newFixture(t)
	for i := range 150 {
		f.prov.Add(provider.User{Email: fmt.Sprintf("doe%03d@example.com", i), LastName: "Doe", EmailVerified: true}, pw)
	}
	f.settle()
	page, err := f.o.GetUsers(f.ctx, f.pc, GetUsersInput{LastName: "Doe", PageSize: 100, PageNumber: 2})
	if err != nil {
		t.Fatal(err)
	}
	if len(page.Users) != 50 || page.TotalCount != 150 {
		t.Errorf("page 2 holds %d of %d users, want the last 50 of 150", len(page.Users), page.TotalCount)
	}
}

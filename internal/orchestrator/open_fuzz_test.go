package orchestrator

import (
	"bytes"
	"regexp"
	"testing"

	"usersorchestrator/internal/secrets"
	"usersorchestrator/internal/tenant"
)

// openPurposes are the purposes the workflows open sealed values for.
var openPurposes = []string{purposeID, purposeEmail, purposeForgotPassword, purposeVerifyCode}

// tenantCodePattern is the contract's TenantCode: the only tenant codes a request can select.
var tenantCodePattern = regexp.MustCompile(`^[A-Za-z0-9_-]{1,32}$`)

// FuzzOpenSealed fuzzes the decoder of the encrypted values a client sends back
// (encryptedCustomerRegistrationId, encryptedEmail, encryptedEventId) at the level where the
// orchestrator adds its own rules to the cipher's: the value is bound to the tenant and must not
// be empty. internal/secrets FuzzOpen covers the cipher alone; the exported paths (GetUsers,
// CreateUser, the ForgotPassword steps) need a store and add nothing to the decoding, so the
// target calls open directly.
//
// Properties: open never panics and refuses with ErrInvalidEncrypted and nothing else; what it
// accepts is a non-empty value that seal spells exactly as sent; a value sealed for one tenant or
// purpose never opens for another; every non-empty value round-trips.
func FuzzOpenSealed(f *testing.F) {
	sealer, err := secrets.NewSealer(bytes.Repeat([]byte{0x5a}, 32))
	if err != nil {
		f.Fatal(err)
	}
	o := &Orchestrator{Deps: Deps{Sealer: sealer}}
	home := Call{Tenant: &tenant.Tenant{Key: tenant.Key{ClientCode: "demo", PaperCode: "demo", ClientGroupCode: "demo"}}}
	f.Add(uint8(0), "3f6f8b1e-2c4d-4f3a-9d7e-1a2b3c4d5e6f", o.seal(home, purposeID, "3f6f8b1e-2c4d-4f3a-9d7e-1a2b3c4d5e6f"), "other")
	f.Add(uint8(1), "jane.doe@example.com", o.seal(home, purposeEmail, "jane.doe@example.com"), "demo2")
	f.Add(uint8(2), "17.secret", o.seal(home, purposeForgotPassword, "17.secret"), "demo")
	f.Add(uint8(0), "", o.seal(home, purposeID, ""), "d")
	f.Add(uint8(0), "x", sealer.Seal(purposeID, []byte("demo/demo/demo")), "other")
	f.Add(uint8(0), "x", sealer.Seal(purposeID, []byte("demo/demo/demox\x00x")), "demox")
	f.Fuzz(func(t *testing.T, purposeIndex uint8, value, sealed, otherCode string) {
		// The values the service seals are ids, emails and event ids, far under 1 KiB; longer ones
		// only slow the fuzzer down (Open refuses anything over 8 KiB before decoding).
		if len(value) > 1024 || len(sealed) > 10<<10 {
			return
		}
		purpose := openPurposes[int(purposeIndex)%len(openPurposes)]
		otherPurpose := openPurposes[(int(purposeIndex)+1)%len(openPurposes)]
		// Another tenant a request could select: a valid TenantCode that differs from home's.
		if !tenantCodePattern.MatchString(otherCode) || otherCode == "demo" {
			otherCode = "other"
		}
		away := Call{Tenant: &tenant.Tenant{Key: tenant.Key{ClientCode: "demo", PaperCode: "demo", ClientGroupCode: otherCode}}}

		// What a client sent.
		got, err := o.open(home, purpose, sealed)
		switch {
		case err != nil && err != ErrInvalidEncrypted:
			t.Fatalf("open(%q) error %v, want ErrInvalidEncrypted", sealed, err)
		case err != nil && got != "":
			t.Fatalf("open(%q) answered %q with an error", sealed, got)
		case err == nil && got == "":
			t.Fatalf("open(%q) accepted an empty value", sealed)
		case err == nil && o.seal(home, purpose, got) != sealed:
			t.Fatalf("open(%q) = %q, but seal spells it %q", sealed, got, o.seal(home, purpose, got))
		case err == nil:
			if v, err := o.open(away, purpose, sealed); err == nil {
				t.Fatalf("%q opened for tenant %s as %q too", sealed, away.Tenant.Key, v)
			}
			if v, err := o.open(home, otherPurpose, sealed); err == nil {
				t.Fatalf("%q opened for purpose %s as %q too", sealed, otherPurpose, v)
			}
		}

		// What the service hands out.
		mine := o.seal(home, purpose, value)
		got, err = o.open(home, purpose, mine)
		switch {
		case value == "" && err == nil:
			t.Fatalf("a sealed empty value opened as %q", got)
		case value != "" && (err != nil || got != value):
			t.Fatalf("seal then open %q = %q, %v", value, got, err)
		}
		if v, err := o.open(away, purpose, mine); err == nil {
			t.Fatalf("%q sealed for %s opened for %s as %q", value, home.Tenant.Key, away.Tenant.Key, v)
		}
		if v, err := o.open(home, otherPurpose, mine); err == nil {
			t.Fatalf("%q sealed for %s opened for %s as %q", value, purpose, otherPurpose, v)
		}
	})
}

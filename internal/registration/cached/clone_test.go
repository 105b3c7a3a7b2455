package cached

import (
	"reflect"
	"slices"
	"testing"
	"time"

	"usersorchestrator/internal/registration"
	"usersorchestrator/internal/tenant"
)

// clone must copy every field that refers to memory a caller could change. A field of such a kind
// added to Registration fails this test until clone copies it and it is listed here.
func TestCloneCoversEveryReferenceField(t *testing.T) {
	cloned := []string{"FirstName", "LastName", "Metadata", "LastLogoutDate", "PasswordChangedAt"}
	typ := reflect.TypeFor[registration.Registration]()
	var refs []string
	for f := range typ.Fields() {
		switch f.Type.Kind() {
		case reflect.Pointer, reflect.Map, reflect.Slice, reflect.Interface, reflect.Chan, reflect.Func, reflect.UnsafePointer:
			refs = append(refs, f.Name)
		case reflect.Struct:
			// time.Time holds a *Location, which is never changed; tenant.Key is strings.
			if f.Type != reflect.TypeFor[time.Time]() && f.Type != reflect.TypeFor[tenant.Key]() {
				t.Errorf("field %s is a struct (%s) that clone does not know", f.Name, f.Type)
			}
		}
	}
	slices.Sort(refs)
	slices.Sort(cloned)
	if !slices.Equal(refs, cloned) {
		t.Fatalf("reference fields of Registration %v, clone copies %v", refs, cloned)
	}
}

func TestCloneSharesNothing(t *testing.T) {
	first, last, at := "Ada", "Lovelace", time.Date(2025, 1, 2, 3, 4, 5, 0, time.UTC)
	changed := at.Add(time.Hour)
	r := registration.Registration{FirstName: &first, LastName: &last, LastLogoutDate: &at, PasswordChangedAt: &changed, Metadata: map[string]string{"k": "v"}}
	c := clone(r)
	if !reflect.DeepEqual(c, r) {
		t.Fatalf("clone %+v differs from %+v", c, r)
	}
	if c.FirstName == r.FirstName || c.LastName == r.LastName || c.LastLogoutDate == r.LastLogoutDate || c.PasswordChangedAt == r.PasswordChangedAt {
		t.Fatal("clone shares a pointer with the original")
	}
	c.Metadata["k"] = "changed"
	if r.Metadata["k"] != "v" {
		t.Fatal("clone shares the metadata map with the original")
	}
	if got := clone(registration.Registration{}); got.Metadata != nil {
		t.Fatalf("clone of nil metadata is %#v, want nil (the store's nil and empty are both nil)", got.Metadata)
	}
}

package events_test

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"

	usersorchestrator "usersorchestrator"
	"usersorchestrator/internal/events"
)

func rows(t *testing.T, v any, where string) []map[string]any {
	t.Helper()
	list, ok := v.([]any)
	if !ok {
		t.Fatalf("%s is %T, not a list", where, v)
	}
	out := make([]map[string]any, 0, len(list))
	for i, r := range list {
		m, ok := r.(map[string]any)
		if !ok {
			t.Fatalf("%s[%d] is %T", where, i, r)
		}
		out = append(out, m)
	}
	return out
}

func published(row map[string]any) bool {
	p, ok := row["x-published"].(bool)
	return !ok || p
}

func TestCatalogueMatchesContract(t *testing.T) {
	doc, err := openapi3.NewLoader().LoadFromData(usersorchestrator.OpenAPI)
	if err != nil {
		t.Fatal(err)
	}
	schema := doc.Components.Schemas["EventTypeCode"].Value
	enum := map[string]bool{}
	for _, v := range schema.Enum {
		enum[fmt.Sprint(v)] = true
	}
	table := map[string]events.Type{}
	for _, r := range rows(t, schema.Extensions["x-event-ids"], "x-event-ids") {
		id, _ := strconv.Atoi(fmt.Sprint(r["id"]))
		table[fmt.Sprint(r["code"])] = events.Type{Code: fmt.Sprint(r["code"]), ID: id, Published: published(r)}
	}
	for _, e := range events.All() {
		if table[e.Code] != e {
			t.Errorf("%s: catalogue %+v, openapi.yaml x-event-ids %+v", e.Code, e, table[e.Code])
		}
		if !enum[e.Code] {
			t.Errorf("%s is not in the EventTypeCode enum", e.Code)
		}
	}
	if len(table) != len(events.All()) || len(enum) != len(events.All()) {
		t.Errorf("openapi.yaml lists %d ids and %d codes, the catalogue %d types", len(table), len(enum), len(events.All()))
	}

	// Every operation's x-events names catalogued types with their ids.
	for path, item := range doc.Paths.Map() {
		for method, op := range item.Operations() {
			for _, r := range rows(t, op.Extensions["x-events"], method+" "+path+" x-events") {
				e, ok := events.ByCode(fmt.Sprint(r["code"]))
				id, _ := strconv.Atoi(fmt.Sprint(r["id"]))
				if !ok || e.ID != id || e.Published != published(r) {
					t.Errorf("%s %s x-events %v does not match the catalogue (%+v)", method, path, r, e)
				}
			}
		}
	}
}

// Retention keeps reads for less time than changes: every type is one or the other, and the
// reads are exactly the types of calls that only look a user up.
func TestReadsAndChangesPartitionAll(t *testing.T) {
	seen := map[string]string{}
	for _, group := range []struct {
		name  string
		types []events.Type
	}{{"reads", events.Reads()}, {"changes", events.Changes()}} {
		for _, ty := range group.types {
			if prev, ok := seen[ty.Code]; ok {
				t.Errorf("%s is in both %s and %s", ty.Code, prev, group.name)
			}
			seen[ty.Code] = group.name
			isLookup := strings.HasSuffix(ty.Code, "_GET") || strings.HasSuffix(ty.Code, "_GETBYID") || strings.HasSuffix(ty.Code, "_SEARCH")
			if isLookup != (group.name == "reads") {
				t.Errorf("%s is among the %s", ty.Code, group.name)
			}
		}
	}
	for _, ty := range events.All() {
		if _, ok := seen[ty.Code]; !ok {
			t.Errorf("%s is neither a read nor a change: retention would never prune it", ty.Code)
		}
	}
	if got, want := events.Codes(events.Reads()), []string{"SUBSCRIBE_USER_GET", "SUBSCRIBE_USER_GETBYID",
		"AUTHSYSTEM_USER_GET", "AUTHSYSTEM_USER_GETBYID", "AUTHSYSTEM_USER_SEARCH"}; !slices.Equal(got, want) {
		t.Errorf("read codes %v, want %v", got, want)
	}
}

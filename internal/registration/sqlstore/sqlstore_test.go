package sqlstore

import (
	"testing"
	"time"

	"usersorchestrator/internal/tenant"
)

func TestDollar(t *testing.T) {
	tests := []struct{ in, want string }{
		{"SELECT 1", "SELECT 1"},
		{"a = ?", "a = $1"},
		{"a = ? AND b LIKE ? ESCAPE '\\' LIMIT ? OFFSET ?", "a = $1 AND b LIKE $2 ESCAPE '\\' LIMIT $3 OFFSET $4"},
		{"(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", "($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)"},
		{"é = ?", "é = $1"},
	}
	for _, tc := range tests {
		if got := Dollar(tc.in); got != tc.want {
			t.Errorf("Dollar(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

func TestEscapeLike(t *testing.T) {
	tests := []struct{ in, want string }{
		{"anna", "anna"},
		{"50%", `50\%`},
		{"a_b", `a\_b`},
		{`c:\x`, `c:\\x`},
		{`\%_`, `\\\%\_`},
	}
	for _, tc := range tests {
		if got := escapeLike(tc.in); got != tc.want {
			t.Errorf("escapeLike(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

func TestTenantColumn(t *testing.T) {
	for _, k := range []tenant.Key{
		{ClientCode: "C", PaperCode: "P", ClientGroupCode: "G"},
		{},
		{ClientCode: "C", ClientGroupCode: "G"},
	} {
		s, err := encodeTenant(k)
		if err != nil {
			t.Fatalf("encode %+v: %v", k, err)
		}
		got, err := decodeTenant(s)
		if err != nil || got != k {
			t.Fatalf("decode(encode(%+v)) = %+v, %v", k, got, err)
		}
	}
	if _, err := encodeTenant(tenant.Key{ClientCode: "C", PaperCode: "P/X", ClientGroupCode: "G"}); err == nil {
		t.Fatal("a key part with '/' was accepted")
	}
	if _, err := decodeTenant("C/P"); err == nil {
		t.Fatal("a stored tenant of two parts was accepted")
	}
}

func TestTimeColumn(t *testing.T) {
	want := time.Date(2025, 1, 2, 3, 4, 5, 6000, time.UTC)
	var got time.Time
	for _, v := range []any{"2025-01-02T03:04:05.000006Z", []byte("2025-01-02T03:04:05.000006Z"), time.Date(2025, 1, 2, 8, 34, 5, 6789, time.FixedZone("IST", 5*3600+1800))} {
		got = time.Time{}
		if err := scanTime(&got).Scan(v); err != nil {
			t.Fatalf("scan %v: %v", v, err)
		}
		if got != want {
			t.Fatalf("scan %v = %v, want %v (UTC, microseconds)", v, got, want)
		}
	}
	if err := scanTime(&got).Scan(nil); err == nil {
		t.Fatal("NULL scanned into a NOT NULL time")
	}
	p := &want
	if err := scanNullTime(&p).Scan(nil); err != nil || p != nil {
		t.Fatalf("NULL into a nullable time: %v, %v", p, err)
	}
	if s := TextTime(want); s != "2025-01-02T03:04:05.000006Z" {
		t.Fatalf("TextTime = %q", s)
	}
}

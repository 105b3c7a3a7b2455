package main

import "testing"

func TestGCSettings(t *testing.T) {
	const mib = 1 << 20
	// 19 MiB per argon2id hash in flight (password.DefaultParams), twice per slot, plus 64 MiB.
	cases := []struct {
		name        string
		env         map[string]string
		slots       int
		wantPercent int
		wantLimit   int64
	}{
		{"defaults on 2 CPUs", nil, 4, 400, (64 + 2*4*19) * mib},
		{"defaults on 16 CPUs", nil, 32, 400, (64 + 2*32*19) * mib},
		{"GOGC wins", map[string]string{"GOGC": "100"}, 4, -1, (64 + 2*4*19) * mib},
		{"GOGC=off wins", map[string]string{"GOGC": "off"}, 4, -1, (64 + 2*4*19) * mib},
		{"GOMEMLIMIT wins", map[string]string{"GOMEMLIMIT": "1GiB"}, 4, 400, -1},
		{"both win", map[string]string{"GOGC": "50", "GOMEMLIMIT": "1GiB"}, 4, -1, -1},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			percent, limit := gcSettings(func(k string) string { return c.env[k] }, c.slots)
			if percent != c.wantPercent || limit != c.wantLimit {
				t.Errorf("gcSettings = %d, %d MiB; want %d, %d MiB", percent, limit/mib, c.wantPercent, c.wantLimit/mib)
			}
		})
	}
}

//go:build e2e

package e2e

import (
	"sync"
	"testing"

	"usersorchestrator/internal/codes"
)

// Concurrent reads of a user whose provider data changed all bring Subscribe in step at once:
// the loser of the race to write the synced row answers the winner's row, not an error.
func TestConcurrentReadsSyncOnce(t *testing.T) {
	runCases(t, []opCase{
		{name: "eight reads race to copy the provider's new name", op: "", run: func(t *testing.T, env *Env, p *Provider) {
			u := env.providerUser()
			changed := u
			changed.First = "Janet"
			p.stubAnswer(t, pGet, u.ID, &changed)
			const readers = 8
			var wg sync.WaitGroup
			replies := make(chan Reply, readers)
			for range readers {
				wg.Add(1)
				go func() {
					defer wg.Done()
					replies <- env.do("GET", userPath(u.ID), nil)
				}()
			}
			wg.Wait()
			close(replies)
			for r := range replies {
				expectCode(t, r, codes.S200_01)
			}
			if reg, ok := env.reg(u.ID); !ok || reg.FirstName == nil || *reg.FirstName != "Janet" {
				t.Errorf("Subscribe was not brought in step: %+v", reg)
			}
		}},
	})
}

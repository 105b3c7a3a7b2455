// Package fakeclock is a clock for tests that stands still until the test moves it. It is safe
// for concurrent use, since the code under test reads it from its own goroutines.
package fakeclock

import (
	"sync"
	"time"
)

// Clock is a settable time; pass its Now where the code takes a func() time.Time.
type Clock struct {
	mu  sync.Mutex
	now time.Time
}

// New starts a clock at t.
func New(t time.Time) *Clock { return &Clock{now: t} }

// Now is the clock's time.
func (c *Clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

// Advance moves the clock by d.
func (c *Clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

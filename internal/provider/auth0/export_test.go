package auth0

import "time"

// SetClock replaces the clock the token cache and id_token expiry read, so tests can move time
// forward instead of sleeping.
func SetClock(c *Client, now func() time.Time) { c.now = now }

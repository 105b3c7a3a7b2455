package cached

// Len is how many registrations the cache holds under ids and under emails (the tests of the
// eviction bound read it; the two must always be equal).
func (s *Store) Len() (ids, emails int) {
	s.c.mu.Lock()
	defer s.c.mu.Unlock()
	return len(s.c.byID), len(s.c.byEmail)
}

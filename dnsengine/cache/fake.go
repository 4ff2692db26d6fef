package cache

import (
	"sync"
	"sync/atomic"
	"time"
)

// FakeClock is a Clock for tests: it stands still until advanced. The zero
// value reads 2026-01-01T00:00:00Z.
type FakeClock struct {
	ns atomic.Int64
}

// Now returns the fake time.
func (c *FakeClock) Now() time.Time {
	return time.Unix(1767225600, 0).UTC().Add(time.Duration(c.ns.Load()))
}

// Advance moves the fake time forward by d.
func (c *FakeClock) Advance(d time.Duration) { c.ns.Add(int64(d)) }

// FakeRefresher is a Refresher for tests: it records the requests it is
// given (up to Cap of them when Cap > 0; then it refuses, as a full queue).
type FakeRefresher struct {
	Cap  int
	mu   sync.Mutex
	reqs []RefreshRequest
}

// Refresh records req.
func (f *FakeRefresher) Refresh(req RefreshRequest) bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.Cap > 0 && len(f.reqs) >= f.Cap {
		return false
	}
	f.reqs = append(f.reqs, req)
	return true
}

// Requests returns the requests recorded so far and forgets them.
func (f *FakeRefresher) Requests() []RefreshRequest {
	f.mu.Lock()
	defer f.mu.Unlock()
	r := f.reqs
	f.reqs = nil
	return r
}

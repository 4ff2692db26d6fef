package kube

import "time"

// coalescer decides when a burst of changes is sent as one update: Debounce
// after the last change, but no later than MaxDelay after the first.
type coalescer struct {
	debounce, maxDelay time.Duration
	pending            bool
	first              time.Time
}

// changed records a change at now and returns when the update is due.
func (c *coalescer) changed(now time.Time) time.Time {
	if !c.pending {
		c.pending = true
		c.first = now
	}
	due := now.Add(c.debounce)
	if limit := c.first.Add(c.maxDelay); due.After(limit) {
		due = limit
	}
	return due
}

// sent records that the pending changes went out in an update.
func (c *coalescer) sent() { c.pending = false }

package nfq

import (
	"sync"
	"time"
)

// windowsPerSecond: Config.MaxRate is enforced per window of a tenth of a
// second.
const windowsPerSecond = 10

const window = time.Second / windowsPerSecond

// rateLimit is one queue's Config.MaxRate. count runs on the queue's
// reading goroutine; the pause ends on a timer's.
type rateLimit struct {
	w         *worker
	perWindow uint32
	start     time.Time // of the current window
	n         uint32    // packets delivered in it

	mu      sync.Mutex
	paused  bool // the queue's length is 0 until the window ends
	stopped bool // the consumer is stopping: the length stays 0
}

// count counts one packet; the first past the window's share pauses the
// queue until the window ends.
func (r *rateLimit) count() {
	now := time.Now()
	if now.Sub(r.start) >= window {
		r.start, r.n = now, 0
	}
	if r.n++; r.n != r.perWindow+1 {
		return
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.paused || r.stopped {
		return
	}
	c := r.w.c
	if err := r.w.src.SetQueueLen(0); err != nil {
		c.log.Warn("rate limit not applied", "queue", r.w.queue, "err", err)
		return
	}
	r.paused = true
	if n := c.counters.RateLimited.Add(1); n&(n-1) == 0 {
		c.log.Warn("queue over its rate: new packets pass on to the nameserver for the rest of the window",
			"queue", r.w.queue, "max_rate", c.cfg.MaxRate, "count", n)
	}
	time.AfterFunc(window-now.Sub(r.start), r.resume)
}

// resume restores the queue's length, unless the consumer is stopping.
func (r *rateLimit) resume() {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.paused = false
	if r.stopped {
		return
	}
	if err := r.w.src.SetQueueLen(r.w.c.cfg.MaxQueueLen); err != nil {
		r.w.c.log.Warn("queue length not restored after a rate-limit pause", "queue", r.w.queue, "err", err)
	}
}

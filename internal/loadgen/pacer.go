package loadgen

import (
	"context"
	"runtime"
	"time"

	"golang.org/x/sys/unix"
)

// maxSleep is the longest the pacer sleeps before it checks ctx again.
const maxSleep = 10 * time.Millisecond

// pace calls fire(i, due) for i in [0, n) at due = start + i/rate, on one
// locked OS thread. When it is behind it fires every due event at once
// (never skipping one: the schedule does not bend to the server). It
// returns how late each event fired, in nanoseconds, and when the schedule
// started (the first event's due). A cancelled ctx stops it early; the
// events not fired are not counted.
func pace(ctx context.Context, rate float64, n int, fire func(i int, due time.Time)) (lags []int64, start time.Time) {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	// Let nanosleep wake within a microsecond of the deadline; the default
	// 50 µs slack would shape the schedule. 0 restores the default before
	// the thread goes back to the scheduler.
	_ = unix.Prctl(unix.PR_SET_TIMERSLACK, 1, 0, 0, 0)
	defer unix.Prctl(unix.PR_SET_TIMERSLACK, 0, 0, 0, 0) //nolint:errcheck // best effort

	interval := time.Duration(float64(time.Second) / rate)
	lags = make([]int64, 0, n)
	start = time.Now()
	for i := 0; i < n; {
		if i&63 == 0 && ctx.Err() != nil {
			break
		}
		now := time.Now()
		due := start.Add(time.Duration(i) * interval)
		if d := due.Sub(now); d > 0 {
			if ctx.Err() != nil {
				break
			}
			// At most maxSleep at a time, so that a cancel is seen soon
			// at low rates too.
			ts := unix.NsecToTimespec(int64(min(d, maxSleep)))
			_ = unix.Nanosleep(&ts, nil)
			continue
		}
		for i < n {
			due = start.Add(time.Duration(i) * interval)
			if due.After(now) {
				break
			}
			fire(i, due)
			lags = append(lags, int64(time.Since(due)))
			i++
		}
	}
	return lags, start
}

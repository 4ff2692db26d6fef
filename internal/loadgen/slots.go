package loadgen

import (
	"context"
	"encoding/binary"
	"sync"
	"sync/atomic"
	"time"
)

// slot tracks one outstanding query ID on one socket or connection.
type slot struct {
	// due is the scheduled send time (Unix ns, CLOCK_REALTIME like the
	// kernel's receive timestamps); 0 means free.
	due atomic.Int64
	// sent is when the query was actually written (Unix ns).
	sent atomic.Int64
	// q is the index of the query template.
	q atomic.Int32
}

// idTable holds the 65536 query IDs of one FixedRate socket or TCPPipe
// connection; queries take them in schedule order.
type idTable struct {
	nextID uint16
	slots  [65536]slot
}

// arm gives the next ID to a query of template q due at due, about to be
// sent. wrapped reports that the ID's previous query was still unanswered
// (it is lost); otherwise the query counts as outstanding.
func (t *idTable) arm(q int, due time.Time, outstanding *atomic.Int64) (id uint16, wrapped bool) {
	id = t.nextID
	t.nextID++
	sl := &t.slots[id]
	wrapped = sl.due.Swap(due.UnixNano()) != 0
	if !wrapped {
		outstanding.Add(1)
	}
	sl.q.Store(int32(q))
	sl.sent.Store(time.Now().UnixNano())
	return id, wrapped
}

// take matches reply msg to the outstanding query of its ID and frees the
// slot; it returns the reply and when the query was due and sent (Unix
// ns). ok is false for a message that answers no outstanding query (not a
// reply to that ID's template, a duplicate, or one already counted lost).
func (t *idTable) take(msg []byte, templates [][]byte, outstanding *atomic.Int64) (r Reply, due, sent int64, ok bool) {
	if len(msg) < headerLen {
		return Reply{}, 0, 0, false
	}
	id := binary.BigEndian.Uint16(msg)
	sl := &t.slots[id]
	var hdr [2]byte
	binary.BigEndian.PutUint16(hdr[:], id)
	r, err := parseWithID(msg, templates[sl.q.Load()], hdr)
	if err != nil {
		return Reply{}, 0, 0, false
	}
	sent = sl.sent.Load()
	if due = sl.due.Swap(0); due == 0 {
		return Reply{}, 0, 0, false
	}
	outstanding.Add(-1)
	return r, due, sent, true
}

// receivers are the goroutines that read the answers of FixedRate's
// sockets or TCPPipe's connections, one each.
type receivers struct {
	stop        atomic.Bool
	outstanding atomic.Int64 // queries sent and not answered yet
	wg          sync.WaitGroup
}

// start runs receive(i) for i in [0, n), each in its own goroutine.
func (r *receivers) start(n int, receive func(i int)) {
	for i := range n {
		r.wg.Add(1)
		go func() {
			defer r.wg.Done()
			receive(i)
		}()
	}
}

// finish waits until every query is answered or the last one's timeout
// has passed (or ctx is done), then stops the receivers and waits for
// them.
func (r *receivers) finish(ctx context.Context, timeout time.Duration) {
	deadline := time.Now().Add(timeout)
	for r.outstanding.Load() > 0 && time.Now().Before(deadline) && ctx.Err() == nil {
		time.Sleep(5 * time.Millisecond)
	}
	r.stop.Store(true)
	r.wg.Wait()
}

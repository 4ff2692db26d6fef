package cache

import (
	"encoding/binary"
	"hash/maphash"
	"sync"

	"github.com/meshdns/meshdns/dnsengine/wire"
)

// pendingQuery is a query passed to the upstream whose response may be
// learned: who asked (address, port, ID), whom, and what.
type pendingQuery struct {
	used    bool
	alen    uint8 // 4 or 16
	do, cd  bool
	port    uint16 // the client's port
	id      uint16
	qtype   uint16
	qclass  uint16
	nameLen uint16
	at      int64 // cache clock nanoseconds
	client  [16]byte
	server  [16]byte
	name    [wire.MaxNameLen]byte // lowercase wire name
}

const (
	pendingWays  = 4  // entries per set
	pendingLocks = 64 // lock stripes
)

// pendingTable is the fixed-size table of pending queries: a set-associative
// array indexed by (client address, client port, DNS ID), 4 ways per set,
// the oldest way overwritten when a set is full; a way is one query to one
// nameserver. Sets are guarded by striped mutexes held for a few hundred
// bytes of copying.
type pendingTable struct {
	seed  maphash.Seed
	sets  [][pendingWays]pendingQuery
	locks [pendingLocks]struct {
		sync.Mutex
		_ [56]byte
	}
}

func newPendingTable(n int, seed maphash.Seed) *pendingTable {
	nsets := 1
	for nsets*pendingWays < n {
		nsets <<= 1
	}
	return &pendingTable{seed: seed, sets: make([][pendingWays]pendingQuery, nsets)}
}

func (o *pendingTable) set(client []byte, port, id uint16) (int, *sync.Mutex) {
	var k [20]byte
	n := copy(k[:], client)
	binary.BigEndian.PutUint16(k[n:], port)
	binary.BigEndian.PutUint16(k[n+2:], id)
	i := int(maphash.Bytes(o.seed, k[:n+4]) & uint64(len(o.sets)-1))
	return i, &o.locks[i%pendingLocks].Mutex
}

func (p *pendingQuery) is(client []byte, port, id uint16) bool {
	return p.used && p.port == port && p.id == id && int(p.alen) == len(client) && string(p.client[:p.alen]) == string(client)
}

// to reports whether p went to server.
func (p *pendingQuery) to(server []byte) bool {
	return int(p.alen) == len(server) && string(p.server[:p.alen]) == string(server)
}

// add remembers q; a pending query from the same client, port and ID to
// the same nameserver is replaced (a retransmission), else a free way or
// the oldest.
func (o *pendingTable) add(q *pendingQuery) {
	client := q.client[:q.alen]
	i, mu := o.set(client, q.port, q.id)
	mu.Lock()
	set := &o.sets[i]
	w := -1
	for j := range set {
		if set[j].is(client, q.port, q.id) && set[j].to(q.server[:q.alen]) {
			w = j
			break
		}
	}
	if w < 0 {
		w = 0
		for j := range set {
			if !set[j].used {
				w = j
				break
			}
			if set[j].at < set[w].at {
				w = j
			}
		}
	}
	set[w] = *q
	set[w].used = true
	mu.Unlock()
}

// take removes and returns the pending query that r, a response from
// server to client:port, answers: same ID, sent to server, same question.
// A response that answers none (a spoof from another address, with another
// question) leaves every pending query in place, so that the real response
// is still learned; the outcome says why it was refused.
func (o *pendingTable) take(client []byte, port uint16, server []byte, r *upResponse, out *pendingQuery) Outcome {
	i, mu := o.set(client, port, r.id)
	mu.Lock()
	defer mu.Unlock()
	set := &o.sets[i]
	why := NotOutstanding
	for j := range set {
		p := &set[j]
		switch {
		case !p.is(client, port, r.id):
		case !p.to(server):
			why = max(why, WrongServer)
		case p.qtype != r.qtype || p.qclass != r.qclass || string(p.name[:p.nameLen]) != string(r.name()):
			why = QuestionMismatch
		default:
			*out = *p
			p.used = false
			return Learned
		}
	}
	return why
}

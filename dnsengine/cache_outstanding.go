package dnsengine

import (
	"encoding/binary"
	"hash/maphash"
	"sync"
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
	name    [maxNameLen]byte // lowercase wire name
}

const (
	pendingWays  = 4  // entries per set
	pendingLocks = 64 // lock stripes
)

// outstanding is the fixed-size table of pending queries: a set-associative
// array keyed by (client address, client port, DNS ID), 4 ways per set, the
// oldest way overwritten when a set is full. Sets are guarded by striped
// mutexes held for a few hundred bytes of copying.
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

// add remembers q; a pending query from the same client, port and ID is
// replaced (a retransmission), else a free way or the oldest.
func (o *pendingTable) add(q *pendingQuery) {
	client := q.client[:q.alen]
	i, mu := o.set(client, q.port, q.id)
	mu.Lock()
	set := &o.sets[i]
	w := -1
	for j := range set {
		if set[j].is(client, q.port, q.id) {
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

// take removes and returns the pending query from client, port and ID.
func (o *pendingTable) take(client []byte, port, id uint16, out *pendingQuery) bool {
	i, mu := o.set(client, port, id)
	mu.Lock()
	defer mu.Unlock()
	set := &o.sets[i]
	for j := range set {
		if set[j].is(client, port, id) {
			*out = set[j]
			set[j].used = false
			return true
		}
	}
	return false
}

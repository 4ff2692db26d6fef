package cache

import (
	"hash/maphash"
	"sync"
	"time"

	"github.com/meshdns/meshdns/dnsengine/wire"
)

// The cache of upstream answers.
//
// Entries are keyed by (nameserver address, lowercase question name, type,
// class, DO, CD): an answer learned from one nameserver is only ever given
// to queries sent to that nameserver, so whoever can answer a query to an
// address of their choosing (any container of the pod, with --capture all)
// fills only the entries of that address. A
// response is stored as the upstream sent it, minus its OPT record, with
// the question name lowercased, in fixed 512-byte slots of a per-shard slab
// (an entry takes up to cacheMaxSlots of them, so responses up to 4096
// bytes are cached and larger ones are not). Everything is allocated the
// first time a shard stores an entry and never again: the packet path does
// not allocate in steady state, and memory is bounded by Size.
//
// Concurrency: the cache is split into up to 16 shards by key hash, each
// behind a sync.Mutex held only for a hash-chain walk and a copy of at most
// 4 KiB. Several queue goroutines call the engine at once; a lock-free design
// would need epoch reclamation of slots that are being copied out while
// being overwritten, which costs more complexity than a short,
// mostly-uncontended critical section costs time. The name table is not
// involved: its reads stay lock-free.
//
// Eviction is CLOCK (second chance): a hit sets an entry's reference bit;
// the hand clears set bits and evicts the first entry whose bit is clear,
// dropping entries past their TTL and stale window first as it meets them.
// A flood of names asked once therefore replaces itself and not the
// entries that are in use.

const (
	cacheSlotSize  = 512
	cacheMaxSlots  = 8
	cacheMaxMsg    = cacheSlotSize * cacheMaxSlots
	cacheMaxShards = 16
	// cacheRefreshRetry is how long after a refresh was asked for an entry
	// another may be asked for it.
	cacheRefreshRetry = 5 * time.Second
)

// entry is one cached response. Its message lives in the shard's slab.
type cacheEntry struct {
	hash      uint64
	next      int32 // next entry in the hash chain, -1 ends it
	inUse     bool
	ref       bool // CLOCK reference bit
	do, cd    bool
	nslots    uint8
	serverLen uint8
	qtype     uint16
	qclass    uint16
	nameLen   uint16
	msgLen    uint16 // stored message length (no OPT)
	qEnd      uint16 // end of the question in the message
	flags     uint16 // the response's header flags
	an, ns    uint16
	ar        uint16 // additional records, OPT excluded
	ttl       uint32 // seconds, policy applied
	hits      uint32 // answers given since it was learned
	stored    int64  // clock nanoseconds when learned
	refreshAt int64  // when a refresh was last asked (0: never)
	slots     [cacheMaxSlots]int32
	server    [16]byte // the upstream the answer came from
}

type cacheShard struct {
	mu        sync.Mutex
	entries   []cacheEntry
	buckets   []int32 // hash chain heads, -1 empty
	free      []int32 // free entry indices
	slab      []byte
	freeSlots []int32
	hand      int
	count     int
	capacity  int // entries
	nslots    int
	stats     Stats
}

type Cache struct {
	cfg      Config
	seed     maphash.Seed
	base     time.Time
	shards   []cacheShard
	mask     uint64 // shard mask
	capacity int
	maxMsg   int // largest message stored
	pending  *pendingTable
	ednsSize uint16 // the engine's EDNS cap: the OPT size of cached answers
}

// New returns a cache of cfg.Size entries (cfg validated, Size > 0).
// ednsSize is the engine's cap on the UDP payload size advertised in
// responses (dnsengine.Config.EDNSSize), used in the OPT record of answers
// from the cache.
func New(cfg Config, ednsSize uint16) *Cache {
	cfg = cfg.withDefaults()
	n := 1
	for s := cacheMaxShards; s > 1; s /= 2 {
		if cfg.Size/s >= 64 {
			n = s
			break
		}
	}
	c := &Cache{
		cfg:      cfg,
		seed:     maphash.MakeSeed(),
		base:     cfg.Clock.Now(),
		shards:   make([]cacheShard, n),
		mask:     uint64(n - 1),
		capacity: cfg.Size,
		maxMsg:   cacheMaxMsg,
		ednsSize: ednsSize,
	}
	for i := range c.shards {
		per := cfg.Size / n
		if i < cfg.Size%n {
			per++
		}
		s := &c.shards[i]
		s.capacity = per
		s.nslots = max(per+per/4, cacheMaxSlots)
	}
	c.pending = newPendingTable(cfg.Outstanding, c.seed)
	return c
}

// now is the cache clock in nanoseconds since the cache was made.
func (c *Cache) now() int64 { return int64(c.cfg.Clock.Now().Sub(c.base)) }

// keyHash hashes a cache key: the nameserver's address (4 or 16 bytes),
// the lowercase wire name, type, class, DO and CD.
func (c *Cache) keyHash(server, name []byte, qtype, qclass uint16, do, cd bool) uint64 {
	h := maphash.Bytes(c.seed, name) ^ maphash.Bytes(c.seed, server)*0x94d049bb133111eb
	t := uint64(qtype)<<32 | uint64(qclass)<<16
	if do {
		t |= 1
	}
	if cd {
		t |= 2
	}
	h ^= t * 0x9e3779b97f4a7c15
	h ^= h >> 29
	h *= 0xbf58476d1ce4e5b9
	h ^= h >> 32
	return h
}

func (c *Cache) shard(h uint64) *cacheShard { return &c.shards[(h>>56)&c.mask] }

// init allocates the shard's storage; called with mu held.
func (s *cacheShard) init() {
	s.entries = make([]cacheEntry, s.capacity)
	nb := 1
	for nb < s.capacity {
		nb <<= 1
	}
	s.buckets = make([]int32, nb)
	for i := range s.buckets {
		s.buckets[i] = -1
	}
	s.free = make([]int32, s.capacity)
	for i := range s.free {
		s.free[i] = int32(s.capacity - 1 - i)
	}
	s.slab = make([]byte, s.nslots*cacheSlotSize)
	s.freeSlots = make([]int32, s.nslots)
	for i := range s.freeSlots {
		s.freeSlots[i] = int32(s.nslots - 1 - i)
	}
}

func (s *cacheShard) bucket(h uint64) *int32 { return &s.buckets[h&uint64(len(s.buckets)-1)] }

// slot returns the bytes of slot i.
func (s *cacheShard) slot(i int32) []byte {
	return s.slab[int(i)*cacheSlotSize : int(i+1)*cacheSlotSize]
}

// lookup finds the entry for a key; mu held. -1 when absent.
func (s *cacheShard) lookup(h uint64, server, name []byte, qtype, qclass uint16, do, cd bool) int32 {
	if s.entries == nil {
		return -1
	}
	for i := *s.bucket(h); i >= 0; i = s.entries[i].next {
		e := &s.entries[i]
		if e.hash != h || e.qtype != qtype || e.qclass != qclass || e.do != do || e.cd != cd || int(e.nameLen) != len(name) ||
			int(e.serverLen) != len(server) || string(e.server[:e.serverLen]) != string(server) {
			continue
		}
		if string(s.slot(e.slots[0])[wire.HeaderLen:wire.HeaderLen+len(name)]) == string(name) {
			return i
		}
	}
	return -1
}

// remove frees entry i; mu held.
func (s *cacheShard) remove(i int32) {
	e := &s.entries[i]
	p := s.bucket(e.hash)
	for *p != i {
		p = &s.entries[*p].next
	}
	*p = e.next
	s.freeSlots = append(s.freeSlots, e.slots[:e.nslots]...)
	*e = cacheEntry{next: -1}
	s.free = append(s.free, i)
	s.count--
}

// reclaim runs the CLOCK hand until a free entry and nslots free slots are
// available; mu held. Entries older than their TTL plus stale (both in
// nanoseconds of the cache clock) are dropped as expired.
func (s *cacheShard) reclaim(nslots int, now, stale int64) {
	for tries := 0; tries <= 2*len(s.entries)+1; tries++ {
		if len(s.free) > 0 && len(s.freeSlots) >= nslots {
			return
		}
		i := int32(s.hand)
		s.hand++
		if s.hand == len(s.entries) {
			s.hand = 0
		}
		e := &s.entries[i]
		switch {
		case !e.inUse:
		case e.dead(now, stale):
			s.remove(i)
			s.stats.Expired.Add(1)
		case e.ref:
			e.ref = false
		default:
			s.remove(i)
			s.stats.Evictions.Add(1)
		}
	}
}

// storeMsg copies msg into a new entry's slots and links it; mu held and
// room reclaimed. It returns the entry.
func (s *cacheShard) storeMsg(h uint64, msg []byte) *cacheEntry {
	i := s.free[len(s.free)-1]
	s.free = s.free[:len(s.free)-1]
	e := &s.entries[i]
	*e = cacheEntry{hash: h, inUse: true, msgLen: uint16(len(msg))}
	for off := 0; off < len(msg); off += cacheSlotSize {
		sl := s.freeSlots[len(s.freeSlots)-1]
		s.freeSlots = s.freeSlots[:len(s.freeSlots)-1]
		e.slots[e.nslots] = sl
		e.nslots++
		copy(s.slot(sl), msg[off:])
	}
	b := s.bucket(h)
	e.next = *b
	*b = i
	s.count++
	return e
}

// copyOut copies the stored message bytes [from, to) of e into dst and
// returns the number copied; mu held.
func (s *cacheShard) copyOut(e *cacheEntry, from, to int, dst []byte) int {
	n := 0
	for from < to && n < len(dst) {
		sl := s.slot(e.slots[from/cacheSlotSize])
		end := min(to-from, cacheSlotSize-from%cacheSlotSize)
		c := copy(dst[n:], sl[from%cacheSlotSize:from%cacheSlotSize+end])
		n += c
		from += c
	}
	return n
}

// dead reports whether e is past its TTL and the stale window.
func (e *cacheEntry) dead(now, stale int64) bool {
	return now-e.stored >= int64(e.ttl)*int64(time.Second)+stale
}

// cacheSlotsFor is the number of slots a message of n bytes takes.
func cacheSlotsFor(n int) int { return (n + cacheSlotSize - 1) / cacheSlotSize }

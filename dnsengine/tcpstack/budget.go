package tcpstack

// The TCP memory budget. MaxMemory is a budget of
// the process's memory, and Go's collector (GOGC=100) lets the heap grow to
// twice its live bytes before it collects: so the live bytes the TCP path
// keeps are held to half of MaxMemory, the charge limit. Everything it
// keeps is charged to one counter, Stack.used, in bytes:
//
//   - each flow: flowOverhead for its state and table entry, plus the
//     capacity of its input buffer (a partial query: what has arrived of
//     it while that is at most inSmall bytes, then at once the whole
//     message its length prefix promises) and of its output buffer
//     (answers not yet acknowledged);
//   - each forwarded query: its copy plus fwdOverhead, from the moment it
//     is handed to the Forwarder until the Forwarder calls back (after a
//     hold timeout the copy is still the Forwarder's until then);
//   - each shard's answer scratch buffer, once allocated;
//   - each remembered broken 4-tuple, brokenOverhead.
//
// Two limits apply. Up to the soft limit (three quarters of the charge
// limit, 3/8 of MaxMemory) a
// flow may be opened, a partial query grow and a query be forwarded; past
// it a new flow passes through to the nameserver (ReasonTCPMemory), a
// flow whose partial query would grow past inSmall bytes is reset (the client's TCP sees an
// RST and it retries, on a flow that then passes through), and a flow that
// already waits for answers reads no further query (its client resends).
// The quarter above the soft limit is kept for answers: an answer that
// would take the total past the charge limit is replaced by a SERVFAIL of the
// query's header and question (at most 271 bytes, the only charge allowed
// past the limit). So a client that fills the soft limit with partial
// queries, pipelined floods or many flows cannot stop flows already
// admitted from being answered, and new flows are served by the real
// nameserver until the attacker's flows are reset or expire.
//
// Per flow: its input is at most one partial query (65,537 bytes); it
// reads no new query once its unacknowledged output and forwarded copies
// reach MaxBuffered, so its output stays below MaxBuffered plus one answer
// (65,537 bytes) plus MaxPending SERVFAILs.

const (
	// flowOverhead is charged for each flow: its struct, map entry and
	// slice headers (measured at about 330 bytes; rounded up).
	flowOverhead = 512
	// fwdOverhead is charged for each forwarded query besides its copy:
	// the fwd, its share of the hold and the Forwarder's own bookkeeping.
	fwdOverhead = 256
	// brokenOverhead is charged for each remembered broken 4-tuple.
	brokenOverhead = 96
	// inSmall is the input capacity a flow keeps between queries;
	// larger buffers are let go once their query is read.
	inSmall = 512
	// minTCPMemory is the smallest budget: twice the scratch buffers of
	// every shard and room for flows.
	minTCPMemory = 2 * (tcpShards*maxTCPMsg + 1<<20)
)

// DefaultMaxMemory is the default Config.MaxMemory.
const DefaultMaxMemory = 16 << 20

// limit is the most that may be charged: half the budget.
func (t *Stack) limit() int64 { return t.cfg.MaxMemory / 2 }

// softLimit is the charge up to which flows may be opened and grow.
func (t *Stack) softLimit() int64 { return t.limit() / 4 * 3 }

// charge adds n (possibly negative) bytes to the total.
func (t *Stack) charge(n int) { t.used.Add(int64(n)) }

// fits reports whether n more bytes stay within limit.
func (t *Stack) fits(n int, limit int64) bool { return t.used.Load()+int64(n) <= limit }

// recharge brings the flow's charge in line with its buffers.
func (t *Stack) recharge(f *flow) {
	c := flowOverhead + cap(f.in) + cap(f.out)
	if c != f.charged {
		t.charge(c - f.charged)
		f.charged = c
	}
}

// mayRead reports whether f may take a new query now: below its own
// bounds, and below the soft limit unless it waits for nothing (a flow
// with nothing outstanding may always read its next query, whose answer
// the reserve above the soft limit holds).
func (t *Stack) mayRead(f *flow) bool {
	if f.fwds >= t.cfg.MaxPending || len(f.out)+f.fwdBytes >= t.cfg.MaxBuffered {
		return false
	}
	return len(f.out) == 0 && f.fwds == 0 || t.used.Load() < t.softLimit()
}

// growIn makes room in f.in for n more bytes of the partial query it
// holds (want is the whole message with its prefix when known, else 0).
// It returns false when that would take the total past the soft limit:
// the flow must then be reset.
func (t *Stack) growIn(f *flow, n, want int) bool {
	need := len(f.in) + n
	if need <= cap(f.in) {
		return true
	}
	c := max(need, 2*cap(f.in), 64)
	if want > 0 {
		c = min(c, want)
		if c > inSmall {
			// Past inSmall, the whole message at once: doubling would
			// leave a trail of outgrown buffers, as large again in all,
			// that the collector holds until its next cycle, uncharged.
			c = want
		}
	}
	// The first inSmall bytes of a partial query (a query split into its
	// length and its message, as many clients write it) may use the
	// reserve above the soft limit, as answers do; beyond, only the soft
	// limit.
	limit := t.softLimit()
	if c <= inSmall {
		limit = t.limit()
	}
	if !t.fits(c-cap(f.in), limit) {
		return false
	}
	f.in = withCap(f.in, c)
	t.recharge(f)
	return true
}

// withCap returns a copy of b with capacity c.
func withCap(b []byte, c int) []byte {
	n := make([]byte, len(b), c)
	copy(n, b)
	return n
}

// growOut makes room in f.out for n more bytes, within the budget. It
// returns false when they do not fit, unless force (a SERVFAIL: a few
// hundred bytes, the one charge allowed past the budget; the buffer then
// grows by exactly n).
func (t *Stack) growOut(f *flow, n int, force bool) bool {
	need := len(f.out) + n
	if need <= cap(f.out) {
		return true
	}
	c := max(need, min(max(2*cap(f.out), 512), t.cfg.MaxBuffered+2+maxTCPMsg))
	if c > need && !t.fits(c-cap(f.out), t.limit()) {
		c = need // no room to spare: exactly what is needed
	}
	if !force && !t.fits(c-cap(f.out), t.limit()) {
		return false
	}
	f.out = withCap(f.out, c)
	t.recharge(f)
	return true
}

// Memory returns the bytes the stack holds, as charged to
// Config.MaxMemory, for a gauge. It stays within half of MaxMemory.
func (t *Stack) Memory() int64 {
	return t.used.Load()
}

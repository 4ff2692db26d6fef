package nfq

// MaxPacket is the largest packet the consumer copies from the queue and
// the capacity of the buffer a Handler gets.
const MaxPacket = 0xffff

// Verdict is what happens to a queued packet.
type Verdict uint8

const (
	// Accept lets the packet continue as it was queued.
	Accept Verdict = iota
	// AcceptModified lets the packet continue with the bytes the Handler
	// returned in place of the queued ones.
	AcceptModified
	// Drop discards the packet.
	Drop
)

// RepeatModified, like AcceptModified, lets the packet continue with the
// bytes the Handler returned, but first through the table that queued it
// again (NF_REPEAT): a DNS-over-TCP segment queued in the raw table, before
// conntrack, and rewritten into its answer meets the raw rules that
// untrack it (rules.Config).
const RepeatModified Verdict = Hold + 1

// modified reports whether v carries a new packet.
func (v Verdict) modified() bool { return v == AcceptModified || v == RepeatModified }

func (v Verdict) String() string {
	switch v {
	case Accept:
		return "accept"
	case AcceptModified:
		return "accept-modified"
	case RepeatModified:
		return "repeat-modified"
	case Hold:
		return "hold"
	case Drop:
		return "drop"
	}
	return "unknown"
}

// Handler decides on each queued packet.
//
// pkt is a copy of the whole packet (IPv4 or IPv6, from the IP header on)
// in the queue's own buffer, with cap(pkt) == MaxPacket: the Handler may
// rewrite it in place and grow it up to its capacity. The buffer is reused
// for the next packet of the queue as soon as Handle returns, so neither
// pkt nor out may be kept. With AcceptModified, out is the new packet
// (usually pkt[:n]); it must be 1..MaxPacket bytes, otherwise the packet is
// accepted unmodified. out is ignored for other verdicts. A panic in Handle
// is recovered, counted, and the packet accepted unmodified.
//
// Handle is called from one goroutine per queue: with several queues it
// runs concurrently with itself.
type Handler interface {
	Handle(pkt []byte) (verdict Verdict, out []byte)
}

// HandlerFunc adapts a function to Handler.
type HandlerFunc func(pkt []byte) (Verdict, []byte)

// Handle implements Handler.
func (f HandlerFunc) Handle(pkt []byte) (Verdict, []byte) { return f(pkt) }

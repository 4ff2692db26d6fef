package tcpstack

import (
	"crypto/sha256"
	"encoding/binary"
	"time"
)

// The TCP cookie tells segments of flows meshdns opened from segments of
// flows the real server opened, when the flow is not in the table (after
// a restart, or forgotten when idle). Every client segment echoes two
// numbers meshdns chose: its acknowledgment number (a byte of our
// sequence space) and, when timestamps were negotiated, its TSecr (our
// last TSval). Both carry a keyed tag of the 4-tuple:
//
//	ISN    bits 31-24  tag: 8 bits of SHA-256(key, 4-tuple)
//	       bit  23     0
//	       bits 22-0   hash bits + a 4 µs clock (RFC 6528), so that
//	                   successive connections of one 4-tuple start far apart
//	TSval  bits 31-16  seconds of the clock (mod 2^16)
//	       bits 15-0   tag: 16 bits of SHA-256(key, 4-tuple, those seconds)
//
// As long as fewer than 8 MiB have been sent on the flow the ack's top
// byte is still the ISN's tag, and TSecr always echoes one of our TSvals.
// A segment is ours only when both tags match: a flow the real server
// opened (whose TSvals and ISN are its own, random) matches with
// probability 2^-24. A flow without timestamps cannot be recognised
// with that certainty and is never resumed: once forgotten its segments
// pass to the real server, which resets it (the client retries).
//
// Our TSvals tick 65,536 times a second but only forward (a flow never
// sends a TSval below its last one), so the client's PAWS check (RFC
// 7323) accepts them; a flow idle for more than 2^15 s simply keeps
// echoing its last one.

// minTCPKeyLen is the shortest key EnableTCP accepts.
const minTCPKeyLen = 16

type cookie struct{ key [32]byte }

func newCookie(key []byte) cookie { return cookie{key: sha256.Sum256(key)} }

// sum hashes the key, the 4-tuple, and for a TSval tag its second.
func (c *cookie) sum(k *flowKey, ts bool, sec uint16) [32]byte {
	var b [32 + 16 + 16 + 8]byte
	copy(b[0:], c.key[:])
	copy(b[32:], k.src[:])
	copy(b[48:], k.dst[:])
	binary.BigEndian.PutUint16(b[64:], k.sport)
	binary.BigEndian.PutUint16(b[66:], k.dport)
	if k.v6 {
		b[68] = 6
	} else {
		b[68] = 4
	}
	if ts {
		b[69] = 'T'
		binary.BigEndian.PutUint16(b[70:], sec)
	}
	return sha256.Sum256(b[:])
}

// isn returns an initial sequence number for a new flow.
func (c *cookie) isn(k *flowKey, now time.Time) uint32 {
	d := c.sum(k, false, 0)
	low := binary.BigEndian.Uint32(d[1:5]) + uint32(now.UnixNano()/4000)
	return uint32(d[0])<<24 | low&0x7fffff
}

// tsTag returns the tag of a TSval of second sec.
func (c *cookie) tsTag(k *flowKey, sec uint16) uint16 {
	d := c.sum(k, true, sec)
	return binary.BigEndian.Uint16(d[:2])
}

// owns reports whether s, a client segment of the 4-tuple k with ACK set,
// belongs to a flow we opened: its acknowledgment number lies in a
// sequence space our ISN started and its TSecr is one of our TSvals.
func (c *cookie) owns(k *flowKey, s *segment) bool {
	if !s.hasTS {
		return false
	}
	if byte((s.ack-1)>>24) != c.sum(k, false, 0)[0] {
		return false
	}
	return uint16(s.tsEcr) == c.tsTag(k, uint16(s.tsEcr>>16))
}

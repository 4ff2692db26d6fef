package dnsengine

import "github.com/meshdns/meshdns/dnsengine/wire"

// recentLen is how many names recentNames holds: an endpoint's name and
// its reverse name, and the parent of each (its Service's name, its /24),
// which the endpoints of one Service share.
const recentLen = 4

// recentNames is the names anyNode returned last and their nodes. One
// object's records name one name again and again (an endpoint's address,
// the target of its PTR, the owner and target of its SRV records), and a
// new name's parent is, most often, the one the name before it had:
// those are answered by comparing bytes, without hashing the name or
// reading its node. The names are copies in place, without pointers:
// keeping them in order moves a byte per name.
type recentNames struct {
	w   [recentLen][wire.MaxNameLen]byte
	l   [recentLen]uint8 // the length of each
	n   [recentLen]uint32
	ord [recentLen]uint8 // the places of the names held, the latest first
	k   int              // names held
}

// find returns the node of w, if it is a recent name, and makes it the
// latest.
func (r *recentNames) find(w []byte) (uint32, bool) {
	for i := 0; i < r.k; i++ {
		p := r.ord[i]
		if int(r.l[p]) == len(w) && string(r.w[p][:len(w)]) == string(w) {
			copy(r.ord[1:i+1], r.ord[:i])
			r.ord[0] = p
			return r.n[p], true
		}
	}
	return 0, false
}

// add makes w, whose node is n, the latest recent name, dropping the
// oldest when r is full. A name longer than a wire name is not kept.
func (r *recentNames) add(w []byte, n uint32) {
	if len(w) > wire.MaxNameLen {
		return
	}
	var p uint8
	if r.k < recentLen {
		p = uint8(r.k)
		r.k++
	} else {
		p = r.ord[recentLen-1]
	}
	copy(r.ord[1:], r.ord[:recentLen-1])
	r.ord[0] = p
	r.l[p] = uint8(copy(r.w[p][:], w))
	r.n[p] = n
}

// reset forgets the names.
func (r *recentNames) reset() { r.k = 0 }

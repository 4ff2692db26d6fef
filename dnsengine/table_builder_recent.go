package dnsengine

// recentLen is how many names recentNames holds: an endpoint's name and
// its reverse name, and the parent of each (its Service's name, its /24),
// which the endpoints of one Service share.
const recentLen = 4

// recentNames is the names anyNode returned last and their nodes, the
// latest first. One object's records name one name again and again (an
// endpoint's address, the target of its PTR, the owner and target of its
// SRV records), and a new name's parent is, most often, the one the
// name before it had: those are answered by comparing bytes, without
// hashing the name or reading its node.
type recentNames struct {
	w [recentLen][]byte // copies, kept from one use to the next
	n [recentLen]uint32
	k int // names held
}

// find returns the node of w, if it is a recent name, and makes it the
// latest.
func (r *recentNames) find(w []byte) (uint32, bool) {
	for i := 0; i < r.k; i++ {
		if string(r.w[i]) == string(w) {
			n := r.n[i]
			if i > 0 {
				buf := r.w[i]
				copy(r.w[1:i+1], r.w[:i])
				copy(r.n[1:i+1], r.n[:i])
				r.w[0], r.n[0] = buf, n
			}
			return n, true
		}
	}
	return 0, false
}

// add makes w, whose node is n, the latest recent name, dropping the
// oldest when r is full.
func (r *recentNames) add(w []byte, n uint32) {
	k := min(r.k, recentLen-1) // the place taken: the oldest, or a free one
	buf := r.w[k]
	copy(r.w[1:k+1], r.w[:k])
	copy(r.n[1:k+1], r.n[:k])
	r.w[0], r.n[0] = append(buf[:0], w...), n
	r.k = min(r.k+1, recentLen)
}

// reset forgets the names, keeping the buffers.
func (r *recentNames) reset() { r.k = 0 }

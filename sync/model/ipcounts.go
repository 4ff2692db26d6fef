package model

import "net/netip"

// ipCounts counts the Services holding each cluster IP. It is keyed by
// an address's 16 bytes, 20 bytes an entry where a map by netip.Addr
// and int took 32: at 100,000 endpoints (9,000 cluster IPs) 0.2 MB less.
// The model's addresses are unmapped and have no zone, and on those the
// 16 bytes are one to one (an IPv4 address and its IPv4-mapped IPv6 form
// would share them; unmapping makes them one address anyway).
type ipCounts map[[16]byte]int32

// add counts one more Service holding ip, and reports whether it is the
// first.
func (c ipCounts) add(ip netip.Addr) bool {
	k := ip.Unmap().As16()
	c[k]++
	return c[k] == 1
}

// remove counts one Service fewer holding ip, and reports whether it was
// the last.
func (c ipCounts) remove(ip netip.Addr) bool {
	k := ip.Unmap().As16()
	if c[k]--; c[k] > 0 {
		return false
	}
	delete(c, k)
	return true
}

// has reports whether a Service holds ip.
func (c ipCounts) has(ip netip.Addr) bool { return c[ip.Unmap().As16()] > 0 }

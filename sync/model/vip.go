package model

import (
	"cmp"
	"crypto/sha256"
	"encoding/binary"
	"net/netip"
	"slices"
	"strconv"
	"time"
)

// Automatic VIPs come from the ranges Istio's DNS proxy uses.
var (
	vipPrefix4 = netip.MustParsePrefix("240.240.0.0/16")
	vipPrefix6 = netip.MustParsePrefix("2001:2::/48")
)

const (
	// vipSlots is the number of slots: 1 to 65534. Slot s is the pair
	// 240.240.0.0+s and 2001:2::+s (240.240.1.2 and 2001:2::102 for 258).
	vipSlots = 1<<16 - 2
	// vipRehash is how many hashed probes a claim tries before it walks
	// the slots in order.
	vipRehash = 8
)

// vipClaim is one host asking for an automatic VIP, with the entry that
// owns the claim.
type vipClaim struct {
	host      string // lowercase, no trailing dot, not a wildcard
	created   time.Time
	namespace string
	name      string
}

// vip is an allocated pair of addresses.
type vip struct{ v4, v6 netip.Addr }

func slotVIP(s int) vip {
	var a4 [4]byte
	copy(a4[:], vipPrefix4.Addr().AsSlice())
	binary.BigEndian.PutUint16(a4[2:], uint16(s))
	a6 := vipPrefix6.Addr().As16()
	binary.BigEndian.PutUint16(a6[14:], uint16(s))
	return vip{netip.AddrFrom4(a4), netip.AddrFrom16(a6)}
}

// vipSlot returns the slot an address occupies, or 0 when it is outside
// the slot space.
func vipSlot(ip netip.Addr) int {
	ip = ip.Unmap()
	switch {
	case ip.Is4() && vipPrefix4.Contains(ip):
		b := ip.As4()
		return int(binary.BigEndian.Uint16(b[2:]))
	case ip.Is6() && vipPrefix6.Contains(ip):
		b := ip.As16()
		for _, x := range b[6:14] {
			if x != 0 {
				return 0
			}
		}
		s := int(binary.BigEndian.Uint16(b[14:]))
		if s > vipSlots {
			return 0
		}
		return s
	}
	return 0
}

// hashSlot returns the i-th hashed slot of host: the first 8 bytes of
// SHA-256 of the host (i = 0), or of the host, a zero byte and i in
// decimal, read as a big-endian number, mod 65534, plus 1.
func hashSlot(host string, i int) int {
	in := []byte(host)
	if i > 0 {
		in = append(append(in, 0), strconv.Itoa(i)...)
	}
	sum := sha256.Sum256(in)
	return 1 + int(binary.BigEndian.Uint64(sum[:8])%vipSlots)
}

// place finds host a free slot: the hashed slots 0 to vipRehash-1 in turn,
// then the slots above the last one, wrapping around. It returns 0 when
// every slot is taken.
func place(host string, taken map[int]bool) int {
	s := 0
	for i := 0; i < vipRehash; i++ {
		if s = hashSlot(host, i); !taken[s] {
			return s
		}
	}
	for n := 0; n < vipSlots; n++ {
		s = s%vipSlots + 1
		if !taken[s] {
			return s
		}
	}
	return 0
}

// allocateVIPs gives every claim a VIP. The rule, which every pod applies
// to the same objects with the same result:
//
//  1. Slots taken by addresses written into ServiceEntries (spec.addresses
//     or status.addresses inside the VIP ranges) are never handed out.
//  2. Claims are served oldest first: by the entry's creationTimestamp,
//     then namespace, then name, then host. A host claimed twice keeps the
//     first claim.
//  3. A host's preferred slot is H(host) mod 65534 + 1, where H is the
//     first 8 bytes of SHA-256 read big-endian. When it is taken, the host
//     tries H(host + "\x00" + decimal i) mod 65534 + 1 for i = 1..7, then
//     the slots above the last of those, in order, wrapping around.
//
// So the VIP of a host depends only on the claims older than it: adding a
// new entry never moves an existing one, and removing an entry moves only
// a younger host that lost its preferred slot to it (it then gets its
// preferred slot back). With 65534 slots such collisions are rare (about
// n/65534 per host for n hosts). Entries backdated to an older
// creationTimestamp than existing ones are served before them. Claims
// beyond the pool size get nothing.
func allocateVIPs(claims []vipClaim, reserved []netip.Addr) map[string]vip {
	taken := make(map[int]bool, len(claims)+len(reserved))
	for _, ip := range reserved {
		if s := vipSlot(ip); s != 0 {
			taken[s] = true
		}
	}
	order := slices.Clone(claims)
	slices.SortFunc(order, func(a, b vipClaim) int {
		return cmp.Or(a.created.Compare(b.created),
			cmp.Compare(a.namespace, b.namespace),
			cmp.Compare(a.name, b.name),
			cmp.Compare(a.host, b.host))
	})
	out := make(map[string]vip, len(order))
	for _, c := range order {
		if _, done := out[c.host]; done {
			continue
		}
		s := place(c.host, taken)
		if s == 0 {
			break
		}
		taken[s] = true
		out[c.host] = slotVIP(s)
	}
	return out
}

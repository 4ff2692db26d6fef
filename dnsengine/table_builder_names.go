package dnsengine

import "math/bits"

// nameSlots is the builder's index of its nodes (wildcards excepted) by
// the hash of their names: open addressing, linear probing, at most 3/4
// full. A slot holds its node + 1 in its low bits, as many as a node
// index of a table this size needs (mask), and in the bits above them a
// tag: those bits of the name's hash. A probe passes over a slot whose
// tag differs without reading the node's hash or name, each a load from
// memory far from the slot's: most of a build's lookups are of names not
// there yet, and probe a slot or two of other names first.
type nameSlots struct {
	slots []uint32
	used  int
	mask  uint32 // the bits of a slot holding the node + 1
}

// reset makes s an empty index of size slots, at least 1.
func (s *nameSlots) reset(size int) {
	size = max(size, 1)
	if cap(s.slots) >= size {
		s.slots = s.slots[:size]
		clear(s.slots)
	} else {
		s.slots = make([]uint32, size)
	}
	s.used = 0
	s.mask = ^uint32(0)
	if b := bits.Len(uint(size)); b < 32 {
		s.mask = 1<<b - 1
	}
}

// tag is the part of a slot of a name hashing to h that holds its hash.
func (s *nameSlots) tag(h uint64) uint32 { return uint32(h) &^ s.mask }

// find returns the node of w, whose hash is h, if s holds it; t holds
// the nodes.
func (s *nameSlots) find(t *segment, w []byte, h uint64) (uint32, bool) {
	tag, mask := s.tag(h), s.mask
	for i := slotOf(h, len(s.slots)); ; i++ {
		if i == len(s.slots) {
			i = 0
		}
		v := s.slots[i]
		if v == 0 {
			return 0, false
		}
		if v&^mask == tag && t.nameEqual(v&mask-1, w) {
			return v&mask - 1, true
		}
	}
}

// insert adds node n, whose name hashes to h; hashes holds the hash of
// every node s holds, to place them again when s grows: to stay at most
// 3/4 full and to have room for n in a slot.
func (s *nameSlots) insert(h uint64, n uint32, hashes []uint64) {
	for (s.used+1)*4 > len(s.slots)*3 || n+1 > s.mask {
		old := s.slots
		oldMask := s.mask
		s.slots = nil
		s.reset(2 * len(old))
		for _, v := range old {
			if v != 0 {
				m := v&oldMask - 1
				s.place(hashes[m], m)
				s.used++
			}
		}
	}
	s.place(h, n)
	s.used++
}

// place puts node n, whose name hashes to h, in the first free slot from
// its own.
func (s *nameSlots) place(h uint64, n uint32) {
	i := slotOf(h, len(s.slots))
	for s.slots[i] != 0 {
		if i++; i == len(s.slots) {
			i = 0
		}
	}
	s.slots[i] = s.tag(h) | (n + 1)
}

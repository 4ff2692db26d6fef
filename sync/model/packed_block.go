package model

import (
	"cmp"
	"encoding/binary"
	"slices"
)

// A group keeps its objects one after another in one block of bytes
// (groupPart.objs): its Services, then its EndpointSlices (groupPart.nSvcs
// says where they start), each run in key order. An object is
//
//	uvarint  0 if its namespace is the group's (lowercase, as Kubernetes
//	         namespaces are), else the namespace's length + 1 and the
//	         namespace
//	uvarint  its name's length, then the name
//	uvarint  its body's length, then the body (packed_codec.go)
//
// A list of objects, each with its key's two strings, a slice of its
// bytes and a copy of its name, took about 130 bytes more a group (13 an
// endpoint at 100,000) than the block. The changes an Apply makes to a
// group's objects make one new block (setAll): blocks are never changed,
// so one may be shared until replaced.

// objAt is where the parts of one object of a block are: offsets of
// the block, ns[0] < 0 for the group's namespace.
type objAt struct {
	ns, name, body [2]int
	end            int // where the next object starts
}

// readObj returns the object of block b starting at offset i, or false
// if the bytes there are not one.
func readObj(b []byte, i int) (objAt, bool) {
	var o objAt
	field := func() ([2]int, bool) {
		n, w := binary.Uvarint(b[i:])
		if w <= 0 || n > uint64(len(b)-i-w) {
			return [2]int{}, false
		}
		i += w
		f := [2]int{i, i + int(n)}
		i += int(n)
		return f, true
	}
	nsLen, w := binary.Uvarint(b[i:])
	if w <= 0 {
		return o, false
	}
	if nsLen == 0 {
		i += w
		o.ns = [2]int{-1, -1}
	} else {
		// The length is the field's prefix less one.
		if nsLen-1 > uint64(len(b)-i-w) {
			return o, false
		}
		i += w
		o.ns = [2]int{i, i + int(nsLen-1)}
		i += int(nsLen - 1)
	}
	var ok1, ok2 bool
	o.name, ok1 = field()
	o.body, ok2 = field()
	o.end = i
	return o, ok1 && ok2
}

// compareKey compares the key of o, in block b of a group of namespace
// groupNS, with k.
func (o objAt) compareKey(b []byte, groupNS string, k Key) int {
	ns := groupNS
	if o.ns[0] >= 0 {
		ns = string(b[o.ns[0]:o.ns[1]])
	}
	return cmp.Or(cmp.Compare(ns, k.Namespace), cmp.Compare(string(b[o.name[0]:o.name[1]]), k.Name))
}

// key returns the key of o, in the block b made a string, of a group of
// namespace groupNS: substrings of s.
func (o objAt) key(s, groupNS string) Key {
	ns := groupNS
	if o.ns[0] >= 0 {
		ns = s[o.ns[0]:o.ns[1]]
	}
	return Key{Namespace: ns, Name: s[o.name[0]:o.name[1]]}
}

// appendObj appends the object of key k and body to a block of a group
// of namespace groupNS.
func appendObj(b []byte, groupNS string, k Key, body []byte) []byte {
	if k.Namespace == groupNS {
		b = append(b, 0)
	} else {
		b = binary.AppendUvarint(b, uint64(len(k.Namespace))+1)
		b = append(b, k.Namespace...)
	}
	b = binary.AppendUvarint(b, uint64(len(k.Name)))
	b = append(b, k.Name...)
	b = binary.AppendUvarint(b, uint64(len(body)))
	return append(b, body...)
}

// objects is a group's block of objects (groupPart.objs, .nSvcs).
type objects struct {
	b     []byte
	nSvcs int32
	ns    string // the group's namespace
}

// each calls f with each object of o, a Service or not, in order, until f
// returns false; s is o's block made a string, or "" to make it one.
func (o objects) each(s string, f func(svc bool, k Key, body string) bool) error {
	if s == "" {
		s = string(o.b)
	}
	for i, n := 0, 0; i < len(o.b); n++ {
		at, ok := readObj(o.b, i)
		if !ok {
			return errPacked
		}
		if !f(n < int(o.nSvcs), at.key(s, o.ns), s[at.body[0]:at.body[1]]) {
			break
		}
		i = at.end
	}
	return nil
}

// find reports whether o holds the object of key k, a Service or not.
// A block that is no block (never one of the model's) holds nothing past
// where it stops being one.
func (o objects) find(svc bool, k Key) bool {
	for i, n := 0, 0; i < len(o.b); n++ {
		at, ok := readObj(o.b, i)
		if !ok {
			return false
		}
		if isSvc := n < int(o.nSvcs); isSvc == svc {
			switch c := at.compareKey(o.b, o.ns, k); {
			case c == 0:
				return true
			case c > 0:
				return false
			}
		} else if svc {
			return false // past the Services
		}
		i = at.end
	}
	return false
}

// objChange is a change of one object of a group: its kind and key, and
// its new body, or nil: removed.
type objChange struct {
	part int32 // for Incremental.apply: the part changed (groupPart.pend)
	svc  bool
	k    Key
	body []byte
}

// before reports whether the object of kind svc and key k goes before
// the object at in block b of a group of namespace ns, of kind isSvc.
func before(svc bool, k Key, at objAt, b []byte, ns string, isSvc bool) int {
	if svc != isSvc {
		if svc {
			return -1
		}
		return 1
	}
	return -at.compareKey(b, ns, k)
}

// setAll returns o with the changes cs made, in a new block (o itself is
// left as it was): one pass over o's objects and the changes, sorted
// here. Of two changes of one object the later counts.
func (o objects) setAll(cs []objChange) (objects, error) {
	slices.SortStableFunc(cs, func(a, b objChange) int {
		if a.svc != b.svc {
			if a.svc {
				return -1
			}
			return 1
		}
		return cmp.Or(cmp.Compare(a.k.Namespace, b.k.Namespace), cmp.Compare(a.k.Name, b.k.Name))
	})
	size := len(o.b)
	for _, c := range cs {
		size += 3*binary.MaxVarintLen32 + len(c.k.Namespace) + len(c.k.Name) + len(c.body)
	}
	out := objects{b: make([]byte, 0, size), ns: o.ns}
	ci := 0
	// next returns the last of the changes of the object cs[ci] changes,
	// and moves past them.
	next := func() objChange {
		c := cs[ci]
		for ci++; ci < len(cs) && cs[ci].svc == c.svc && cs[ci].k == c.k; ci++ {
			c = cs[ci]
		}
		return c
	}
	emit := func(c objChange) {
		if c.body == nil {
			return
		}
		out.b = appendObj(out.b, o.ns, c.k, c.body)
		if c.svc {
			out.nSvcs++
		}
	}
	for i, n := 0, 0; i < len(o.b); n++ {
		at, ok := readObj(o.b, i)
		if !ok {
			return o, errPacked
		}
		isSvc := n < int(o.nSvcs)
		for ci < len(cs) && before(cs[ci].svc, cs[ci].k, at, o.b, o.ns, isSvc) < 0 {
			emit(next())
		}
		if ci < len(cs) && before(cs[ci].svc, cs[ci].k, at, o.b, o.ns, isSvc) == 0 {
			emit(next()) // in place of the one kept
		} else {
			out.b = append(out.b, o.b[i:at.end]...)
			if isSvc {
				out.nSvcs++
			}
		}
		i = at.end
	}
	for ci < len(cs) {
		emit(next())
	}
	return out, nil
}

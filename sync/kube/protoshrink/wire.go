package protoshrink

import (
	"google.golang.org/protobuf/encoding/protowire"
)

// field is one field of a protobuf message as read off the wire: its
// number, its wire type and its value (v for varints and fixed-size
// values, b for length-delimited ones, aliasing the message's bytes).
type field struct {
	num protowire.Number
	typ protowire.Type
	v   uint64
	b   []byte
}

// next reads the field at the start of b and returns it and the bytes after
// it. ok is false for anything the generated decoders would refuse (a
// truncated field, a bad tag or wire type, a varint too long) and for
// groups, which no Kubernetes type has: the caller then hands the input to
// the standard decoder, which decides.
func next(b []byte) (f field, rest []byte, ok bool) {
	num, typ, n := protowire.ConsumeTag(b)
	if n < 0 {
		return f, nil, false
	}
	b = b[n:]
	f.num, f.typ = num, typ
	switch typ {
	case protowire.VarintType:
		f.v, n = protowire.ConsumeVarint(b)
	case protowire.Fixed32Type:
		var v uint32
		v, n = protowire.ConsumeFixed32(b)
		f.v = uint64(v)
	case protowire.Fixed64Type:
		f.v, n = protowire.ConsumeFixed64(b)
	case protowire.BytesType:
		f.b, n = protowire.ConsumeBytes(b)
	default:
		return f, nil, false
	}
	if n < 0 {
		return f, nil, false
	}
	return f, b[n:], true
}

// isBytes and isVarint tell whether f has the wire type of a string,
// bytes or message field, and of an integer or bool field.
func (f field) isBytes() bool  { return f.typ == protowire.BytesType }
func (f field) isVarint() bool { return f.typ == protowire.VarintType }

// str is f's value as a new string.
func (f field) str() string { return string(f.b) }

// walk calls visit with each field of the message b in turn and reports
// whether every field could be read and visit took each: the one loop of
// every decoder here.
func walk(b []byte, visit func(f field) bool) bool {
	for len(b) > 0 {
		f, rest, ok := next(b)
		if !ok || !visit(f) {
			return false
		}
		b = rest
	}
	return true
}

// appendDecoded appends a zero T to *l and decodes the message f holds into
// it with dec: a repeated message field's next element.
func appendDecoded[T any](l *[]T, f field, dec func([]byte, *T) bool) bool {
	if !f.isBytes() {
		return false
	}
	*l = append(*l, *new(T))
	return dec(f.b, &(*l)[len(*l)-1])
}

// prealloc makes *l, when nil, with room for the fields numbered num of
// the message b: a repeated field's slice made at its size once rather
// than grown.
func prealloc[T any](l *[]T, b []byte, num protowire.Number) {
	if n := count(b, num); n > 0 && *l == nil {
		*l = make([]T, 0, n)
	}
}

// count returns how many fields numbered num the message b holds (up to
// where it cannot be read), for a repeated field's slice to be made at its
// size once rather than grown.
func count(b []byte, num protowire.Number) int {
	n := 0
	walk(b, func(f field) bool {
		if f.num == num {
			n++
		}
		return true
	})
	return n
}

// unmarshal decodes the message b into x with x's generated decoder.
func unmarshal[T any, P interface {
	*T
	Unmarshal([]byte) error
}](b []byte, x *T) bool {
	return P(x).Unmarshal(b) == nil
}

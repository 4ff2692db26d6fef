package protoshrink

import (
	"reflect"
	"strconv"
	"strings"

	"google.golang.org/protobuf/encoding/protowire"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// schema is what the generated decoder of one message type checks of the
// fields it knows: each one's wire type and, for a message, its schema.
// The decoders here read a few fields of a message and check the others
// against its schema without decoding them, so that they take exactly the
// input the generated decoder takes (or less, handing the rest on). A
// schema is read off the Go type's protobuf struct tags, the ones its
// generated code was made from.
type schema struct {
	fields []fieldSchema // by field number
	// opaque is set for a type whose fields have no tags (a type with its
	// own hand-written decoder): nothing of it is checked, so no field of
	// it is taken.
	opaque bool
}

type fieldSchema struct {
	known bool
	typ   protowire.Type
	msg   *schema // for a message or a map entry
}

// check tells whether the generated decoder of s's type would take f,
// checking a message field's whole value; a field it does not know it
// skips.
func (s *schema) check(f field) bool {
	if s.opaque {
		return false
	}
	if f.num < 0 || int(f.num) >= len(s.fields) || !s.fields[f.num].known {
		return true
	}
	fs := s.fields[f.num]
	if f.typ != fs.typ {
		return false
	}
	return fs.msg == nil || fs.msg.valid(f.b)
}

// valid tells whether the generated decoder of s's type would take the
// message b.
func (s *schema) valid(b []byte) bool { return walk(b, s.check) }

// schemas builds and remembers the schemas of Go types.
type schemas map[reflect.Type]*schema

// of returns the schema of the message type t (a struct).
func (m schemas) of(t reflect.Type) *schema {
	if s, ok := m[t]; ok {
		return s
	}
	s := &schema{}
	m[t] = s // before the fields: a type may hold itself
	if t == reflect.TypeFor[metav1.Time]() || t == reflect.TypeFor[metav1.MicroTime]() {
		// Hand-written Unmarshal of a Timestamp message.
		s.set(1, protowire.VarintType, nil)
		s.set(2, protowire.VarintType, nil)
		return s
	}
	tagged := false
	for i := range t.NumField() {
		sf := t.Field(i)
		tag, ok := sf.Tag.Lookup("protobuf")
		if !ok {
			continue
		}
		parts := strings.Split(tag, ",")
		if len(parts) < 2 {
			continue
		}
		tagged = true
		num, err := strconv.Atoi(parts[1])
		if err != nil || num <= 0 {
			s.opaque = true
			continue
		}
		typ, ok := wireType(sf.Type)
		if !ok {
			s.opaque = true
			continue
		}
		s.set(num, typ, m.message(sf.Type))
	}
	if !tagged {
		s.opaque = true
	}
	return s
}

// wireType is the wire type of a field of Go type t, the one its
// generated decoder expects. It is not the struct tag's: a few tags are
// wrong (ServiceSpec.HealthCheckNodePort's says bytes; its decoder reads a
// varint). ok is false for a repeated number, which the generated decoders
// take packed or not.
func wireType(t reflect.Type) (typ protowire.Type, ok bool) {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if t.Kind() == reflect.Slice && t.Elem().Kind() != reflect.Uint8 {
		if typ, ok := wireType(t.Elem()); !ok || typ != protowire.BytesType {
			return 0, false
		}
		return protowire.BytesType, true
	}
	switch t.Kind() {
	case reflect.Bool, reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return protowire.VarintType, true
	case reflect.String, reflect.Slice, reflect.Struct, reflect.Map:
		return protowire.BytesType, true
	}
	return 0, false
}

// message returns the schema of the messages a field of Go type t holds,
// nil when it holds no message (a string, bytes, a number).
func (m schemas) message(t reflect.Type) *schema {
	for t.Kind() == reflect.Pointer || (t.Kind() == reflect.Slice && t.Elem().Kind() != reflect.Uint8) {
		t = t.Elem()
	}
	switch t.Kind() {
	case reflect.Struct:
		return m.of(t)
	case reflect.Map:
		entry := &schema{}
		entry.set(1, protowire.BytesType, nil)
		if t.Key().Kind() != reflect.String {
			entry.opaque = true
		}
		switch v := t.Elem(); v.Kind() {
		case reflect.String:
			entry.set(2, protowire.BytesType, nil)
		case reflect.Struct, reflect.Pointer:
			entry.set(2, protowire.BytesType, m.message(v))
		default:
			entry.opaque = true
		}
		return entry
	}
	return nil
}

func (s *schema) set(num int, typ protowire.Type, msg *schema) {
	for len(s.fields) <= num {
		s.fields = append(s.fields, fieldSchema{})
	}
	s.fields[num] = fieldSchema{known: true, typ: typ, msg: msg}
}

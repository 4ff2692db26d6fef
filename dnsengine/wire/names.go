package wire

import (
	"errors"
	"fmt"
	"slices"
	"strings"
)

// Names are kept in lowercase DNS wire format
// ("\x03foo\x07default\x03svc\x07cluster\x05local\x00"): no escaping
// questions, and a query's question name can be compared after lowercasing
// it into a scratch buffer.

// ErrEmptyLabel is wrapped by EncodeName for a name with an empty label.
var ErrEmptyLabel = errors.New("empty label")

// EncodeName converts a dotted name ("Foo.Example.com" or "foo.example.com.")
// to lowercase wire format with its terminating zero byte. The root is "" or ".".
func EncodeName(s string) ([]byte, error) {
	return AppendName(make([]byte, 0, len(s)+2), s)
}

// AppendName appends the wire form of s (EncodeName) to dst. On an error
// dst is returned as it was (its spare capacity may be written).
//
// One pass over s: a name's wire form is as long as the name plus two
// bytes (each dot becomes the next label's length byte, plus the first
// length byte and the final zero), so every byte goes straight to its
// place and each label's length is filled in at the dot after it.
func AppendName(dst []byte, s string) ([]byte, error) {
	name := strings.TrimSuffix(s, ".")
	if name == "" {
		return append(dst, 0), nil
	}
	start := len(dst)
	out := slices.Grow(dst, len(name)+2)[:start+len(name)+2]
	lp := start // the length byte of the label being copied
	body := out[start+1 : start+1+len(name)]
	for i := 0; i < len(name); i++ {
		c := name[i]
		if c != '.' {
			body[i] = Lower(c)
			continue
		}
		if i == len(name)-1 {
			return dst, fmt.Errorf("name %q: %w", name, ErrEmptyLabel)
		}
		if err := endLabel(out, lp, start+1+i, name); err != nil {
			return dst, err
		}
		lp = start + 1 + i
	}
	if err := endLabel(out, lp, len(out)-1, name); err != nil {
		return dst, err
	}
	out[len(out)-1] = 0
	if len(out)-start > MaxNameLen {
		return dst, fmt.Errorf("name %q: longer than 255 bytes", name)
	}
	return out, nil
}

// endLabel writes at out[lp] the length of the label that ends before
// out[end], or returns why it cannot be one (name is for the message).
func endLabel(out []byte, lp, end int, name string) error {
	n := end - lp - 1
	switch {
	case n == 0:
		return fmt.Errorf("name %q: %w", name, ErrEmptyLabel)
	case n > 63:
		return fmt.Errorf("name %q: label longer than 63 bytes", name)
	}
	out[lp] = byte(n)
	return nil
}

// DecodeName renders a wire name as dotted text with a trailing dot. It is
// for logs, debug output and tests, never the packet path.
func DecodeName(w []byte) string {
	var sb strings.Builder
	for i := 0; i < len(w); {
		n := int(w[i])
		if n == 0 {
			break
		}
		i++
		if i+n > len(w) {
			break
		}
		for _, c := range w[i : i+n] {
			switch {
			case c == '.' || c == '\\':
				sb.WriteByte('\\')
				sb.WriteByte(c)
			case c < '!' || c > '~':
				fmt.Fprintf(&sb, "\\%03d", c)
			default:
				sb.WriteByte(c)
			}
		}
		sb.WriteByte('.')
		i += n
	}
	if sb.Len() == 0 {
		return "."
	}
	return sb.String()
}

package wire

import (
	"errors"
	"fmt"
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

// AppendName appends the wire form of s (EncodeName) to dst.
func AppendName(dst []byte, s string) ([]byte, error) {
	name := strings.TrimSuffix(s, ".")
	s = name
	start := len(dst)
	out := dst
	if s == "" {
		return append(out, 0), nil
	}
	for len(s) > 0 {
		label := s
		rest := ""
		if i := strings.IndexByte(s, '.'); i >= 0 {
			label, rest = s[:i], s[i+1:]
			if rest == "" {
				return dst, fmt.Errorf("name %q: %w", name, ErrEmptyLabel)
			}
		}
		if label == "" {
			return dst, fmt.Errorf("name %q: %w", name, ErrEmptyLabel)
		}
		if len(label) > 63 {
			return dst, fmt.Errorf("name %q: label longer than 63 bytes", name)
		}
		out = append(out, byte(len(label)))
		for i := 0; i < len(label); i++ {
			out = append(out, Lower(label[i]))
		}
		s = rest
	}
	out = append(out, 0)
	if len(out)-start > MaxNameLen {
		return dst, fmt.Errorf("name %q: longer than 255 bytes", name)
	}
	return out, nil
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

package objects

import (
	"bytes"
	"encoding/json"
	"maps"
	"strings"

	"sigs.k8s.io/yaml"
)

// A kubectl export (`kubectl get services,endpointslices -A -o yaml`) is
// one YAML document: a List whose items are every object. Converted
// whole, its YAML tree took twenty times the file's size at the load's
// peak (969–1,279 MiB for 100,000 endpoints). So a document shaped as kubectl
// writes a List, "items:" alone on a line at the top level followed by a
// block sequence, is read one item at a time: each item's lines,
// unindented, are a document of their own. Anything else, and any item
// that does not convert alone (an alias to another item's anchor), is
// converted whole as before (the document is still in memory), so the
// result is the same either way.

// itemSpan is the lines of one item of a List's block sequence: offsets
// into the document.
type itemSpan struct{ start, end int }

// splitYAMLList splits a YAML document written as kubectl writes a List:
// its top-level lines other than the items (rest: the List's apiVersion,
// kind, metadata), the items' spans and the sequence's indentation. ok
// is false for any other shape.
func splitYAMLList(body []byte) (rest []byte, items []itemSpan, indent int, ok bool) {
	const (
		top = iota
		key // after "items:", before the first item
		seq
	)
	state, seen := top, false
	keys := 0 // the column of the current item's keys
	for off := 0; off < len(body); {
		next := len(body)
		if e := bytes.IndexByte(body[off:], '\n'); e >= 0 {
			next = off + e + 1
		}
		line := body[off:next]
		t := bytes.TrimRight(line, " \t\r\n")
		s := bytes.TrimLeft(t, " ")
		ind := len(t) - len(s)
		// An item starts with "- " and its first key (a block mapping,
		// as kubectl writes one). Its other keys are at its first key's
		// column, and so are the entries of a sequence that is a key's
		// value ("ports:" then "- port: 80"); its values are past that
		// column. So every line of it moves left alike when it is read
		// alone.
		entry := len(s) > 0 && s[0] == '-' && (len(s) == 1 || s[1] == ' ')
		item, col := false, 0
		if entry {
			v := bytes.TrimLeft(s[1:], " ")
			item = keyLine(v)
			col = ind + len(s) - len(v)
		}
		switch {
		case state == top && string(t) == "items:":
			if seen {
				return nil, nil, 0, false
			}
			state, seen = key, true
		case state == top:
			rest = append(rest, line...)
		case state == key && (len(s) == 0 || s[0] == '#'):
			rest = append(rest, line...) // checked as the whole would be
		case len(s) == 0 || s[0] == '#' && ind < keys:
			// Blank, or a comment (not block scalar text, which is
			// indented past the item's keys): the item's.
		case state == key && item:
			state, indent, keys = seq, ind, col
			items = append(items, itemSpan{off, next})
		case state == key:
			return nil, nil, 0, false // not a block sequence of mappings
		case ind == indent && item:
			keys = col
			items = append(items, itemSpan{off, next})
		case ind < keys && ind > indent:
			return nil, nil, 0, false // between the sequence and the item's keys
		case ind == keys && s[0] != '#' && !entry && !keyLine(s):
			return nil, nil, 0, false // not one of the item's keys
		case ind >= keys:
		case ind == 0:
			state = top
			if string(t) == "items:" {
				return nil, nil, 0, false
			}
			rest = append(rest, line...)
		default:
			return nil, nil, 0, false
		}
		if state == seq {
			items[len(items)-1].end = next
		}
		off = next
	}
	if !seen || len(items) == 0 {
		return nil, nil, 0, false
	}
	return rest, items, indent, true
}

// keyLine reports whether s starts with a plain mapping key (letters,
// digits, "_", "-", ".", "/", as Kubernetes's fields are) and its ":".
func keyLine(s []byte) bool {
	i := 0
	for i < len(s) && (s[i] >= 'a' && s[i] <= 'z' || s[i] >= 'A' && s[i] <= 'Z' || s[i] >= '0' && s[i] <= '9' || strings.IndexByte("_-./", s[i]) >= 0) {
		i++
	}
	return i > 0 && i < len(s) && s[i] == ':' && (i+1 == len(s) || s[i+1] == ' ')
}

// unindentItem appends to dst the item in lines (its span), as a
// document of its own: "- " and the sequence's indentation taken off.
func unindentItem(dst, lines []byte, indent int) []byte {
	first := true
	for off := 0; off < len(lines); {
		next := len(lines)
		if e := bytes.IndexByte(lines[off:], '\n'); e >= 0 {
			next = off + e + 1
		}
		line := lines[off:next]
		off = next
		ind := len(line) - len(bytes.TrimLeft(line, " "))
		switch {
		case first:
			first = false
			line = line[indent+1:] // past "-"
			if len(line) > 0 && line[0] == ' ' {
				line = line[1:]
			}
		case ind >= indent+2:
			line = line[indent+2:]
		default:
			// A blank line or a comment left of the item's keys: every
			// byte but the spaces kept, for the converter to check as
			// it checks the whole document (UTF-8, printable).
			line = line[ind:]
		}
		dst = append(dst, line...)
		if len(line) == 0 || line[len(line)-1] != '\n' {
			dst = append(dst, '\n')
		}
	}
	return dst
}

// yamlList reads body, if it is a List written as kubectl writes one, an
// item at a time. done is false when it did not: body is to be read
// whole, and nothing was kept from it.
func (p *parser) yamlList(body []byte, w where) (done bool, err error) {
	if p.whole {
		return false, nil
	}
	rest, items, indent, ok := splitYAMLList(body)
	if !ok {
		return false, nil
	}
	js, err := yaml.YAMLToJSONStrict(rest)
	if err != nil {
		return false, nil
	}
	var h head
	if json.Unmarshal(js, &h) != nil || h.Items.b != nil || !strings.HasSuffix(h.Kind, "List") {
		return false, nil
	}
	m := p.mark()
	p.st.Documents++
	kind := strings.TrimSuffix(h.Kind, "List")
	var buf []byte
	for i, it := range items {
		buf = unindentItem(buf[:0], body[it.start:it.end], indent)
		ijs, err := yaml.YAMLToJSONStrict(buf)
		if err != nil {
			p.reset(m)
			p.listsWhole++
			return false, nil
		}
		if err := p.item(i, ijs, h.APIVersion, kind, w, 0); err != nil {
			// Whole, the document's syntax is checked before its
			// objects: a later item that does not convert is the error
			// to report, as reading it whole does.
			for _, it := range items[i+1:] {
				if _, err := yaml.YAMLToJSONStrict(unindentItem(buf[:0], body[it.start:it.end], indent)); err != nil {
					p.reset(m)
					p.listsWhole++
					return false, nil
				}
			}
			return true, err
		}
	}
	return true, nil
}

// parseMark is how far a parse had gone: reset takes it back there.
type parseMark struct {
	svcs, slices, entries int
	st                    Stats
}

func (p *parser) mark() parseMark {
	st := p.st
	st.Skipped = maps.Clone(p.st.Skipped)
	return parseMark{len(p.objs.Services), len(p.objs.EndpointSlices), len(p.objs.ServiceEntries), st}
}

func (p *parser) reset(m parseMark) {
	clear(p.objs.Services[m.svcs:])
	clear(p.objs.EndpointSlices[m.slices:])
	clear(p.objs.ServiceEntries[m.entries:])
	p.objs.Services = p.objs.Services[:m.svcs]
	p.objs.EndpointSlices = p.objs.EndpointSlices[:m.slices]
	p.objs.ServiceEntries = p.objs.ServiceEntries[:m.entries]
	p.st = m.st
}

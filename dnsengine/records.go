package dnsengine

import (
	"encoding/binary"
	"fmt"
	"net/netip"
	"sort"
	"strings"
)

// Record is one record of a table in presentation form, for debug output
// and tests. It is never used on the packet path.
type Record struct {
	Name   string `json:"name"`   // owner, dotted with a trailing dot; "*.x." for wildcards
	Type   string `json:"type"`   // "A", "AAAA", "SRV", ...
	Data   string `json:"data"`   // zone-file rdata
	Source string `json:"source"` // where the name came from, e.g. "Service default/web"
}

// String renders the record in zone-file notation without TTL and class.
func (r Record) String() string { return r.Name + " " + r.Type + " " + r.Data }

// Records lists every record of the table (empty non-terminals excluded),
// sorted by name, type and data.
func (t *Table) Records() []Record {
	var out []Record
	emit := func(owner string, n *node) {
		src := strings.Join(n.src, ", ")
		for _, r := range n.rrs {
			out = append(out, Record{Name: owner, Type: typeString(r.typ), Data: rdataString(r.typ, r.rdata), Source: src})
		}
	}
	for k, n := range t.names {
		emit(decodeName([]byte(k)), n)
	}
	for k, n := range t.wild {
		emit("*."+decodeName([]byte(k)), n)
	}
	sort.Slice(out, func(i, j int) bool {
		a, b := out[i], out[j]
		if a.Name != b.Name {
			return a.Name < b.Name
		}
		if a.Type != b.Type {
			return a.Type < b.Type
		}
		return a.Data < b.Data
	})
	return out
}

// Names lists every owner name the table holds, empty non-terminals included.
func (t *Table) Names() []string {
	out := make([]string, 0, len(t.names))
	for k := range t.names {
		out = append(out, decodeName([]byte(k)))
	}
	sort.Strings(out)
	return out
}

func rdataString(typ uint16, rd []byte) string {
	switch typ {
	case TypeA, TypeAAAA:
		if a, ok := netip.AddrFromSlice(rd); ok {
			return a.String()
		}
	case TypeCNAME, TypeNS, TypePTR:
		return decodeName(rd)
	case TypeSRV:
		if len(rd) > 6 {
			return fmt.Sprintf("%d %d %d %s", binary.BigEndian.Uint16(rd), binary.BigEndian.Uint16(rd[2:]),
				binary.BigEndian.Uint16(rd[4:]), decodeName(rd[6:]))
		}
	case TypeTXT:
		if len(rd) > 0 && int(rd[0]) == len(rd)-1 {
			return fmt.Sprintf("%q", rd[1:])
		}
	}
	return fmt.Sprintf("\\# %d %x", len(rd), rd)
}

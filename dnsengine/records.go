package dnsengine

import (
	"encoding/binary"
	"fmt"
	"net/netip"
	"slices"
	"sort"
	"strings"

	"github.com/meshdns/meshdns/dnsengine/wire"
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
// sorted by name, type and data. A name held by several segments (a
// reverse name of several Services) shows their sources joined, as one
// build would.
func (t *Table) Records() []Record {
	var out []Record
	type joined struct {
		src string
		seg int
	}
	srcs := map[string]joined{}
	seg := 0
	t.segments(func(s *segment) {
		from := len(out)
		out = s.appendRecords(out)
		seg++
		for _, r := range out[from:] {
			switch j, ok := srcs[r.Name]; {
			case !ok:
				srcs[r.Name] = joined{r.Source, seg}
			case j.seg != seg:
				srcs[r.Name] = joined{j.src + ", " + r.Source, seg}
			}
		}
	})
	for i := range out {
		out[i].Source = srcs[out[i].Name].src
	}
	sortRecords(out)
	return out
}

func (t *segment) appendRecords(out []Record) []Record {
	var buf [wire.MaxNameLen]byte
	var rb rowRecs
	for n := range t.allNodes() {
		rs := t.records(n, rb[:])
		if len(rs) == 0 {
			continue
		}
		var owner string
		if t.flags(n)&nodeWild != 0 {
			owner = "*." + wire.DecodeName(buf[:t.putName(buf[:], t.nodes[n].parent)])
		} else {
			owner = wire.DecodeName(buf[:t.putName(buf[:], n)])
		}
		src := t.sources(n)
		for i := range rs {
			out = append(out, Record{Name: owner, Type: typeString(rs[i].typ), Data: rdataString(rs[i].typ, t.rdata(&rs[i])), Source: src})
		}
	}
	return out
}

func sortRecords(out []Record) {
	sort.SliceStable(out, func(i, j int) bool {
		a, b := out[i], out[j]
		if a.Name != b.Name {
			return a.Name < b.Name
		}
		if a.Type != b.Type {
			return a.Type < b.Type
		}
		return a.Data < b.Data
	})
}

// sources returns the provenance of node n's records, comma separated.
func (t *segment) sources(n uint32) string {
	off := t.meta(n) & metaSrcMask
	cnt := t.src[off]
	names := make([]string, 0, cnt)
	for _, a := range t.src[off+1 : off+1+cnt] {
		l := uint32(binary.BigEndian.Uint16(t.arena[a:]))
		names = append(names, string(t.arena[a+2:a+2+l]))
	}
	return strings.Join(names, ", ")
}

// Names lists every owner name the table holds, empty non-terminals
// included. A group's empty non-terminals above its Service's name (the
// namespace, svc.<cluster domain>) are the base's.
func (t *Table) Names() []string {
	var out []string
	var buf [wire.MaxNameLen]byte
	t.segments(func(s *segment) {
		for n := range s.allNodes() {
			if s.flags(n)&nodeExists != 0 {
				w := buf[:s.putName(buf[:], n)]
				if s != t.base && !isReverse(w) && t.groupOf(w) == nil {
					continue
				}
				out = append(out, wire.DecodeName(w))
			}
		}
	})
	sort.Strings(out)
	return slices.Compact(out)
}

func rdataString(typ uint16, rd []byte) string {
	switch typ {
	case TypeA, TypeAAAA:
		if a, ok := netip.AddrFromSlice(rd); ok {
			return a.String()
		}
	case TypeCNAME, TypeNS, TypePTR:
		return wire.DecodeName(rd)
	case TypeSRV:
		if len(rd) > 6 {
			return fmt.Sprintf("%d %d %d %s", binary.BigEndian.Uint16(rd), binary.BigEndian.Uint16(rd[2:]),
				binary.BigEndian.Uint16(rd[4:]), wire.DecodeName(rd[6:]))
		}
	case TypeTXT:
		if len(rd) > 0 && int(rd[0]) == len(rd)-1 {
			return fmt.Sprintf("%q", rd[1:])
		}
	}
	return fmt.Sprintf("\\# %d %x", len(rd), rd)
}

package dnsengine

import (
	"slices"
	"strings"

	"github.com/meshdns/meshdns/dnsengine/wire"
)

// Apexes returns the names at or below which the table holds anything to
// answer, in presentation form with the final dot: its authoritative
// zones; the reverse zones (in-addr.arpa., ip6.arpa.) when it holds PTR
// records; svc.<cluster domain> when it holds Services' groups outside
// the zones; and, outside those, each name with records and each
// wildcard's suffix (the hosts of ServiceEntries). No name of the list is
// below another. A question for a name under none of them gets nothing
// from this table: the engine passes it on, unless its own rules answer
// it (single-label names, Config.PodNamespace). The list is what a
// kernel filter must let through to the queue (nfq/rules.QueryFilter).
func (t *Table) Apexes() []string {
	var add []string
	if t.stats.byType[statIndex(TypePTR)] > 0 {
		add = append(add, "in-addr.arpa.", "ip6.arpa.")
	}
	if t.ngroups > 0 && t.svcZone != nil {
		// The groups hold names below svc.<cluster domain> (and reverse
		// names), which the base's list covers only when a zone does.
		svc := strings.ToLower(wire.DecodeName(t.svcZone))
		if !slices.ContainsFunc(t.apexes, func(a string) bool { return atOrBelow(svc, a) }) {
			add = append(add, svc)
		}
	}
	if len(add) == 0 {
		return slices.Clone(t.apexes)
	}
	out := slices.DeleteFunc(slices.Clone(t.apexes), func(a string) bool {
		return slices.ContainsFunc(add, func(n string) bool { return atOrBelow(a, n) })
	})
	out = append(out, add...)
	slices.Sort(out)
	return out
}

// atOrBelow reports whether the presentation name name (lowercase, with
// its final dot) is apex or below it.
func atOrBelow(name, apex string) bool {
	return name == apex || strings.HasSuffix(name, "."+apex)
}

// apexes lists the base's zones and its names outside them (Apexes); the
// groups hold names below svc.<cluster domain> and reverse names only
// (BuildGroup), which Table.Apexes adds. Build computes it once per base.
// Reverse names count like any other when they hold more than PTR
// records (a ServiceEntry host under in-addr.arpa.).
func (s *segment) apexes(zones []zone) []string {
	var ws [][]byte
	for _, z := range zones {
		ws = append(ws, z.name)
	}
	var buf [wire.MaxNameLen]byte
	for n := uint32(0); int(n)+1 < len(s.nodes); n++ {
		f := s.flags(n)
		rs := s.nodeRecords(n) // the base's: no rows
		if f&nodeInZone != 0 || len(rs) == 0 || !slices.ContainsFunc(rs, func(r record) bool { return r.typ != TypePTR }) {
			continue
		}
		w := buf[:s.putName(buf[:], n)]
		if f&nodeWild != 0 {
			w = w[1+int(w[0]):] // "*.suffix": the suffix
		}
		ws = append(ws, slices.Clone(w))
	}
	// The shortest first, so a name comes after the names above it, and
	// goes when one of them is kept.
	slices.SortStableFunc(ws, func(a, b []byte) int { return len(a) - len(b) })
	kept := map[string]bool{}
	var out []string
	for _, w := range ws {
		covered := false
		for p := w; p != nil && !covered; p = parentName(p) {
			covered = kept[string(p)]
		}
		if !covered {
			kept[string(w)] = true
			out = append(out, strings.ToLower(wire.DecodeName(w)))
		}
	}
	slices.Sort(out)
	return out
}

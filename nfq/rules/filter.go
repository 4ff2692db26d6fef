package rules

import (
	"encoding/hex"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/meshdns/meshdns/dnsengine/wire"
)

// MaxFilterNames bounds the names of a QueryFilter: each is one rule, a
// Boyer-Moore search of the packet, that every UDP query to a nameserver
// may cross before it is queued or goes on.
const MaxFilterNames = 16

// maxPattern is the longest pattern xt_string takes
// (XT_STRING_MAX_PATTERN_SIZE).
const maxPattern = 128

// QueryFilter narrows the UDP queries the rules queue to those that may
// ask for a name meshdns answers; the others go to the nameserver without
// leaving the kernel. It is for an engine without a cache of upstream
// answers, which has nothing to do with a name it does not own but pass
// it on: the round trip through the queue is then the pass-through
// path's whole cost.
//
// A query is queued when its packet holds, past the DNS header, the wire
// form of one of Names (compared without regard to case, as DNS names
// are: xt_string --icase), or, with SingleLabel, when its question is a
// single label (xt_u32). The wire form of a name is a suffix of the wire
// form of every name below it, so a name covers its subtree. The match is
// a superset: a packet holding the bytes elsewhere is queued too, and the
// engine passes it on. What it misses is a question written with a
// compression pointer, which no stub resolver sends; it goes to the
// nameserver, as it would without meshdns. TCP is queued whole.
type QueryFilter struct {
	// Names are lowercase wire-form names, sorted, none below another.
	Names [][]byte
	// SingleLabel queues questions of one label (Istio's short names).
	SingleLabel bool
}

// NewQueryFilter returns the filter that queues the queries for names
// (presentation form, with or without the final dot; a wildcard "*.suffix"
// stands for suffix) and everything below them, and for single-label names when singleLabel is set. When the names
// do not fit in MaxFilterNames rules, the most specific are widened to
// their parents until they do; nil means no filter can cover them (the
// root, a name that is not one, or more than MaxFilterNames top-level
// domains): queue every query.
func NewQueryFilter(names []string, singleLabel bool) *QueryFilter {
	ws := make([][]byte, 0, len(names))
	for _, n := range names {
		w, ok := wireName(strings.TrimPrefix(n, "*."))
		if !ok {
			return nil
		}
		for len(w) > maxPattern {
			w = w[1+int(w[0]):]
		}
		ws = append(ws, w)
	}
	ws = topmost(ws)
	for len(ws) > MaxFilterNames {
		most := 0
		for _, w := range ws {
			most = max(most, labels(w))
		}
		if most == 1 {
			return nil
		}
		for i, w := range ws {
			if labels(w) == most {
				ws[i] = w[1+int(w[0]):]
			}
		}
		ws = topmost(ws)
	}
	if len(ws) == 0 && !singleLabel {
		return nil
	}
	return &QueryFilter{Names: ws, SingleLabel: singleLabel}
}

// validate checks what a QueryFilter built by hand may get wrong.
func (f *QueryFilter) validate(captureResponses bool) error {
	switch {
	case f == nil:
		return nil
	case captureResponses:
		return errors.New("rules: a query filter with the nameservers' answers captured: the cache would learn answers to queries it never saw")
	case len(f.Names) > MaxFilterNames:
		return fmt.Errorf("rules: query filter: %d names, at most %d", len(f.Names), MaxFilterNames)
	case len(f.Names) == 0 && !f.SingleLabel:
		// It would queue no query at all; nil queues them all.
		return errors.New("rules: an empty query filter (no names, no single labels): it would queue nothing; use none to queue every query")
	}
	for _, w := range f.Names {
		if !validWire(w) {
			return fmt.Errorf("rules: query filter: %q is not a wire name of at most %d bytes", w, maxPattern)
		}
	}
	return nil
}

// Equal reports whether f and g queue the same queries (nil: all).
func (f *QueryFilter) Equal(g *QueryFilter) bool {
	if f == nil || g == nil {
		return f == g
	}
	return f.SingleLabel == g.SingleLabel && slices.EqualFunc(f.Names, g.Names, func(a, b []byte) bool { return string(a) == string(b) })
}

// String lists the names in presentation form, for logs.
func (f *QueryFilter) String() string {
	if f == nil {
		return "all"
	}
	var b strings.Builder
	for i, w := range f.Names {
		if i > 0 {
			b.WriteByte(' ')
		}
		b.WriteString(wire.DecodeName(w))
	}
	if f.SingleLabel {
		if len(f.Names) > 0 {
			b.WriteByte(' ')
		}
		b.WriteString("<single label>")
	}
	return b.String()
}

// matches returns the iptables matches of f for family f, one per rule:
// each queues what it matches.
func (f *QueryFilter) matches(fam Family) []string {
	// The DNS message starts after the IP and UDP headers: 20 + 8 bytes
	// for IPv4 without options (with options it starts later, and --from
	// is where the search starts), 40 + 8 for IPv6 without extension
	// headers.
	// single reads the IP header's length (IPv4 only: IHL), then at the
	// question's first length byte (12 bytes into the DNS header) moves
	// by that length and reads the byte after the label: zero when the
	// name has one label. Written as -save prints it.
	dns := 28
	single := "0x0>>0x16&0x3c@0x14>>0x18@0x15>>0x18=0x0" // 0>>22&0x3C@20>>24@21>>24=0
	if fam == IPv6 {
		dns, single = 48, "0x3c>>0x18@0x3d>>0x18=0x0" // 60>>24@61>>24=0
	}
	// Knuth-Morris-Pratt, not Boyer-Moore: the kernel's Boyer-Moore
	// (lib/ts_bm.c) misses a pattern that spans two blocks of a packet,
	// and a query written in two sends (MSG_MORE, UDP_CORK) on a veth or
	// lo keeps its second part in a page fragment: its name would go to
	// the nameserver (TestKernelFilterSplitQuery). KMP carries its state
	// from one block to the next.
	var out []string
	for _, w := range f.Names {
		out = append(out, fmt.Sprintf(`-m string --hex-string "|%s|" --algo kmp --from %d --icase`, hex.EncodeToString(w), dns+12))
	}
	if f.SingleLabel {
		out = append(out, `-m u32 --u32 "`+single+`"`)
	}
	return out
}

// wireName encodes a presentation-form name in lowercase wire form (the
// engine's encoding, wire.EncodeName): false for the root or what is not
// a name, escaped labels (\., \ddd) included.
func wireName(name string) ([]byte, bool) {
	if strings.ContainsAny(name, "\\ \"") {
		return nil, false
	}
	w, err := wire.EncodeName(name)
	if err != nil || len(w) == 1 {
		return nil, false
	}
	return w, true
}

// validWire reports whether w is a wire name of one label or more, and
// short enough for a pattern.
func validWire(w []byte) bool {
	if len(w) < 2 || len(w) > maxPattern {
		return false
	}
	for len(w) > 1 {
		l := int(w[0])
		if l == 0 || l > 63 || 1+l >= len(w) {
			return false
		}
		w = w[1+l:]
	}
	return w[0] == 0
}

// labels counts the labels of a wire name.
func labels(w []byte) int {
	n := 0
	for len(w) > 1 {
		n++
		w = w[1+int(w[0]):]
	}
	return n
}

// topmost returns ws sorted without duplicates and without the names
// below another of them.
func topmost(ws [][]byte) [][]byte {
	slices.SortFunc(ws, func(a, b []byte) int { return strings.Compare(string(a), string(b)) })
	ws = slices.CompactFunc(ws, func(a, b []byte) bool { return string(a) == string(b) })
	all := slices.Clone(ws)
	return slices.DeleteFunc(ws, func(w []byte) bool {
		for p := w[1+int(w[0]):]; len(p) > 1; p = p[1+int(p[0]):] {
			if _, found := slices.BinarySearchFunc(all, p, func(a, b []byte) int { return strings.Compare(string(a), string(b)) }); found {
				return true
			}
		}
		return false
	})
}

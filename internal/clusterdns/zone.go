package clusterdns

import (
	"fmt"
	"slices"
	"sort"
	"strings"

	"github.com/miekg/dns"
)

// maxCNAMEChain bounds how many CNAMEs an answer follows.
const maxCNAMEChain = 8

// zone is an immutable set of records indexed by lowercase owner name.
type zone struct {
	rrs   map[string]map[uint16][]dns.RR
	nodes map[string]bool // owners and the empty non-terminals above them
}

// parseZone reads the zone text and the record map of cfg.
func parseZone(cfg Config) (*zone, error) {
	ttl := cfg.TTL
	if ttl == 0 {
		ttl = DefaultTTL
	}
	origin := dns.Fqdn(cfg.Origin)
	z := &zone{rrs: map[string]map[uint16][]dns.RR{}, nodes: map[string]bool{}}
	if err := z.parse(cfg.Zone, origin, ttl, "zone"); err != nil {
		return nil, err
	}
	names := make([]string, 0, len(cfg.Records))
	for n := range cfg.Records {
		names = append(names, n)
	}
	sort.Strings(names)
	var b strings.Builder
	for _, n := range names {
		if _, ok := dns.IsDomainName(n); !ok || n == "" {
			return nil, fmt.Errorf("clusterdns: Records: bad name %q", n)
		}
		for _, v := range cfg.Records[n] {
			if strings.ContainsAny(v, "\n\r") {
				return nil, fmt.Errorf("clusterdns: Records[%q]: %q holds a line break", n, v)
			}
			fmt.Fprintf(&b, "%s %s\n", dns.Fqdn(n), v)
		}
	}
	if err := z.parse(b.String(), ".", ttl, "records"); err != nil {
		return nil, err
	}
	return z, nil
}

func (z *zone) parse(text, origin string, ttl uint32, file string) error {
	zp := dns.NewZoneParser(strings.NewReader(text), origin, file)
	zp.SetDefaultTTL(ttl)
	for rr, ok := zp.Next(); ok; rr, ok = zp.Next() {
		z.add(rr)
	}
	if err := zp.Err(); err != nil {
		return fmt.Errorf("clusterdns: %w", err)
	}
	return nil
}

func (z *zone) add(rr dns.RR) {
	name := strings.ToLower(rr.Header().Name)
	byType := z.rrs[name]
	if byType == nil {
		byType = map[uint16][]dns.RR{}
		z.rrs[name] = byType
	}
	t := rr.Header().Rrtype
	if !slices.ContainsFunc(byType[t], func(o dns.RR) bool { return dns.IsDuplicate(o, rr) }) {
		byType[t] = append(byType[t], rr)
	}
	for n := name; ; {
		z.nodes[n] = true
		off, end := dns.NextLabel(n, 0)
		if end {
			break
		}
		n = n[off:]
	}
}

// find returns the records at name, or at the wildcard that covers it, and
// whether the name exists at all.
func (z *zone) find(name string) (map[uint16][]dns.RR, bool) {
	if rrs, ok := z.rrs[name]; ok {
		return rrs, true
	}
	if z.nodes[name] {
		return nil, true // empty non-terminal
	}
	// Walk up to the closest existing ancestor and look for its wildcard.
	for n := name; ; {
		off, end := dns.NextLabel(n, 0)
		if end {
			return nil, false
		}
		n = n[off:]
		if z.nodes[n] {
			rrs, ok := z.rrs["*."+n]
			return rrs, ok
		}
	}
}

// lookup answers qname/qtype from the zone: the rcode and the answer records,
// with owner names rewritten to the name asked (so wildcard and case are
// answered as asked).
func (z *zone) lookup(qname string, qtype uint16) (int, []dns.RR) {
	var answer []dns.RR
	name := qname
	for range maxCNAMEChain + 1 {
		rrs, exists := z.find(strings.ToLower(name))
		if !exists {
			if len(answer) > 0 {
				return dns.RcodeSuccess, answer // CNAME out of the zone
			}
			return dns.RcodeNameError, nil
		}
		if cn := rrs[dns.TypeCNAME]; len(cn) > 0 && qtype != dns.TypeCNAME {
			rr := dns.Copy(cn[0])
			rr.Header().Name = name
			answer = append(answer, rr)
			name = rr.(*dns.CNAME).Target
			continue
		}
		var match []dns.RR
		if qtype == dns.TypeANY {
			for _, t := range sortedTypes(rrs) {
				match = append(match, rrs[t]...)
			}
		} else {
			match = rrs[qtype]
		}
		for _, rr := range match {
			c := dns.Copy(rr)
			c.Header().Name = name
			answer = append(answer, c)
		}
		return dns.RcodeSuccess, answer
	}
	return dns.RcodeServerFailure, nil // CNAME loop
}

func sortedTypes(m map[uint16][]dns.RR) []uint16 {
	ts := make([]uint16, 0, len(m))
	for t := range m {
		ts = append(ts, t)
	}
	slices.Sort(ts)
	return ts
}

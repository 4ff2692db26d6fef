package contender

import (
	"fmt"
	"sort"
)

// Registry lists every contender by name, in the default order.
func Registry() []Contender {
	return []Contender{Direct{}, Meshdns{}, MeshdnsNoCache, MeshdnsNoCacheQueueAll, MeshdnsGoNfqueue, Istio{}, CoreDNSNodeLocal{}, DnsmasqLocal{}}
}

// Upstreams lists every upstream variant by name.
func Upstreams() []Upstream {
	return []Upstream{UpstreamDnsmasq{}, UpstreamCoreDNS{}}
}

// Lookup returns the contenders with the given names, in that order.
func Lookup(names []string) ([]Contender, error) {
	by := map[string]Contender{}
	var known []string
	for _, c := range Registry() {
		by[c.Name()] = c
		known = append(known, c.Name())
	}
	sort.Strings(known)
	var out []Contender
	seen := map[string]bool{}
	for _, n := range names {
		c, ok := by[n]
		if !ok {
			return nil, fmt.Errorf("unknown contender %q (known: %v)", n, known)
		}
		if seen[n] {
			return nil, fmt.Errorf("contender %q named twice", n)
		}
		seen[n] = true
		out = append(out, c)
	}
	return out, nil
}

// LookupUpstream returns the upstream variant with the given name.
func LookupUpstream(name string) (Upstream, error) {
	for _, u := range Upstreams() {
		if u.Name() == name {
			return u, nil
		}
	}
	return nil, fmt.Errorf("unknown upstream %q", name)
}

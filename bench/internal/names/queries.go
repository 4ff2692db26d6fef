package names

import (
	"bufio"
	"fmt"
	"io"
	"strings"
)

// Query types the workloads use.
const (
	TypeA    uint16 = 1
	TypeAAAA uint16 = 28
)

// Query is one DNS question; Name is absolute (ends in a dot).
type Query struct {
	Name string
	Type uint16
}

// MeshQueries returns A queries for every mesh FQDN (Services, named
// endpoints of headless Services, ServiceEntry hosts) in a seeded random
// order: the hit path.
func (s *Set) MeshQueries() []Query {
	var q []Query
	for _, svc := range s.Services {
		fqdn := s.FQDN(svc)
		q = append(q, Query{fqdn + ".", TypeA})
		for _, ep := range svc.Endpoints {
			if ep.Hostname != "" {
				q = append(q, Query{ep.Hostname + "." + fqdn + ".", TypeA})
			}
		}
	}
	for _, se := range s.ServiceEntries {
		q = append(q, Query{se.Host + ".", TypeA})
	}
	s.rng(1).Shuffle(len(q), func(i, j int) { q[i], q[j] = q[j], q[i] })
	return q
}

// ExternalQueries returns A queries for the names only the upstream knows,
// in a seeded random order: the pass-through path.
func (s *Set) ExternalQueries() []Query {
	q := make([]Query, 0, len(s.External))
	for _, h := range s.External {
		q = append(q, Query{h.Name + ".", TypeA})
	}
	s.rng(2).Shuffle(len(q), func(i, j int) { q[i], q[j] = q[j], q[i] })
	return q
}

// Mix weighs the kinds of names an application looks up in the ndots
// workload.
type Mix struct {
	// Short is a bare Service name in the pod's namespace ("svc-10").
	Short int
	// Namespaced is "svc.ns".
	Namespaced int
	// FQDN is "svc.ns.svc.cluster.local" without the trailing dot (still
	// fewer than 5 dots, so the search list is tried first).
	FQDN int
	// ServiceEntry is a ServiceEntry host ("se-1.mesh-external.example").
	ServiceEntry int
	// External is an external name ("ext-1.example.net").
	External int
}

// DefaultMix is a plausible application mix: mostly in-namespace short
// names, some cross-namespace, some external.
func DefaultMix() Mix {
	return Mix{Short: 40, Namespaced: 20, FQDN: 10, ServiceEntry: 10, External: 20}
}

func (m Mix) total() int { return m.Short + m.Namespaced + m.FQDN + m.ServiceEntry + m.External }

// NdotsLookups returns n names as an application passes them to
// getaddrinfo (no trailing dot), drawn by the mix with a seeded generator.
func (s *Set) NdotsLookups(m Mix, n int) ([]string, error) {
	if m.total() <= 0 || m.Short < 0 || m.Namespaced < 0 || m.FQDN < 0 || m.ServiceEntry < 0 || m.External < 0 {
		return nil, fmt.Errorf("names: bad mix %+v", m)
	}
	var local []Service
	for _, svc := range s.Services {
		if svc.Namespace == s.Config.PodNamespace {
			local = append(local, svc)
		}
	}
	if m.Short > 0 && len(local) == 0 {
		return nil, fmt.Errorf("names: no service in the pod namespace for short names")
	}
	if m.ServiceEntry > 0 && len(s.ServiceEntries) == 0 {
		return nil, fmt.Errorf("names: mix wants ServiceEntries but there are none")
	}
	r := s.rng(3)
	out := make([]string, 0, n)
	for range n {
		k := r.IntN(m.total())
		switch {
		case k < m.Short:
			out = append(out, local[r.IntN(len(local))].Name)
		case k < m.Short+m.Namespaced:
			svc := s.Services[r.IntN(len(s.Services))]
			out = append(out, svc.Name+"."+svc.Namespace)
		case k < m.Short+m.Namespaced+m.FQDN:
			out = append(out, s.FQDN(s.Services[r.IntN(len(s.Services))]))
		case k < m.Short+m.Namespaced+m.FQDN+m.ServiceEntry:
			out = append(out, s.ServiceEntries[r.IntN(len(s.ServiceEntries))].Host)
		default:
			out = append(out, s.External[r.IntN(len(s.External))].Name)
		}
	}
	return out, nil
}

// WriteDNSPerf writes queries in dnsperf's data file format ("name TYPE").
func WriteDNSPerf(w io.Writer, qs []Query) error {
	b := bufio.NewWriter(w)
	for _, q := range qs {
		t := "A"
		if q.Type == TypeAAAA {
			t = "AAAA"
		}
		fmt.Fprintf(b, "%s %s\n", strings.TrimSuffix(q.Name, "."), t)
	}
	return b.Flush()
}

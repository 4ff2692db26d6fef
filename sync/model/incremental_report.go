package model

import (
	"cmp"
	"maps"
	"slices"

	discoveryv1 "k8s.io/api/discovery/v1"

	"github.com/meshdns/meshdns/dnsengine"
)

// restReport counts the slices no group takes.
func (m *Incremental) restReport() {
	s := &state{o: &m.o}
	keys := slices.SortedFunc(maps.Keys(m.rest), func(a, b Key) int {
		return cmp.Or(cmp.Compare(a.Namespace, b.Namespace), cmp.Compare(a.Name, b.Name))
	})
	for _, k := range keys {
		if !m.o.wants(k.Namespace) {
			s.rep.EndpointSlices.Filtered++
			continue
		}
		s.rep.EndpointSlices.Skipped++
		s.problem(kindEndpointSlice, k.Namespace, k.Name, "no %s label", discoveryv1.LabelServiceName)
	}
	m.restRep = s.rep
}

// report sums the reports of the groups (kept as a running total), the
// slices no group takes and the base.
func (m *Incremental) report() Report {
	r := m.groupsRep
	r.Problems = nil
	add := func(p *Report) {
		r.Services = addCounts(r.Services, p.Services, 1)
		r.EndpointSlices = addCounts(r.EndpointSlices, p.EndpointSlices, 1)
		r.ServiceEntries = addCounts(r.ServiceEntries, p.ServiceEntries, 1)
		r.AutoVIPs += p.AutoVIPs
	}
	add(&m.restRep)
	add(&m.baseRep)
	for g := range m.problems {
		r.Problems = append(r.Problems, m.groups[g].rep.Problems...)
	}
	r.Problems = append(r.Problems, m.restRep.Problems...)
	r.Problems = append(r.Problems, m.baseRep.Problems...)
	slices.SortStableFunc(r.Problems, func(a, b Problem) int {
		return cmp.Or(cmp.Compare(a.Kind, b.Kind), cmp.Compare(a.Namespace, b.Namespace), cmp.Compare(a.Name, b.Name))
	})
	return r
}

// account moves the running total of the groups' reports from old to gp,
// the report of group g.
func (m *Incremental) account(g dnsengine.GroupKey, old, gp *groupPart) {
	t := &m.groupsRep
	t.Services = addCounts(addCounts(t.Services, old.rep.Services, -1), gp.rep.Services, 1)
	t.EndpointSlices = addCounts(addCounts(t.EndpointSlices, old.rep.EndpointSlices, -1), gp.rep.EndpointSlices, 1)
	t.AutoVIPs += gp.rep.AutoVIPs - old.rep.AutoVIPs
	if len(gp.rep.Problems) > 0 {
		m.problems[g] = true
	} else {
		delete(m.problems, g)
	}
}

func addCounts(a, b Counts, sign int) Counts {
	return Counts{Loaded: a.Loaded + sign*b.Loaded, Skipped: a.Skipped + sign*b.Skipped, Filtered: a.Filtered + sign*b.Filtered}
}

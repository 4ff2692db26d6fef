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
		if p := m.groups.get(g).rep.problems; p != nil {
			r.Problems = append(r.Problems, *p...)
		}
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
	t.Services = addCounts(addCounts(t.Services, old.rep.services.counts(), -1), gp.rep.services.counts(), 1)
	t.EndpointSlices = addCounts(addCounts(t.EndpointSlices, old.rep.slices.counts(), -1), gp.rep.slices.counts(), 1)
	if gp.rep.problems != nil {
		m.problems[g] = true
	} else {
		delete(m.problems, g)
	}
}

func addCounts(a, b Counts, sign int) Counts {
	return Counts{Loaded: a.Loaded + sign*b.Loaded, Skipped: a.Skipped + sign*b.Skipped, Filtered: a.Filtered + sign*b.Filtered}
}

// partReport is a group's Report, in less room: a group counts only
// Services and EndpointSlices, never more than an int32 holds, and has
// problems rarely.
type partReport struct {
	services, slices smallCounts
	problems         *[]Problem // nil: none
}

// smallCounts are Counts in int32s.
type smallCounts struct{ loaded, skipped, filtered int32 }

func (c smallCounts) counts() Counts {
	return Counts{Loaded: int(c.loaded), Skipped: int(c.skipped), Filtered: int(c.filtered)}
}

func newSmallCounts(c Counts) smallCounts {
	return smallCounts{int32(c.Loaded), int32(c.Skipped), int32(c.Filtered)}
}

// newPartReport returns r, a group's report, as a partReport.
func newPartReport(r *Report) partReport {
	p := partReport{services: newSmallCounts(r.Services), slices: newSmallCounts(r.EndpointSlices)}
	if len(r.Problems) > 0 {
		l := r.Problems
		p.problems = &l
	}
	return p
}

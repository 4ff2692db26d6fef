package model

import (
	"cmp"
	"maps"
	"math"
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
		r.Problems = append(r.Problems, m.groups.get(g).rep.problems()...)
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
	t.Services = addCounts(addCounts(t.Services, old.rep.services(), -1), gp.rep.services(), 1)
	t.EndpointSlices = addCounts(addCounts(t.EndpointSlices, old.rep.slices(), -1), gp.rep.slices(), 1)
	if len(gp.rep.problems()) > 0 {
		m.problems[g] = true
	} else {
		delete(m.problems, g)
	}
}

func addCounts(a, b Counts, sign int) Counts {
	return Counts{Loaded: a.Loaded + sign*b.Loaded, Skipped: a.Skipped + sign*b.Skipped, Filtered: a.Filtered + sign*b.Filtered}
}

// partReport is a group's Report, in less room: a group counts only
// Services and EndpointSlices, never more than an int32 holds, and
// mostly loads all of them without a problem. Its counts of the loaded
// are kept, the rest only when there is any (more).
type partReport struct {
	svcsLoaded, slicesLoaded int32
	more                     *Report // nil: none skipped or filtered, no problems
}

// services and slices return the counts of p.
func (p partReport) services() Counts {
	if p.more != nil {
		return p.more.Services
	}
	return Counts{Loaded: int(p.svcsLoaded)}
}

func (p partReport) slices() Counts {
	if p.more != nil {
		return p.more.EndpointSlices
	}
	return Counts{Loaded: int(p.slicesLoaded)}
}

// problems returns the problems of p.
func (p partReport) problems() []Problem {
	if p.more == nil {
		return nil
	}
	return p.more.Problems
}

// newPartReport returns r, a group's report, as a partReport.
func newPartReport(r *Report) partReport {
	if r.Services == (Counts{Loaded: r.Services.Loaded}) && r.EndpointSlices == (Counts{Loaded: r.EndpointSlices.Loaded}) &&
		len(r.Problems) == 0 && r.Services.Loaded <= math.MaxInt32 && r.EndpointSlices.Loaded <= math.MaxInt32 {
		return partReport{svcsLoaded: int32(r.Services.Loaded), slicesLoaded: int32(r.EndpointSlices.Loaded)}
	}
	more := &Report{Services: r.Services, EndpointSlices: r.EndpointSlices, Problems: r.Problems}
	return partReport{more: more}
}

package model

import (
	"net/netip"

	corev1 "k8s.io/api/core/v1"
)

// checkedServices is what checkServices made of a group's Services: the
// Services loaded, the counts and problems it reported and the names it
// passed through. Incremental checks a group's Services once per Apply,
// before it knows which groups a change of cluster IPs reaches, and
// builds the group from the outcome.
type checkedServices struct {
	infos       []svcInfo
	counts      Counts // of Services
	problems    []Problem
	passThrough []string
}

// checkServices checks svcs as the services step would. A first Apply
// hands it chunks (c) its results are carved from, for every group's.
func (m *Incremental) checkServices(svcs []*corev1.Service, c *checkChunks) checkedServices {
	rec := &m.as.pass
	rec.names = nil // the names kept are the result's
	s := &state{o: &m.o, out: rec, checkChunks: c}
	infos := s.checkServices(svcs)
	return checkedServices{infos: infos, counts: s.rep.Services, problems: s.rep.Problems, passThrough: rec.names}
}

// checkChunks are chunks (internal/carve) of the Services checked, and
// of their cluster IPs, for the checks of many groups.
type checkChunks struct {
	infos []svcInfo
	ips   []netip.Addr
}

// replayChecks reports into s what c reported and passes its names
// through to s's writer, as checkServices on s would have, and returns
// the Services loaded.
func (s *state) replayChecks(c *checkedServices) []svcInfo {
	s.rep.Services = addCounts(s.rep.Services, c.counts, 1)
	s.rep.Problems = append(s.rep.Problems, c.problems...)
	for _, n := range c.passThrough {
		_ = s.out.AddPassThrough(n)
	}
	return c.infos
}

// passThroughs is a Writer that keeps only the names passed through.
type passThroughs struct {
	discard
	names []string
}

func (p *passThroughs) AddPassThrough(name string) error {
	p.names = append(p.names, name)
	return nil
}

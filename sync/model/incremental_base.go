package model

import (
	"fmt"
	"net/netip"
	"slices"
	"strings"

	"github.com/meshdns/meshdns/dnsengine"
)

// buildBase builds the base: the namespaces holding names, the
// ServiceEntries (their hosts checked against the groups of m.table, already
// updated) and the
// apex records.
func (m *Incremental) buildBase() (*dnsengine.Table, error) {
	cfg := m.cfg
	b, err := dnsengine.NewTableBuilder(cfg)
	if err != nil {
		return nil, fmt.Errorf("model: %w", err)
	}
	nss := make([]string, 0, len(m.nsNames))
	for ns, c := range m.nsNames {
		if c > 0 {
			nss = append(nss, ns)
		}
	}
	slices.Sort(nss)
	for _, ns := range nss {
		_ = b.AddAncestors("_." + ns + ".svc." + m.o.domain)
	}
	s := &state{o: &m.o, out: baseWriter{b, m.table}, isService: m.isService}
	s.serviceEntries(m.ses)
	m.baseRep = s.rep
	clear(m.seKeys)
	m.seReverse = false
	for _, se := range m.ses {
		for _, h := range se.Hosts {
			h = normHost(h)
			if g, ok := m.table.ServiceOf(h + "."); ok {
				m.seKeys[g] = true
			}
			if strings.HasSuffix(h, ".arpa") || h == "arpa" {
				m.seReverse = true
			}
		}
	}
	return b.Build(), nil
}

// isService reports whether fqdn is the name of a loaded Service.
func (m *Incremental) isService(fqdn string) bool {
	g, ok := m.table.ServiceOf(fqdn)
	if !ok || fqdn != g.Name+"."+g.Namespace+".svc."+m.o.domain+"." {
		return false
	}
	gp := m.groups.get(g)
	return gp != nil && gp.service
}

// baseWriter is the base's builder; the Kubernetes names a ServiceEntry
// host must not shadow are the groups'.
type baseWriter struct {
	*dnsengine.TableBuilder
	t *dnsengine.Table // nil: no groups yet
}

func (w baseWriter) HasRecords(name string) bool { return w.t != nil && w.t.GroupHasRecords(name) }

// discard is a Writer that keeps nothing.
type discard struct{}

func (discard) AddAddress(string, netip.Addr, string) error         { return nil }
func (discard) AddWildcardAddress(string, netip.Addr, string) error { return nil }
func (discard) AddCNAME(string, string, string) error               { return nil }
func (discard) AddSRV(string, uint16, uint16, uint16, string, string) error {
	return nil
}
func (discard) AddPTR(netip.Addr, string, string) error { return nil }
func (discard) AddPassThrough(string) error             { return nil }
func (discard) HasRecords(string) bool                  { return false }

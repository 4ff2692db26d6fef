package model

import (
	"cmp"
	"fmt"
	"maps"
	"net/netip"
	"slices"
	"strings"

	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"

	"github.com/meshdns/meshdns/dnsengine"
)

// Incremental keeps a name table in step with changing objects. Each
// Apply finds the objects that changed since the previous one (by
// namespace, name and pointer: sources hand unchanged objects back as the
// same pointers) and rebuilds only the groups of the Services they touch
// (dnsengine.Table.Update), plus the base (ServiceEntries, namespaces)
// when a change reaches it. The table answers exactly as one Build of the
// same objects (TestIncrementalMatchesBuild).
//
// A group is every Service whose lowercased namespace and name are one
// name, with the EndpointSlices labelled for them. Besides its own
// objects, a group depends on the set of all cluster IPs (an endpoint
// address that is one gets no PTR); a change of that set rebuilds the
// groups holding the addresses it adds or removes. The base depends on
// the groups only through ServiceEntry hosts that are Kubernetes names
// and through which namespaces hold a name.
//
// An Incremental is not safe for concurrent use.
type Incremental struct {
	o   options
	cfg dnsengine.TableConfig
	// flat: the options make groups impossible (a reverse zone is
	// authoritative, so reverse names need empty non-terminals a group
	// cannot give): every Apply is a Build.
	flat  bool
	table *dnsengine.Table

	svcs    map[objKey]*corev1.Service
	eslices map[objKey]*discoveryv1.EndpointSlice
	ses     []*ServiceEntry
	members map[dnsengine.GroupKey][]*corev1.Service             // by namespace, name
	grouped map[dnsengine.GroupKey][]*discoveryv1.EndpointSlice // by namespace, name
	rest    map[objKey]*discoveryv1.EndpointSlice               // filtered or unlabelled: no group's

	groups     map[dnsengine.GroupKey]*groupPart
	clusterIPs map[netip.Addr]int
	shadowed   map[netip.Addr]map[dnsengine.GroupKey]bool
	nsNames    map[string]int // groups with names, by namespace
	seKeys     map[dnsengine.GroupKey]bool
	seReverse  bool // a ServiceEntry host is a reverse name
	baseRep    Report
	restRep    Report
	scratch    buildScratch
}

type objKey struct{ ns, name string }

// groupPart is what Incremental keeps of one group.
type groupPart struct {
	g        *dnsengine.Group // nil: nothing in the table
	rep      Report
	ips      []netip.Addr // cluster IPs of its loaded Services
	shadowed []netip.Addr
	service  bool // a Service of it loaded: its FQDN is a Service name
	names    bool // it holds names below its Service
}

// NewIncremental returns an Incremental for opts. Options.Serial is
// ignored: Apply takes the serial.
func NewIncremental(opts Options) (*Incremental, error) {
	o, err := opts.normalize()
	if err != nil {
		return nil, err
	}
	m := &Incremental{o: o, cfg: o.tableConfig(), scratch: buildScratch{epIdx: map[epKey]*epAddr{}, labelIdx: map[string]int{}}}
	for _, z := range o.zones {
		if z == "arpa" || strings.HasSuffix(z, "in-addr.arpa") || strings.HasSuffix(z, "ip6.arpa") {
			m.flat = true
		}
	}
	return m, nil
}

// Table returns the current table, nil before the first Apply.
func (m *Incremental) Table() *dnsengine.Table { return m.table }

// Apply brings the table to objs and returns it with what was made of
// objs. The callee keeps objs and its objects, which must not change.
func (m *Incremental) Apply(objs *Objects, serial uint32) (*dnsengine.Table, Report, error) {
	if objs == nil {
		objs = &Objects{}
	}
	if m.flat || duplicates(objs) {
		// Duplicate keys (a malformed objects file) are built as Build
		// does, whole.
		opts := m.o
		opts.serial = serial
		cfg := opts.tableConfig()
		cfg.SizeHint = sizeHint(objs)
		b, err := dnsengine.NewTableBuilder(cfg)
		if err != nil {
			return nil, Report{}, fmt.Errorf("model: %w", err)
		}
		rep := build(objs, &opts, b)
		m.reset()
		m.table = b.Build()
		return m.table, rep, nil
	}
	first := m.groups == nil
	if first {
		m.reset()
		m.groups = map[dnsengine.GroupKey]*groupPart{}
	}
	dirty := map[dnsengine.GroupKey]bool{}
	restDirty := first

	// Services.
	svcs := make(map[objKey]*corev1.Service, len(objs.Services))
	for _, x := range objs.Services {
		if x != nil {
			svcs[objKey{x.Namespace, x.Name}] = x
		}
	}
	for k, x := range svcs {
		if old := m.svcs[k]; old != x {
			g := groupKey(k.ns, k.name)
			dirty[g] = true
			m.members[g] = setMember(m.members[g], old, x, func(s *corev1.Service) objKey { return objKey{s.Namespace, s.Name} })
		}
	}
	for k, old := range m.svcs {
		if svcs[k] == nil {
			g := groupKey(k.ns, k.name)
			dirty[g] = true
			m.members[g] = setMember(m.members[g], old, nil, func(s *corev1.Service) objKey { return objKey{s.Namespace, s.Name} })
		}
	}
	m.svcs = svcs

	// EndpointSlices.
	eslices := make(map[objKey]*discoveryv1.EndpointSlice, len(objs.EndpointSlices))
	for _, x := range objs.EndpointSlices {
		if x != nil {
			eslices[objKey{x.Namespace, x.Name}] = x
		}
	}
	moveSlice := func(old, x *discoveryv1.EndpointSlice) {
		key := func(s *discoveryv1.EndpointSlice) objKey { return objKey{s.Namespace, s.Name} }
		og, oOK := m.sliceGroup(old)
		ng, nOK := m.sliceGroup(x)
		if old != nil {
			if oOK {
				dirty[og] = true
				m.grouped[og] = setMember(m.grouped[og], old, nil, key)
			} else {
				restDirty = true
				delete(m.rest, key(old))
			}
		}
		if x != nil {
			if nOK {
				dirty[ng] = true
				m.grouped[ng] = setMember(m.grouped[ng], nil, x, key)
			} else {
				restDirty = true
				m.rest[key(x)] = x
			}
		}
	}
	for k, x := range eslices {
		if old := m.eslices[k]; old != x {
			moveSlice(old, x)
		}
	}
	for k, old := range m.eslices {
		if eslices[k] == nil {
			moveSlice(old, nil)
		}
	}
	m.eslices = eslices

	// ServiceEntries: a change rebuilds the base.
	baseDirty := first || !slices.Equal(m.ses, objs.ServiceEntries)
	m.ses = slices.Clone(objs.ServiceEntries)

	// The cluster IPs of the changed groups; a change of the set reaches
	// the groups holding those addresses.
	var flipped []netip.Addr
	for g := range dirty {
		var ips []netip.Addr
		s := &state{o: &m.o, out: discard{}}
		for _, si := range s.checkServices(m.members[g]) {
			ips = append(ips, si.ips...)
		}
		var old []netip.Addr
		if gp := m.groups[g]; gp != nil {
			old = gp.ips
		}
		for _, ip := range old {
			if m.clusterIPs[ip]--; m.clusterIPs[ip] == 0 {
				delete(m.clusterIPs, ip)
				flipped = append(flipped, ip)
			}
		}
		for _, ip := range ips {
			if m.clusterIPs[ip]++; m.clusterIPs[ip] == 1 {
				flipped = append(flipped, ip)
			}
		}
	}
	for _, ip := range flipped {
		if m.table != nil {
			for _, g := range m.table.ReverseHolders(ip) {
				dirty[g] = true
			}
		}
		for g := range m.shadowed[ip] {
			dirty[g] = true
		}
	}

	// Rebuild the groups.
	keys := make([]dnsengine.GroupKey, 0, len(dirty))
	for g := range dirty {
		keys = append(keys, g)
	}
	slices.SortFunc(keys, func(a, b dnsengine.GroupKey) int {
		return cmp.Or(cmp.Compare(a.Namespace, b.Namespace), cmp.Compare(a.Name, b.Name))
	})
	var up dnsengine.TableUpdate
	up.Serial = serial
	for _, g := range keys {
		gp, err := m.buildGroup(g)
		if err != nil {
			return nil, Report{}, err
		}
		old := m.groups[g]
		if old == nil {
			old = &groupPart{}
		}
		for _, ip := range old.shadowed {
			delete(m.shadowed[ip], g)
			if len(m.shadowed[ip]) == 0 {
				delete(m.shadowed, ip)
			}
		}
		for _, ip := range gp.shadowed {
			if m.shadowed[ip] == nil {
				m.shadowed[ip] = map[dnsengine.GroupKey]bool{}
			}
			m.shadowed[ip][g] = true
		}
		if old.names != gp.names {
			if gp.names {
				m.nsNames[g.Namespace]++
				baseDirty = baseDirty || m.nsNames[g.Namespace] == 1
			} else {
				m.nsNames[g.Namespace]--
				baseDirty = baseDirty || m.nsNames[g.Namespace] == 0
			}
		}
		if old.service != gp.service || m.seKeys[g] || m.seReverse {
			baseDirty = true
		}
		switch {
		case gp.g != nil:
			up.Set = append(up.Set, gp.g)
		case old.g != nil:
			up.Remove = append(up.Remove, g)
		}
		if gp.g == nil && len(m.members[g]) == 0 && len(m.grouped[g]) == 0 {
			delete(m.groups, g)
		} else {
			m.groups[g] = gp
		}
	}
	if m.table == nil {
		// An empty base until the groups are in: the ServiceEntries'
		// hosts are checked against them.
		b, err := dnsengine.NewTableBuilder(m.cfg)
		if err != nil {
			return nil, Report{}, fmt.Errorf("model: %w", err)
		}
		m.table = b.Build()
	}
	m.table = m.table.Update(up)
	if baseDirty {
		base, err := m.buildBase(m.table)
		if err != nil {
			return nil, Report{}, err
		}
		m.table = m.table.Update(dnsengine.TableUpdate{Base: base, Serial: serial})
	}
	if restDirty {
		m.restReport()
	}
	return m.table, m.report(), nil
}

// reset forgets everything Apply kept.
func (m *Incremental) reset() {
	m.table, m.groups = nil, nil
	m.svcs, m.eslices, m.ses = nil, nil, nil
	m.members = map[dnsengine.GroupKey][]*corev1.Service{}
	m.grouped = map[dnsengine.GroupKey][]*discoveryv1.EndpointSlice{}
	m.rest = map[objKey]*discoveryv1.EndpointSlice{}
	m.clusterIPs = map[netip.Addr]int{}
	m.shadowed = map[netip.Addr]map[dnsengine.GroupKey]bool{}
	m.nsNames = map[string]int{}
	m.seKeys = map[dnsengine.GroupKey]bool{}
	m.seReverse = false
	m.baseRep, m.restRep = Report{}, Report{}
}

// duplicates reports whether objs holds two objects of one kind, namespace
// and name.
func duplicates(objs *Objects) bool {
	seen := make(map[objKey]bool, len(objs.Services))
	for _, x := range objs.Services {
		if x != nil {
			k := objKey{x.Namespace, x.Name}
			if seen[k] {
				return true
			}
			seen[k] = true
		}
	}
	clear(seen)
	for _, x := range objs.EndpointSlices {
		if x != nil {
			k := objKey{x.Namespace, x.Name}
			if seen[k] {
				return true
			}
			seen[k] = true
		}
	}
	return false
}

// groupKey is the group of the Service namespace/name.
func groupKey(ns, name string) dnsengine.GroupKey {
	return dnsengine.GroupKey{Namespace: strings.ToLower(ns), Name: strings.ToLower(name)}
}

// sliceGroup returns the group of es, or false for a slice no group
// takes (filtered, or without a service label).
func (m *Incremental) sliceGroup(es *discoveryv1.EndpointSlice) (dnsengine.GroupKey, bool) {
	if es == nil || !m.o.wants(es.Namespace) || es.Labels[discoveryv1.LabelServiceName] == "" {
		return dnsengine.GroupKey{}, false
	}
	return groupKey(es.Namespace, es.Labels[discoveryv1.LabelServiceName]), true
}

// setMember replaces old with x (either may be nil) in l, kept sorted by
// key.
func setMember[T any](l []*T, old, x *T, key func(*T) objKey) []*T {
	cmpKey := func(a *T, k objKey) int {
		ak := key(a)
		return cmp.Or(cmp.Compare(ak.ns, k.ns), cmp.Compare(ak.name, k.name))
	}
	if old != nil {
		if i, ok := slices.BinarySearchFunc(l, key(old), cmpKey); ok {
			l = slices.Delete(slices.Clone(l), i, i+1)
		}
	}
	if x != nil {
		i, ok := slices.BinarySearchFunc(l, key(x), cmpKey)
		l = slices.Clone(l)
		if ok {
			l[i] = x
		} else {
			l = slices.Insert(l, i, x)
		}
	}
	return l
}

// buildGroup builds group g from its Services and slices, as Build's
// services step would for them.
func (m *Incremental) buildGroup(g dnsengine.GroupKey) (*groupPart, error) {
	gp := &groupPart{}
	mem := m.members[g]
	var b *dnsengine.TableBuilder
	s := &state{o: &m.o, out: discard{}, scratch: m.scratch}
	if len(mem) > 0 && validLabel(g.Namespace) && validLabel(g.Name) {
		cfg := m.cfg
		cfg.Group = &g
		var err error
		if b, err = dnsengine.NewTableBuilder(cfg); err != nil {
			return nil, fmt.Errorf("model: %w", err)
		}
		s.out = b
	}
	infos := s.checkServices(mem)
	for _, si := range infos {
		gp.ips = append(gp.ips, si.ips...)
	}
	gp.service = len(infos) > 0
	bySvc := map[string][]*discoveryv1.EndpointSlice{}
	for _, es := range m.grouped[g] {
		k := es.Namespace + "/" + es.Labels[discoveryv1.LabelServiceName]
		bySvc[k] = append(bySvc[k], es)
	}
	s.emitServices(infos, bySvc, m.clusterIPs)
	m.scratch = s.scratch
	gp.rep, gp.shadowed = s.rep, s.shadowed
	if b != nil {
		grp, err := b.BuildGroup()
		if err != nil {
			return nil, fmt.Errorf("model: %w", err)
		}
		gp.g, gp.names = grp, !grp.Empty()
	}
	return gp, nil
}

// buildBase builds the base: the namespaces holding names, the
// ServiceEntries (their hosts checked against the groups of t) and the
// apex records.
func (m *Incremental) buildBase(t *dnsengine.Table) (*dnsengine.Table, error) {
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
	s := &state{o: &m.o, out: baseWriter{b, t}, isService: m.isService}
	s.serviceEntries(m.ses)
	m.baseRep = s.rep
	clear(m.seKeys)
	m.seReverse = false
	for _, se := range m.ses {
		for _, h := range se.Hosts {
			h = normHost(h)
			if g, ok := m.groupOfName(h + "."); ok {
				m.seKeys[g] = true
			}
			if strings.HasSuffix(h, ".arpa") || h == "arpa" {
				m.seReverse = true
			}
		}
	}
	return b.Build(), nil
}

// groupOfName returns the group that would hold the dotted lowercase name
// fqdn.
func (m *Incremental) groupOfName(fqdn string) (dnsengine.GroupKey, bool) {
	rest, ok := strings.CutSuffix(fqdn, ".svc."+m.o.domain+".")
	if !ok {
		return dnsengine.GroupKey{}, false
	}
	labels := strings.Split(rest, ".")
	if len(labels) < 2 {
		return dnsengine.GroupKey{}, false
	}
	return dnsengine.GroupKey{Namespace: labels[len(labels)-1], Name: labels[len(labels)-2]}, true
}

// isService reports whether fqdn is the name of a loaded Service.
func (m *Incremental) isService(fqdn string) bool {
	g, ok := m.groupOfName(fqdn)
	if !ok || fqdn != g.Name+"."+g.Namespace+".svc."+m.o.domain+"." {
		return false
	}
	gp := m.groups[g]
	return gp != nil && gp.service
}

// restReport counts the slices no group takes.
func (m *Incremental) restReport() {
	s := &state{o: &m.o}
	for _, es := range sortedByKey(slices.Collect(maps.Values(m.rest)), func(x *discoveryv1.EndpointSlice) (string, string) { return x.Namespace, x.Name }) {
		if !m.o.wants(es.Namespace) {
			s.rep.EndpointSlices.Filtered++
			continue
		}
		s.rep.EndpointSlices.Skipped++
		s.problem(kindEndpointSlice, es.Namespace, es.Name, "no %s label", discoveryv1.LabelServiceName)
	}
	m.restRep = s.rep
}

// report sums the reports of the groups, the slices no group takes and
// the base.
func (m *Incremental) report() Report {
	var r Report
	add := func(p *Report) {
		r.Services = addCounts(r.Services, p.Services)
		r.EndpointSlices = addCounts(r.EndpointSlices, p.EndpointSlices)
		r.ServiceEntries = addCounts(r.ServiceEntries, p.ServiceEntries)
		r.AutoVIPs += p.AutoVIPs
		r.Problems = append(r.Problems, p.Problems...)
	}
	for _, gp := range m.groups {
		add(&gp.rep)
	}
	add(&m.restRep)
	add(&m.baseRep)
	slices.SortStableFunc(r.Problems, func(a, b Problem) int {
		return cmp.Or(cmp.Compare(a.Kind, b.Kind), cmp.Compare(a.Namespace, b.Namespace), cmp.Compare(a.Name, b.Name))
	})
	return r
}

func addCounts(a, b Counts) Counts {
	return Counts{Loaded: a.Loaded + b.Loaded, Skipped: a.Skipped + b.Skipped, Filtered: a.Filtered + b.Filtered}
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

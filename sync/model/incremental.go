package model

import (
	"cmp"
	"errors"
	"fmt"
	"maps"
	"net/netip"
	"slices"
	"strings"

	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"

	"github.com/meshdns/meshdns/dnsengine"
	"github.com/meshdns/meshdns/internal/carve"
)

// Incremental keeps a name table in step with changing objects. Each
// Apply finds the objects that changed since the previous one (a delta
// says which; of complete Objects, those whose encoding differs from the
// kept one, packed.go) and rebuilds only the groups of the Services they touch
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
	last  *Objects // when built whole: the objects, for the next delta

	eslices map[Key]*groupPart // EndpointSlices not where their name says: their group, nil for the rest (incremental_slices.go)
	ses     []*ServiceEntry
	rest    map[Key]struct{} // filtered or unlabelled EndpointSlices: no group's

	groups     *groupIndex // nil: no groups yet
	clusterIPs ipCounts
	// ipRange holds the bounds of every cluster IP clusterIPs counted
	// since the first Apply, gone or not: an endpoint address outside
	// them is no cluster IP without a lookup (state.ipRange).
	ipRange   addrRange
	shadowed  map[netip.Addr]map[dnsengine.GroupKey]bool
	nsNames   map[string]int // groups with names, by namespace
	seKeys    map[dnsengine.GroupKey]bool
	seReverse bool // a ServiceEntry host is a reverse name
	baseRep   Report
	restRep   Report
	groupsRep Report                      // the groups' counts, summed
	problems  map[dnsengine.GroupKey]bool // groups with problems
	keep      keeper                      // copies the keys kept
	// carved: during the first Apply of groups, the chunks what it keeps
	// is carved from (internal/carve; dnsengine's table_carve.go says why).
	carved  *chunks
	scratch buildScratch
	as      applyScratch
	gb      *dnsengine.TableBuilder // a finished group builder, kept for its buffers
	// groupHash, if set (by tests), hashes group keys in place of
	// groupIndex's own hash.
	groupHash func(dnsengine.GroupKey) uint64
}

// chunks are the chunks of a first Apply's packed objects and groups.
type chunks struct {
	objs  []byte // groupPart.objs
	parts []groupPart
	ips   []netip.Addr // groupPart.ips
}

// groupPart is what Incremental keeps of one group. A group's part stays
// where it is while the group has objects (its EndpointSlices point at
// it, Incremental.eslices); a rebuild replaces what it holds.
type groupPart struct {
	key  dnsengine.GroupKey // its strings kept (keeper)
	objs []byte             // its Services, then its EndpointSlices, packed (packed.go)
	g    *dnsengine.Group   // nil: nothing in the table
	// The cluster IPs of its loaded Services, ips[:nIPs], then the
	// endpoint addresses it gives no PTR because they are cluster IPs
	// of other groups (shadowed).
	ips     []netip.Addr
	rep     partReport
	nIPs    int32
	nSvcs   int32      // Services in objs
	next    *groupPart // the next part of keys of the same hash (groupIndex)
	pend    int32      // during an Apply, 1 + its index in applyScratch.parts if its objects change
	service bool       // a Service of it loaded: its FQDN is a Service name
	names   bool       // it holds names below its Service
}

// objects returns p's objects.
func (p *groupPart) objects() objects {
	return objects{b: p.objs, nSvcs: p.nSvcs, ns: p.key.Namespace}
}

// setObjects sets p's objects to o.
func (p *groupPart) setObjects(o objects) { p.objs, p.nSvcs = o.b, o.nSvcs }

// clusterIPs returns the cluster IPs of p's loaded Services.
func (p *groupPart) clusterIPs() []netip.Addr { return p.ips[:p.nIPs] }

// shadowed returns the addresses p gives no PTR for being cluster IPs.
func (p *groupPart) shadowed() []netip.Addr { return p.ips[p.nIPs:] }

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

// Apply brings the table to objs, complete or a delta, and returns it
// with what was made of the objects. Its Services and EndpointSlices are
// kept packed, not as given (with options that make groups impossible,
// every Apply is a whole build and objs is kept as given, so it must not
// change). A delta before any complete Objects is an error.
func (m *Incremental) Apply(objs *Objects, serial uint32) (*dnsengine.Table, Report, error) {
	if objs == nil {
		objs = &Objects{}
	}
	if objs.Changes != nil {
		if m.table == nil {
			return nil, Report{}, errors.New("model: a delta before the first complete objects")
		}
		if m.groups != nil {
			return m.apply(objs.Changes, serial)
		}
		objs = m.last.Patch(objs.Changes)
	}
	if !m.flat && m.groups == nil {
		tab, rep, ok, err := m.applyFirst(objs, serial)
		if ok || err != nil {
			return tab, rep, err
		}
		return m.buildFlat(objs, serial)
	}
	if m.flat || duplicates(objs) {
		return m.buildFlat(objs, serial)
	}
	return m.apply(m.diff(objs), serial)
}

// buildFlat builds the table of objs whole, as Build does: for options
// that make groups impossible, and for objects with duplicate keys (a
// malformed objects file). It forgets the groups.
func (m *Incremental) buildFlat(objs *Objects, serial uint32) (*dnsengine.Table, Report, error) {
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
	m.table, m.last = b.Build(), objs
	return m.table, rep, nil
}

// diff returns the changes from the objects Apply was last given to
// objs, by key and encoding, in one pass over the groups' objects. The
// slices no group takes are not kept packed: each counts as changed
// (they only count in the report).
func (m *Incremental) diff(objs *Objects) *Changes {
	ch := &Changes{Services: map[Key]*corev1.Service{}, EndpointSlices: map[Key]*discoveryv1.EndpointSlice{}}
	svcs := make(map[Key]*corev1.Service, len(objs.Services))
	for _, x := range objs.Services {
		if x != nil {
			svcs[Key{x.Namespace, x.Name}] = x
		}
	}
	eps := make(map[Key]*discoveryv1.EndpointSlice, len(objs.EndpointSlices))
	for _, x := range objs.EndpointSlices {
		if x != nil {
			eps[Key{x.Namespace, x.Name}] = x
		}
	}
	// The objects kept: unchanged, changed or gone.
	m.groups.each(func(gp *groupPart) {
		_ = gp.objects().each("", func(svc bool, k Key, body string) bool {
			if svc {
				if x := svcs[k]; x == nil || body != string(enc(&m.as, appendService, x)) {
					ch.Services[k] = x
				}
				delete(svcs, k)
			} else {
				if x := eps[k]; x == nil || body != string(enc(&m.as, appendSlice, x)) {
					ch.EndpointSlices[k] = x
				}
				delete(eps, k)
			}
			return true
		})
	})
	for k, gp := range m.eslices {
		if _, ok := eps[k]; gp == nil && !ok {
			ch.EndpointSlices[k] = nil // no group's, and gone
		}
	}
	maps.Copy(ch.Services, svcs)      // new
	maps.Copy(ch.EndpointSlices, eps) // new, or no group's
	if m.table == nil || !slices.Equal(m.ses, objs.ServiceEntries) {
		ch.ServiceEntries, ch.ServiceEntriesChanged = objs.ServiceEntries, true
	}
	return ch
}

// groupObjects are the objects of a group being rebuilt, unpacked, and
// its Services checked: once, for both the cluster-IP pass and the build.
type groupObjects struct {
	svcs    []*corev1.Service
	eps     []*discoveryv1.EndpointSlice
	checked checkedServices
}

// apply brings the table up to date with ch, once groups were built
// (applyFirst).
func (m *Incremental) apply(ch *Changes, serial uint32) (*dnsengine.Table, Report, error) {
	as := &m.as
	as.dirty, as.unpacked = fresh(as.dirty, 0), fresh(as.unpacked, 0)
	as.changes = slices.Grow(as.changes, len(ch.Services)+len(ch.EndpointSlices))
	defer as.done()
	dirty := as.dirty
	restDirty := false
	// part returns the part of group g, new if it has none, its key a
	// copy (keeper).
	part := func(g dnsengine.GroupKey) *groupPart {
		gp := m.groups.get(g)
		if gp == nil {
			gp = new(groupPart)
			gp.key = m.keep.group(g)
			m.groups.add(gp)
		}
		return gp
	}

	// change notes a change of an object of group gp: its new body, or
	// (nil) its removal. The changes are made once all are known, one
	// new block of objects a group.
	change := func(gp *groupPart, svc bool, k Key, body []byte) {
		dirty[gp.key] = true
		if gp.pend == 0 {
			as.parts = append(as.parts, gp)
			gp.pend = int32(len(as.parts))
		}
		c := objChange{part: gp.pend, svc: svc, k: k}
		if body != nil {
			c.body = as.body(body)
		}
		as.changes = append(as.changes, c)
	}

	// Services, packed into their group's objects.
	for k, x := range ch.Services {
		var body []byte // nil: removed
		if x != nil {
			body = enc(&m.as, appendService, x)
		}
		change(part(groupKey(k.Namespace, k.Name)), true, k, body)
	}

	// EndpointSlices: out of where the old version was filed, into where
	// the new one belongs (its group, or the rest).
	for k, x := range ch.EndpointSlices {
		old, had := m.sliceHome(k)
		if had {
			if old != nil {
				change(old, false, k, nil)
			} else {
				restDirty = true
				delete(m.rest, k)
			}
			delete(m.eslices, k)
		}
		if x == nil {
			continue
		}
		g, grouped := m.sliceGroup(x)
		if grouped {
			gp := part(g)
			m.fileSlice(k, gp)
			change(gp, false, k, enc(&m.as, appendSlice, x))
		} else {
			k = m.keep.key(k)
			m.eslices[k] = nil
			restDirty = true
			m.rest[k] = struct{}{}
		}
	}

	// The changes, by part (in the order noted within one), one new
	// block a part.
	slices.SortStableFunc(as.changes, func(a, b objChange) int { return cmp.Compare(a.part, b.part) })
	for cs := range runsOf(as.changes) {
		gp := as.parts[cs[0].part-1]
		o, err := gp.objects().setAll(cs)
		if err != nil {
			return nil, Report{}, fmt.Errorf("model: group %s/%s: %w", gp.key.Namespace, gp.key.Name, err)
		}
		gp.setObjects(o)
	}

	// The objects of the groups to rebuild, unpacked once each; ch's own
	// are used as they are.
	unpacked := as.unpacked
	objectsOf := func(g dnsengine.GroupKey) (*groupObjects, error) {
		if o := unpacked[g]; o != nil {
			return o, nil
		}
		objs := part(g).objects()
		s := string(objs.b) // what the objects unpacked hold substrings of
		svcs, err := unpackAll(objs, s, true, ch.Services, &m.as.svcPool, unpackService)
		if err != nil {
			return nil, err
		}
		eps, err := unpackAll(objs, s, false, ch.EndpointSlices, &m.as.slicePool, unpackSlice)
		if err != nil {
			return nil, err
		}
		o := &groupObjects{svcs: svcs, eps: eps, checked: m.checkServices(svcs, nil)}
		unpacked[g] = o
		return o, nil
	}

	// ServiceEntries: a change rebuilds the base.
	baseDirty := false
	if ch.ServiceEntriesChanged {
		baseDirty = true
		m.ses = slices.Clone(ch.ServiceEntries)
	}

	// The cluster IPs of the changed groups; a change of the set reaches
	// the groups holding those addresses.
	flipped := as.flipped[:0]
	for g := range dirty {
		objs, err := objectsOf(g)
		if err != nil {
			return nil, Report{}, err
		}
		// The new addresses counted before the old are taken away: an
		// address the group keeps never drops to 0, and only the
		// addresses that come or go flip.
		for _, si := range objs.checked.infos {
			for _, ip := range si.ips {
				if m.clusterIPs.add(ip) {
					flipped = append(flipped, ip)
					m.ipRange.add(ip)
				}
			}
		}
		for _, ip := range part(g).clusterIPs() {
			if m.clusterIPs.remove(ip) {
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
	as.flipped = flipped
	keys := as.keys[:0]
	for g := range dirty {
		keys = append(keys, g)
	}
	as.keys = keys
	slices.SortFunc(keys, func(a, b dnsengine.GroupKey) int {
		return cmp.Or(cmp.Compare(a.Namespace, b.Namespace), cmp.Compare(a.Name, b.Name))
	})
	var up dnsengine.TableUpdate
	up.Serial = serial
	for _, g := range keys {
		old := part(g)
		g = old.key // the kept strings
		objs, err := objectsOf(g)
		if err != nil {
			return nil, Report{}, err
		}
		gp, err := m.buildGroup(old, objs)
		if err != nil {
			return nil, Report{}, err
		}
		baseDirty = m.settle(old, gp, &up) || baseDirty
	}
	return m.finishApply(up, baseDirty, restDirty, serial)
}

// settle puts gp, group old.key rebuilt, in place of old: its shadowed
// addresses, names and report are accounted for, its table group noted
// in up. It reports whether the base must be rebuilt for it.
func (m *Incremental) settle(old *groupPart, gp groupPart, up *dnsengine.TableUpdate) (baseDirty bool) {
	g := old.key
	for _, ip := range old.shadowed() {
		delete(m.shadowed[ip], g)
		if len(m.shadowed[ip]) == 0 {
			delete(m.shadowed, ip)
		}
	}
	for _, ip := range gp.shadowed() {
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
	m.account(g, old, &gp)
	switch {
	case gp.g != nil:
		up.Set = append(up.Set, gp.g)
	case old.g != nil:
		up.Remove = append(up.Remove, g)
	}
	if gp.g == nil && len(gp.objs) == 0 {
		// Gone: cleared, so that a part carved by the first build,
		// kept in its chunk by its neighbours, holds nothing. No
		// slice points at it: it has none.
		m.groups.remove(old)
		gp = groupPart{}
	}
	*old = gp
	return baseDirty
}

// finishApply ends an Apply: the groups' changes, up, into the table,
// then the base rebuilt and the rest's report made again if asked.
func (m *Incremental) finishApply(up dnsengine.TableUpdate, baseDirty, restDirty bool, serial uint32) (*dnsengine.Table, Report, error) {
	if m.table == nil {
		// An empty base until the groups are in: the ServiceEntries'
		// hosts are checked against them.
		b, err := dnsengine.NewTableBuilder(m.cfg)
		if err != nil {
			return nil, Report{}, fmt.Errorf("model: %w", err)
		}
		m.table = b.Build()
	}
	up.Carve = m.carved != nil
	m.table = m.table.Update(up)
	if baseDirty {
		base, err := m.buildBase()
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
	m.table, m.groups, m.last = nil, nil, nil
	m.ses = nil
	m.eslices = map[Key]*groupPart{}
	m.rest = map[Key]struct{}{}
	m.clusterIPs, m.ipRange = ipCounts{}, addrRange{}
	m.shadowed = map[netip.Addr]map[dnsengine.GroupKey]bool{}
	m.nsNames = map[string]int{}
	m.seKeys = map[dnsengine.GroupKey]bool{}
	m.seReverse = false
	m.baseRep, m.restRep, m.groupsRep = Report{}, Report{}, Report{}
	m.problems = map[dnsengine.GroupKey]bool{}
}

// duplicates reports whether objs holds two objects of one kind, namespace
// and name.
func duplicates(objs *Objects) bool {
	return repeats(objs.Services, func(x *corev1.Service) Key { return Key{x.Namespace, x.Name} }) ||
		repeats(objs.EndpointSlices, func(x *discoveryv1.EndpointSlice) Key { return Key{x.Namespace, x.Name} })
}

// repeats reports whether two objects of l have one key.
func repeats[T any](l []*T, key func(*T) Key) bool {
	seen := make(map[Key]bool, len(l))
	for _, x := range l {
		if x == nil {
			continue
		}
		k := key(x)
		if seen[k] {
			return true
		}
		seen[k] = true
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

// buildGroup returns the new part of group old.key, built from its
// Services and slices, objs, as Build's services step would for them.
func (m *Incremental) buildGroup(old *groupPart, objs *groupObjects) (groupPart, error) {
	g := old.key
	gp := groupPart{key: g, objs: old.objs, nSvcs: old.nSvcs, next: old.next}
	mem := objs.svcs
	var b *dnsengine.TableBuilder
	s := &state{o: &m.o, out: discard{}, scratch: &m.scratch, ipRange: m.ipRange}
	if len(mem) > 0 && validLabel(g.Namespace) && validLabel(g.Name) {
		var err error
		if m.gb != nil {
			b, m.gb = m.gb, nil
			err = b.ResetGroup(g)
		} else {
			cfg, key := m.cfg, g // key: g left on the stack
			cfg.Group = &key
			b, err = dnsengine.NewTableBuilder(cfg)
		}
		if err != nil {
			return groupPart{}, fmt.Errorf("model: %w", err)
		}
		b.CarveGroups(m.carved != nil)
		s.out = b
	}
	infos := s.replayChecks(&objs.checked)
	// The addresses gathered in the scratch, then copied to their own
	// array, or carved.
	ips := m.as.ips[:0]
	for _, si := range infos {
		ips = append(ips, si.ips...)
	}
	gp.nIPs = int32(len(ips))
	gp.service = len(infos) > 0
	s.emitServices(infos, s.labelledSlices(objs.eps), m.clusterIPs)
	gp.rep = newPartReport(&s.rep)
	ips = append(ips, s.shadowed...)
	if m.carved != nil {
		gp.ips = carve.Copy(&m.carved.ips, ips)
	} else {
		gp.ips = carve.Copy(nil, ips)
	}
	m.as.ips = ips[:0]
	if b != nil {
		grp, err := b.BuildGroup()
		if err != nil {
			return groupPart{}, fmt.Errorf("model: %w", err)
		}
		m.gb = b // its buffers serve the next group
		gp.g, gp.names = grp, !grp.Empty()
	}
	return gp, nil
}

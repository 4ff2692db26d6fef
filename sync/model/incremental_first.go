package model

import (
	"cmp"
	"slices"
	"strings"

	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"

	"github.com/meshdns/meshdns/dnsengine"
	"github.com/meshdns/meshdns/internal/carve"
)

// The first Apply of groups (Incremental.applyFirst) keeps nothing yet:
// every object is new. It files the objects by group straight from the
// lists given, without the maps by key a diff and a delta take (three
// of each kind, and one of the unpacked groups: about a fifth of the
// first Apply's allocations at 100,000 endpoints) and without packing
// an object three times over (into the scratch, a block of changes,
// then the group's carved block): a group's objects are sorted among
// themselves and packed once into their carved block, and the objects
// given are the group's objects to build from. Duplicate keys, which
// the maps by key found (duplicates), are found here by the sort of each
// group's objects, and, for EndpointSlices filed apart from the group
// their name implies, by a look into that group (firstDuplicates).

// firstRef is an object of a first Apply: the index of its part (in
// applyScratch.parts) and its index in the list given, a Service's i or
// an EndpointSlice's ^i.
type firstRef struct {
	part int32
	i    int32
}

// applyFirst is Apply's first build of groups from complete objects
// (m.groups nil): it brings the table to objs as apply(diff(objs))
// would, or reports false, having built nothing, if objs holds two
// objects of one kind and key (Apply then builds them flat).
func (m *Incremental) applyFirst(objs *Objects, serial uint32) (*dnsengine.Table, Report, bool, error) {
	m.reset()
	m.groups = newGroupIndex(m.groupHash)
	m.carved = &chunks{}
	defer func() { m.carved = nil }()
	as := &m.as
	defer as.done()
	svcs, eps := objs.Services, objs.EndpointSlices

	// part returns the part of group g, new (carved) if it has none, its
	// key a copy (keeper), and notes it in as.parts.
	counts := make([]int32, 0, len(svcs))
	part := func(g dnsengine.GroupKey) *groupPart {
		h, gp := m.groups.lookup(g)
		if gp == nil {
			gp = &carve.Take(&m.carved.parts, 1)[0]
			gp.key = m.keep.group(g)
			m.groups.addHashed(gp, h)
			as.parts = append(as.parts, gp)
			gp.pend = int32(len(as.parts))
			counts = append(counts, 0)
		}
		counts[gp.pend-1]++
		return gp
	}
	refs := make([]firstRef, 0, len(svcs)+len(eps))
	for i, x := range svcs {
		if x != nil {
			gp := part(groupKey(x.Namespace, x.Name))
			refs = append(refs, firstRef{gp.pend - 1, int32(i)})
		}
	}
	for i, x := range eps {
		if x == nil {
			continue
		}
		k := Key{x.Namespace, x.Name}
		if _, dup := m.eslices[k]; dup {
			return nil, Report{}, false, nil
		}
		g, grouped := m.sliceGroup(x)
		if !grouped {
			k = m.keep.key(k)
			m.eslices[k] = nil
			m.rest[k] = struct{}{}
			continue
		}
		gp := part(g)
		m.fileSlice(k, gp)
		refs = append(refs, firstRef{gp.pend - 1, ^int32(i)})
	}

	// The objects by part (a counting sort: in the order given within a
	// part, so its Services before its EndpointSlices), then each
	// part's Services and EndpointSlices by key.
	parts := as.parts
	start := make([]int32, len(parts)+1)
	for p, c := range counts {
		start[p+1] = start[p] + c
		counts[p] = start[p]
	}
	byPart := make([]int32, len(refs))
	for _, r := range refs {
		byPart[counts[r.part]] = r.i
		counts[r.part]++
	}
	svcKey := func(i int32) (string, string) { return svcs[i].Namespace, svcs[i].Name }
	sliceKey := func(i int32) (string, string) { return eps[^i].Namespace, eps[^i].Name }
	gos := make([]groupObjects, len(parts))
	svcList := make([]*corev1.Service, 0, len(svcs))
	sliceList := make([]*discoveryv1.EndpointSlice, 0, len(eps))
	for p := range parts {
		run := byPart[start[p]:start[p+1]]
		n := 0 // its Services
		for n < len(run) && run[n] >= 0 {
			n++
		}
		if !sortedUnique(run[:n], svcKey) || !sortedUnique(run[n:], sliceKey) {
			return nil, Report{}, false, nil
		}
		s0, e0 := len(svcList), len(sliceList)
		for _, i := range run[:n] {
			svcList = append(svcList, svcs[i])
		}
		for _, i := range run[n:] {
			sliceList = append(sliceList, eps[^i])
		}
		o := &gos[p]
		o.svcs = svcList[s0:len(svcList):len(svcList)]
		o.eps = sliceList[e0:len(sliceList):len(sliceList)]
	}
	if m.firstDuplicates(gos) {
		return nil, Report{}, false, nil
	}
	m.ses = slices.Clone(objs.ServiceEntries)

	// Every group's Services checked, for the set of cluster IPs a
	// group's build needs.
	var chunks checkChunks
	for p := range parts {
		o := &gos[p]
		o.checked = m.checkServices(o.svcs, &chunks)
		for _, si := range o.checked.infos {
			for _, ip := range si.ips {
				if m.clusterIPs.add(ip) {
					m.ipRange.add(ip)
				}
			}
		}
	}

	// The groups in order of their keys, each packed into its block (as
	// setAll would from no objects) and built from the objects given
	// while they are at hand.
	order := sortedParts(parts)
	var up dnsengine.TableUpdate
	up.Serial = serial
	var blk []byte // a group's block, then carved
	for _, gp := range order {
		o := &gos[gp.pend-1]
		ns := gp.key.Namespace
		blk = blk[:0]
		for _, x := range o.svcs {
			as.buf = appendService(as.buf[:0], x)
			blk = appendObj(blk, ns, Key{x.Namespace, x.Name}, as.buf)
		}
		for _, x := range o.eps {
			as.buf = appendSlice(as.buf[:0], x)
			blk = appendObj(blk, ns, Key{x.Namespace, x.Name}, as.buf)
		}
		gp.objs, gp.nSvcs = carve.Copy(&m.carved.objs, blk), int32(len(o.svcs))
		built, err := m.buildGroup(gp, o)
		if err != nil {
			return nil, Report{}, false, err
		}
		m.settle(gp, built, &up)
	}
	tab, rep, err := m.finishApply(up, true, true, serial)
	return tab, rep, true, err
}

// sortedUnique sorts run, indexes of objects of one kind, by the key of
// each and reports whether no two have one key.
func sortedUnique(run []int32, key func(int32) (string, string)) bool {
	byKey := func(a, b int32) int {
		ans, an := key(a)
		bns, bn := key(b)
		if c := strings.Compare(ans, bns); c != 0 {
			return c
		}
		return strings.Compare(an, bn)
	}
	if len(run) < 2 {
		return true
	}
	if !slices.IsSortedFunc(run, byKey) {
		slices.SortFunc(run, byKey)
	}
	for i := 1; i < len(run); i++ {
		if byKey(run[i-1], run[i]) == 0 {
			return false
		}
	}
	return true
}

// firstDuplicates reports whether an EndpointSlice filed apart from the
// group its name implies (Incremental.eslices: in another group, or in
// none) has the key of a slice of that group, gos holding each part's
// objects sorted by key. Slices of one key filed apart were found as
// they were filed, and those of one group by its sort.
func (m *Incremental) firstDuplicates(gos []groupObjects) bool {
	for k, gp := range m.eslices {
		g, ok := namedGroup(k)
		if !ok {
			continue
		}
		named := m.groups.get(g)
		if named == nil || named == gp {
			continue
		}
		if _, found := slices.BinarySearchFunc(gos[named.pend-1].eps, k, func(x *discoveryv1.EndpointSlice, k Key) int {
			return cmp.Or(strings.Compare(x.Namespace, k.Namespace), strings.Compare(x.Name, k.Name))
		}); found {
			return true
		}
	}
	return false
}

// sortedParts returns parts sorted by key (sortedByKey).
func sortedParts(parts []*groupPart) []*groupPart {
	return sortedByKey(parts, func(gp *groupPart) (string, string) { return gp.key.Namespace, gp.key.Name })
}

package model

import (
	"strings"

	"github.com/meshdns/meshdns/dnsengine"
)

// Where each EndpointSlice is filed. The EndpointSlice controller names a
// Service's slices <service>-<5 random characters>, so the group a slice's
// name implies (namedGroup) is almost always its own: such a slice is
// found in that group's list of slices, by its key, and needs no entry of
// its own. Incremental.eslices holds the others: slices filed in another
// group (named by hand, or by a Service name cut short), and the slices
// no group takes (nil). A slice is in one group's list at most, so a
// slice found in the group its name implies is filed there. At 100,000
// endpoints a map entry for every slice was about 7.5 bytes an endpoint.

// namedGroup returns the group the name of slice k implies: its name
// without the last dash and what follows, or false if it has no dash.
func namedGroup(k Key) (dnsengine.GroupKey, bool) {
	i := strings.LastIndexByte(k.Name, '-')
	if i <= 0 {
		return dnsengine.GroupKey{}, false
	}
	return groupKey(k.Namespace, k.Name[:i]), true
}

// sliceHome returns the group slice k is filed in (nil: in the rest) and
// whether it is kept at all.
func (m *Incremental) sliceHome(k Key) (*groupPart, bool) {
	if g, ok := namedGroup(k); ok {
		if gp := m.groups.get(g); gp != nil {
			if gp.objects().find(false, k) {
				return gp, true
			}
		}
	}
	gp, ok := m.eslices[k]
	return gp, ok
}

// fileSlice notes that slice k is filed in gp; the caller puts it in
// gp's objects. The key kept, if any, is a copy.
func (m *Incremental) fileSlice(k Key, gp *groupPart) {
	if g, ok := namedGroup(k); ok && g == gp.key {
		return
	}
	m.eslices[m.keep.key(k)] = gp
}

package model

import (
	"strings"

	"github.com/meshdns/meshdns/dnsengine"
)

// keeper copies the strings Incremental keeps (the keys of its groups, and
// of the EndpointSlices filed apart, incremental_slices.go) out of the
// objects they arrive in. A decoded object's strings are small
// allocations made next to each other; a namespace or a name kept from
// one holds its whole span of the heap, mostly the object's other, dead
// strings, for as long as the key lives. At 100,000 endpoints
// such kept keys held about 14 MB of spans that were mostly free
// (HeapInuse against HeapAlloc; bench/results/nametable/source-rss.txt).
// Namespaces are interned: a cluster has few, and every key repeats one.
type keeper struct {
	ns map[string]string
}

// namespace returns the interned copy of ns.
func (k *keeper) namespace(ns string) string {
	if s, ok := k.ns[ns]; ok {
		return s
	}
	if k.ns == nil {
		k.ns = map[string]string{}
	}
	s := strings.Clone(ns)
	k.ns[s] = s
	return s
}

// key returns x with its strings copied.
func (k *keeper) key(x Key) Key {
	return Key{Namespace: k.namespace(x.Namespace), Name: strings.Clone(x.Name)}
}

// group returns g with its strings copied.
func (k *keeper) group(g dnsengine.GroupKey) dnsengine.GroupKey {
	return dnsengine.GroupKey{Namespace: k.namespace(g.Namespace), Name: strings.Clone(g.Name)}
}

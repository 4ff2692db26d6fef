package main

import (
	"log/slog"
	"net/netip"
	"strings"
	"sync"

	"github.com/meshdns/meshdns/dnsengine"
	"github.com/meshdns/meshdns/sync/model"
)

// nodeTables builds the node's name tables from its one set of objects.
// The table carries the single-label names of one pod namespace and the
// addresses of ns.dns.<zone>, so pods are grouped by (namespace,
// nameservers): one table per group in use, all from the same objects,
// rebuilt together when they change, dropped with the group's last pod.
type nodeTables struct {
	base model.Options
	log  *slog.Logger

	mu     sync.Mutex
	objs   *model.Objects
	groups map[string]*tableGroup
}

type tableGroup struct {
	store *tableStore
	refs  int
}

func newNodeTables(base model.Options, log *slog.Logger) *nodeTables {
	return &nodeTables{base: base, log: log, groups: map[string]*tableGroup{}}
}

func groupKey(ns string, nameservers []netip.Addr) string {
	var b strings.Builder
	b.WriteString(ns)
	for _, a := range nameservers {
		b.WriteString(" " + a.String())
	}
	return b.String()
}

// acquire returns the registry of the group's table and its release.
func (n *nodeTables) acquire(ns string, nameservers []netip.Addr) (dnsengine.Registry, func()) {
	key := groupKey(ns, nameservers)
	n.mu.Lock()
	defer n.mu.Unlock()
	g := n.groups[key]
	if g == nil {
		opts := n.base
		opts.PodNamespace, opts.Nameservers = ns, nameservers
		g = &tableGroup{store: &tableStore{reg: &dnsengine.AtomicRegistry{}, opts: opts, log: n.log.With("table", key)}}
		if n.objs != nil {
			g.store.update(n.objs)
		}
		n.groups[key] = g
	}
	g.refs++
	var once sync.Once
	return g.store.reg, func() {
		once.Do(func() {
			n.mu.Lock()
			defer n.mu.Unlock()
			if g.refs--; g.refs == 0 {
				delete(n.groups, key)
			}
		})
	}
}

// update takes a new set of objects and rebuilds every table in use.
func (n *nodeTables) update(objs *model.Objects) {
	n.mu.Lock()
	defer n.mu.Unlock()
	n.objs = objs
	for _, g := range n.groups {
		g.store.update(objs)
	}
}

// loaded reports whether the objects were loaded once.
func (n *nodeTables) loaded() bool {
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.objs != nil
}

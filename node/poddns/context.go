package poddns

import (
	"net/netip"
	"slices"

	"github.com/meshdns/meshdns/resolvconf"
)

// Context is what node mode answers a pod with: its namespace (for the
// single-label rule), the nameservers whose DNS traffic is captured, and its
// search list.
type Context struct {
	Namespace   string
	Nameservers []netip.Addr
	Search      []string
	Ndots       int
}

// Context reads d as the pod's resolver does (resolvconf's rules,
// so addresses that are not IPs are dropped, as the resolver drops them) and
// adds the pod's namespace.
func (d DNS) Context(namespace string) Context {
	rc := d.Resolver()
	return Context{Namespace: namespace, Nameservers: rc.Nameservers, Search: rc.Search, Ndots: rc.Ndots}
}

// Resolver is d as the pod's resolver reads its resolv.conf.
func (d DNS) Resolver() resolvconf.Config {
	rc, _ := resolvconf.Parse(stringsReader(d.Render())) // a string reader cannot fail
	return rc
}

// Equal reports whether two contexts answer alike.
func (c Context) Equal(o Context) bool {
	return c.Namespace == o.Namespace && c.Ndots == o.Ndots &&
		slices.Equal(c.Nameservers, o.Nameservers) && slices.Equal(c.Search, o.Search)
}

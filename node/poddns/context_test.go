package poddns

import (
	"net/netip"
	"slices"
	"strconv"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"

	"github.com/meshdns/meshdns/resolvconf"
)

// TestRenderAgreesWithResolver writes each policy's resolv.conf the way the
// runtime writes it and reads it back with resolvconf (the sidecar's
// reader): nameservers, search list, ndots and the other options must be
// what For computed, and the namespace the sidecar derives from the search
// list must be the pod's.
func TestRenderAgreesWithResolver(t *testing.T) {
	host := nodeHost(t)
	k := Kubelet{ClusterDNS: []string{"10.96.0.10", "fd00::a"}, ClusterDomain: "cluster.local", Host: host, HostFile: true}
	for _, p := range []*corev1.Pod{
		pod("shop", corev1.DNSClusterFirst, false, nil),
		pod("billing", corev1.DNSClusterFirstWithHostNet, true, nil),
		pod("shop", corev1.DNSDefault, false, nil),
		pod("shop", corev1.DNSNone, false, &corev1.PodDNSConfig{Nameservers: []string{"1.1.1.1"}, Searches: []string{"Upper.Example."},
			Options: []corev1.PodDNSConfigOption{{Name: "ndots", Value: ptr("3")}, {Name: "edns0"}}}),
		pod("shop", corev1.DNSClusterFirst, false, &corev1.PodDNSConfig{Options: []corev1.PodDNSConfigOption{{Name: "timeout", Value: ptr("1")}}}),
	} {
		t.Run(string(p.Spec.DNSPolicy)+"/"+p.Namespace, func(t *testing.T) {
			d := For(p, k)
			text := d.Render()
			rc, err := resolvconf.Parse(strings.NewReader(text))
			if err != nil {
				t.Fatal(err)
			}
			if len(rc.Ignored) > 0 {
				t.Fatalf("resolver ignored lines of\n%s: %q", text, rc.Ignored)
			}
			var ns []netip.Addr
			for _, s := range d.Nameservers {
				ns = append(ns, netip.MustParseAddr(s))
			}
			if !slices.Equal(rc.Nameservers, ns) {
				t.Errorf("nameservers: resolver %v, kubelet %v", rc.Nameservers, ns)
			}
			var search []string
			for _, s := range d.Searches {
				search = append(search, strings.ToLower(strings.TrimSuffix(s, ".")))
			}
			if !slices.Equal(rc.Search, search) {
				t.Errorf("search: resolver %q, kubelet %q", rc.Search, search)
			}
			ndots, other := resolvconf.DefaultNdots, []string(nil)
			for _, o := range d.Options {
				if v, ok := strings.CutPrefix(o, "ndots:"); ok {
					ndots, _ = strconv.Atoi(v)
					continue
				}
				other = append(other, o)
			}
			if rc.Ndots != ndots || !slices.Equal(rc.Options, other) {
				t.Errorf("options: resolver ndots %d %q, kubelet %q", rc.Ndots, rc.Options, d.Options)
			}
			c := d.Context(p.Namespace)
			if !slices.Equal(c.Nameservers, rc.Nameservers) || !slices.Equal(c.Search, rc.Search) || c.Ndots != rc.Ndots {
				t.Errorf("Context %+v disagrees with the resolver's %+v", c, rc)
			}
			if policy(p) == corev1.DNSClusterFirst {
				if got, ok := rc.Namespace(k.ClusterDomain); !ok || got != p.Namespace {
					t.Errorf("namespace from the search list = %q %v, want %q", got, ok, p.Namespace)
				}
			}
		})
	}
}

func FuzzParseHost(f *testing.F) {
	f.Add("nameserver 10.0.0.2\nsearch a. b\noptions ndots:2\n")
	f.Add("nameserver\n#x\n\n search  \n")
	f.Fuzz(func(t *testing.T, s string) {
		h, _ := ParseHost(strings.NewReader(s))
		d := For(pod("ns", corev1.DNSDefault, false, nil), Kubelet{Host: h, HostFile: true})
		if len(d.Nameservers) > MaxNameservers || len(d.Searches) > MaxSearchPaths || len(strings.Join(d.Searches, " ")) > MaxSearchListChars {
			t.Fatalf("limits not applied: %+v", d)
		}
	})
}

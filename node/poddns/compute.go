package poddns

import (
	"fmt"
	"net/netip"
	"slices"
	"strings"

	corev1 "k8s.io/api/core/v1"
)

// For returns pod's resolver configuration on a node whose kubelet is k.
// An unknown dnsPolicy is treated as ClusterFirst, as the kubelet does.
func For(pod *corev1.Pod, k Kubelet) DNS {
	d := DNS{
		Nameservers: slices.Clone(k.Host.Nameservers),
		Searches:    slices.Clone(k.Host.Searches),
		Options:     slices.Clone(k.Host.Options),
	}
	switch policy(pod) {
	case corev1.DNSNone:
		d = DNS{}
	case corev1.DNSClusterFirst:
		if len(k.ClusterDNS) > 0 {
			d.Nameservers = slices.Clone(k.ClusterDNS)
			d.Searches = clusterSearches(d.Searches, pod.Namespace, k.ClusterDomain)
			d.Options = slices.Clone(DefaultOptions)
			break
		}
		d.Warnings = append(d.Warnings, "the kubelet has no cluster DNS: ClusterFirst falls back to Default")
		d.hostDefault(k)
	default:
		d.hostDefault(k)
	}
	if c := pod.Spec.DNSConfig; c != nil {
		d.Nameservers = omitDuplicates(append(d.Nameservers, c.Nameservers...))
		d.Searches = omitDuplicates(append(d.Searches, c.Searches...))
		d.Options = mergeOptions(d.Options, c.Options)
	}
	d.fitLimits()
	return d
}

// policy is the effective policy: ClusterFirst, Default or None.
func policy(pod *corev1.Pod) corev1.DNSPolicy {
	switch pod.Spec.DNSPolicy {
	case corev1.DNSNone:
		return corev1.DNSNone
	case corev1.DNSClusterFirstWithHostNet:
		return corev1.DNSClusterFirst
	case corev1.DNSDefault:
		return corev1.DNSDefault
	case corev1.DNSClusterFirst:
		if pod.Spec.HostNetwork {
			return corev1.DNSDefault
		}
	}
	return corev1.DNSClusterFirst
}

// hostDefault is the Default policy's base when the kubelet has no
// resolv.conf: loopback nameservers (one per node address family) and a
// search list of "." that turns searching off.
func (d *DNS) hostDefault(k Kubelet) {
	if k.HostFile {
		return
	}
	for _, ip := range k.NodeIPs {
		if a, err := netip.ParseAddr(ip); err == nil && a.Is6() && !a.Is4In6() {
			d.Nameservers = append(d.Nameservers, "::1")
		} else {
			d.Nameservers = append(d.Nameservers, "127.0.0.1")
		}
	}
	if len(d.Nameservers) == 0 {
		d.Nameservers = []string{"127.0.0.1"}
	}
	d.Searches = []string{"."}
}

// clusterSearches puts the cluster's search domains before the node's.
func clusterSearches(host []string, ns, domain string) []string {
	if domain == "" {
		return host
	}
	s := []string{ns + ".svc." + domain, "svc." + domain, domain}
	return omitDuplicates(append(s, host...))
}

func omitDuplicates(s []string) []string {
	var out []string
	seen := make(map[string]bool, len(s))
	for _, v := range s {
		if !seen[v] {
			seen[v] = true
			out = append(out, v)
		}
	}
	return out
}

// mergeOptions overrides existing options by name with the pod's. The
// kubelet rebuilds the list from a map (in random order); this keeps the
// existing order and appends new names in the pod's order, so the set is the
// kubelet's and the order is stable.
func mergeOptions(existing []string, pod []corev1.PodDNSConfigOption) []string {
	type opt struct{ name, value string }
	var opts []opt
	set := func(name, value string) {
		for i := range opts {
			if opts[i].name == name {
				opts[i].value = value
				return
			}
		}
		opts = append(opts, opt{name, value})
	}
	for _, o := range existing {
		name, value, _ := strings.Cut(o, ":")
		set(name, value)
	}
	for _, o := range pod {
		v := ""
		if o.Value != nil {
			v = *o.Value
		}
		set(o.Name, v)
	}
	out := make([]string, 0, len(opts))
	for _, o := range opts {
		if o.value != "" {
			out = append(out, o.name+":"+o.value)
		} else {
			out = append(out, o.name)
		}
	}
	return out
}

// fitLimits cuts the configuration to the resolver's limits as the kubelet
// does, recording a warning for each cut.
func (d *DNS) fitLimits() {
	if len(d.Nameservers) > MaxNameservers {
		d.Nameservers = d.Nameservers[:MaxNameservers]
		d.Warnings = append(d.Warnings, "nameserver limits were exceeded, the applied nameserver line is: "+strings.Join(d.Nameservers, " "))
	}
	cut := false
	if len(d.Searches) > MaxSearchPaths {
		d.Searches, cut = d.Searches[:MaxSearchPaths], true
	}
	kept := d.Searches[:0]
	for _, s := range d.Searches {
		if len(s) > MaxSearchDomainLen {
			cut = true
			continue
		}
		kept = append(kept, s)
	}
	d.Searches = kept
	if n := len(strings.Join(d.Searches, " ")); n > MaxSearchListChars {
		// Drop domains from the end until the line fits.
		i := len(d.Searches)
		for i > 0 && n > MaxSearchListChars {
			i--
			n -= len(d.Searches[i]) + 1
		}
		d.Searches, cut = d.Searches[:i], true
	}
	if cut {
		d.Warnings = append(d.Warnings, fmt.Sprintf("search line limits were exceeded, the applied search line is: %s", strings.Join(d.Searches, " ")))
	}
	if len(d.Searches) == 0 {
		d.Searches = nil
	}
}

// Package poddns computes a pod's DNS context the way the kubelet does: from
// the Pod's dnsPolicy and dnsConfig, the kubelet's cluster DNS addresses and
// cluster domain, and the node's resolv.conf, it gives the nameservers,
// search list and options the pod's /etc/resolv.conf holds.
//
// The rules are those of the kubelet's pkg/kubelet/network/dns (Kubernetes
// 1.37): ClusterFirst (and ClusterFirstWithHostNet) pods get the cluster DNS
// as their only nameservers, "<ns>.svc.<domain> svc.<domain> <domain>"
// followed by the node's search domains, and "ndots:5"; a ClusterFirst pod on
// the host network, a Default pod, and a ClusterFirst pod on a kubelet
// without cluster DNS get the node's resolv.conf; None starts empty. The
// Pod's dnsConfig is appended (duplicates dropped, options overriding by
// name), and the result is cut to the resolver's limits: 3 nameservers, 32
// search domains, none longer than 253 characters, 2048 characters in all.
//
// Node mode uses the result as each pod's engine context (Context) and tests
// check it against the resolv.conf that Render writes, read back by
// resolvconf.
package poddns

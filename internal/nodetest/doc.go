// Package nodetest builds a simulated Kubernetes node for node mode's kernel
// tests: a network namespace standing for the node (never the machine's
// own), holding a bridge, the cluster DNS (a counting upstream on the
// bridge's address) and whatever the test runs there; and pod network
// namespaces created exactly as a container runtime creates them, through
// libcni with a conflist chaining Debian's bridge and host-local plugins and
// meshdns-cni. Each pod's resolv.conf is the one the kubelet would write
// (node/poddns), bind-mounted by `ip netns exec` for the pod's clients.
package nodetest

// Package node brings up one real Kubernetes node for tests and runs
// meshdns in real pods on it, as a sidecar (the shipped kustomize
// component) and as the node agent (manifests/node, its CNI plugin chained
// into the node's conflist and run by containerd): the in-process kube-apiserver (package
// kubetest), containerd v2.4.2 with the bridge CNI plugin and runc, and a
// kubelet v1.37.2 registered as a Node, all inside a network namespace the
// test creates for the node.
//
// The test binary re-executes itself inside that namespace (Main): the
// outer process creates the namespace and a cgroup parent for the pods,
// saves the global sysctls the kubelet changes, and after the inner one has
// exited kills whatever is left in the namespace and the cgroups, removes
// them, restores the sysctls and checks that nothing of the node remains.
// The inner process also has a mount namespace of its own, so every mount
// the kubelet and containerd make dies with the node.
//
// The kubelet and containerd are built from the module proxy at pinned
// versions into a cache directory (Binaries); the images are written
// without a registry from the build (the meshdns binary with
// cap_net_admin+ep, the iptables tools of this machine, the meshdns-cni
// installer, a Go resolver client, a pause program) and imported with ctr
// (Images).
package node

// Package podwatch watches the Pods of one node (a field selector on
// spec.nodeName, so the agent's watch does not grow with the cluster) and
// the cluster's Namespaces (names and labels only), and looks pods up by
// namespace and name: for node mode's per-pod DNS context (dnsPolicy,
// dnsConfig) and for the capture decision (Captured: the
// meshdns.io/dns-capture label of the pod or of its namespace).
package podwatch

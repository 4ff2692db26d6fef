// Package podwatch watches the Pods of one node (a field selector on
// spec.nodeName, so the agent's watch does not grow with the cluster) and
// looks them up by namespace and name, for node mode's per-pod DNS context
// (dnsPolicy, dnsConfig).
package podwatch

// Package pods is node mode's per-pod registry: for each pod network
// namespace meshdns-cni reports (or the agent recovers on start) it computes
// the pod's DNS context (node/poddns) and starts one Server for it, through
// a StartFunc that cmd/meshdns supplies (an engine bound to a queue consumer
// opened inside the pod's namespace); a deletion stops that Server, which
// releases everything it held. Pods are keyed by sandbox (container ID); at
// most Config.MaxPods are served at once.
package pods

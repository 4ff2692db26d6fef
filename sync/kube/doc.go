// Package kube is the API server name source: Services and EndpointSlices
// (discovery.k8s.io/v1), read through client-go's Reflector writing into
// the source's watchers (watch.go), and Istio ServiceEntries, read through the dynamic client
// and informers, turned into model.Objects.
//
// Source implements model.Source. Run hands out nothing until every
// watcher and informer has synced (the caller passes all packets through
// until then; Synced reports it); its first update is then a complete copy
// of the object lists. After that, bursts of changes are coalesced: the
// first change arms a Debounce timer (50 ms); the changes after it join
// the update it sends without waking the source (a sustained churn costs
// one wake-up per update, not per change); then one update carries a delta
// (model.Objects.Changes, delta.go): the latest version of each object
// that changed, nil for one deleted, and all ServiceEntries when one
// changed. model.Incremental applies it at the cost of the objects it
// names.
//
// The source keeps no Service or EndpointSlice once it has handed it over
// (watch.go): its watchers remember only each object's key and
// resourceVersion, which is enough to drop the unchanged objects a relist
// replays and to see the ones a relist lacks as deleted. The consumer
// keeps what it needs. ServiceEntries (a cluster holds few) stay in their
// informers' caches.
//
// ServiceEntries are read at networking.istio.io/v1, or v1beta1 when the
// server does not serve v1, chosen through discovery. When neither is served
// (no Istio CRD) the source has no ServiceEntries; it looks again every
// CRDRecheck and starts watching them when the CRD appears.
//
// Transforms in the watchers and the informers' queues shrink every decoded
// object to what the name table needs (no managedFields, annotations,
// status, owner references, topology), so a large cluster costs little
// memory.
//
// API trouble is logged and counted through the Observer: failed requests
// (transport errors, 429, 5xx: an API server restarting or unreachable) by
// a wrapper around the client transport, with one log line when a resource
// starts failing and one when it recovers; errors the reflectors report
// (expired resource versions, denials) by their watch error handlers. The
// watchers and informers retry with backoff on their own, and the last
// table keeps serving meanwhile: Synced stays true once reached.
package kube

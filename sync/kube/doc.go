// Package kube is the API server name source: client-go informers for
// Services, EndpointSlices (discovery.k8s.io/v1) and, through the dynamic
// client, Istio ServiceEntries, turned into model.Objects.
//
// Source implements model.Source. Run hands out nothing until every
// informer has synced (the caller passes all packets through until then;
// Synced reports it); its first update is then a complete copy of the
// object lists. After that, bursts of changes are coalesced: the first
// change arms a Debounce timer (50 ms); the changes after it join the
// update it sends without waking the source (a sustained churn costs one
// wake-up per update, not per change); then one update carries a delta (model.Objects.Changes, delta.go): the current version
// of each object the event handlers saw change, nil for one deleted, and
// all ServiceEntries when one changed. model.Incremental applies it at the
// cost of the objects it names. Objects in an update are shared with the
// informer caches and must be treated as read-only.
//
// ServiceEntries are read at networking.istio.io/v1, or v1beta1 when the
// server does not serve v1, chosen through discovery. When neither is served
// (no Istio CRD) the source has no ServiceEntries; it looks again every
// CRDRecheck and starts watching them when the CRD appears.
//
// Informer transforms shrink every object to what the name table needs
// (no managedFields, annotations, status, owner references, topology), so a
// large cluster costs little memory.
//
// API trouble is logged and counted through the Observer: failed requests
// (transport errors, 429, 5xx: an API server restarting or unreachable) by
// a wrapper around the client transport, with one log line when a resource
// starts failing and one when it recovers; errors the informers report
// (expired resource versions, denials) by their watch error handlers. The
// informers retry with backoff on their own, and the last table keeps
// serving meanwhile: Synced stays true once reached.
package kube

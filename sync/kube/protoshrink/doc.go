// Package protoshrink decodes Services and EndpointSlices (and their Lists)
// from the API server's protobuf straight into the small form
// sync/model keeps (model.ShrinkService, model.ShrinkEndpointSlice): only
// the fields the shrink keeps are read into new strings; every other field
// is walked over in place, checked as the generated decoder would check
// it, and dropped. It plugs into client-go as a NegotiatedSerializer
// (NewNegotiatedSerializer) whose protobuf serializer tries this decoder
// first and hands everything else to the standard serializer: other types,
// JSON, a decode into a given object, and any input it does not take in
// full (a malformed or odd encoding, an envelope it does not know), so
// errors and odd cases are decoded, or refused, exactly as before.
//
// The standard path decodes every field of an object (managedFields,
// annotations, owner and target references, each string allocated), after
// copying the object's bytes out of the watch event and again out of the
// runtime.Unknown envelope, and the queue's transform then throws nearly
// all of it away.
package protoshrink

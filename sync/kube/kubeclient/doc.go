// Package kubeclient lists and watches the few Kubernetes resources meshdns
// reads (Services, EndpointSlices, Pods, Namespaces) and asks the API
// server which versions of a group it serves, through REST clients whose
// scheme holds core/v1 and discovery.k8s.io/v1 only.
//
// client-go's typed clientset, its informer factory and its discovery
// client all register every API group of Kubernetes (about fifty) in
// client-go's shared scheme: linked into the meshdns binary they cost every
// pod about 9 MiB of RSS, whichever source it reads names from. Interface is
// the narrow view the name source (sync/kube) and the node agent's pod
// watch (node/podwatch) need; Client implements it for an API server, and
// kubeclienttest adapts client-go's fake clientset to it for tests.
//
// Services and EndpointSlices travel as protobuf: smaller and cheaper to
// decode than JSON.
package kubeclient

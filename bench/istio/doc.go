// Command meshdns-bench-istio runs Istio's own DNS proxy code
// (istio.io/istio/pkg/dns/client.LocalDNSServer, the code istio-agent runs in
// every sidecar with ISTIO_META_DNS_CAPTURE=true) as a benchmark contender.
//
// It reads the same objects file meshdns loads (a kubectl List or a
// multi-document YAML/JSON stream of Services, EndpointSlices and
// ServiceEntries), builds the Istio NameTable the way istiod's
// pkg/dns/server.BuildNameTable does for a sidecar whose scope sees every
// namespace, and serves it on localhost:15053 (127.0.0.1 and ::1, by the
// families of the resolv.conf nameservers) over UDP and TCP.
//
// Like the agent it reads its upstream servers and search list from
// /etc/resolv.conf: the benchmark harness starts it with `ip netns exec`,
// which bind-mounts the pod namespace's resolv.conf there, and as uid 1337 so
// that istio-init's owner match exempts its upstream queries from the
// REDIRECT.
//
// It lives in its own Go module so that the meshdns module never depends on
// Istio.
package main

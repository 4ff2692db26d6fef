// Package contender starts and stops the systems the benchmark measures
// inside the pod namespace, and the upstream server ("cluster DNS") in the
// upstream namespace.
//
// A Contender starts an Instance: the processes that answer the pod's
// queries (their CPU time is what the benchmark charges per query) and the
// packet rules that route queries to them. Contenders that listen on
// 127.0.0.1:15053 (istio, coredns-nodelocal, dnsmasq-local) get the nat
// REDIRECT and conntrack-zone rules istio-init installs, and run as uid
// 1337 so that the owner match exempts their own upstream queries. meshdns
// installs its own rules. direct has neither: the client talks to the
// upstream itself.
//
// Adding a contender: implement Contender (Name and Start) in a file of
// its own, and add it to Registry in registry.go.
package contender

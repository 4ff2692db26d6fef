// Package apiservertest holds meshdns's tests against a real kube-apiserver
// with an embedded etcd, started inside the test process (no containers, no
// downloaded binaries). It is a nested Go module so that a plain
// `go test ./...` of the main module does not pay for building Kubernetes:
// the first build of this test binary takes about 15-20 minutes and 3 GB of
// memory on two cores; later builds take seconds.
//
//	cd sync/kube/apiservertest && go test -count=1 -timeout 60m ./...
//
// (`make test-apiserver` from the repository root.) Do not build it with
// -trimpath: the test server finds its certificate fixtures through
// runtime.Caller.
//
// The tests cover the API server name source (sync/kube) end to end:
// objects written through the API become answers of the DNS engine, the
// time from write to answer is measured, answers survive an API server
// restart, the project's ClusterRole is enough and no more, and every
// manifest applies to the server. One test (kernel_test.go) runs the meshdns
// binary with --kubeconfig in a pod network namespace (internal/podtest; it
// needs root, or MESHDNS_SKIP_KERNEL=1 to skip) and checks and times the
// answers through the kernel path.
//
// The benchmarks (run only with -bench, never by `make test-apiserver`)
// measure `meshdns run` reading the real API server: its memory
// (BenchmarkSourceRSS), its CPU and latency under EndpointSlice churn
// (BenchmarkSourceChurn), its CPU with no DNS traffic
// (BenchmarkSourceIdle), and the node agent against one sidecar per pod
// (BenchmarkNodeScale).
package apiservertest

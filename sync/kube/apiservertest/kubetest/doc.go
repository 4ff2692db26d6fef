// Package kubetest starts a real kube-apiserver with an embedded etcd inside
// a Go test, as Kubernetes' own integration tests do: the API server tests
// of sync/kube/apiservertest and the real node of its node package share it.
package kubetest

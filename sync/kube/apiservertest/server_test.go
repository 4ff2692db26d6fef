package apiservertest

import (
	"testing"

	"k8s.io/client-go/kubernetes"

	"github.com/meshdns/meshdns/sync/kube/apiservertest/kubetest"
)

var (
	startEtcd    = kubetest.StartEtcd
	adminConfig  = kubetest.AdminConfig
	startProxy   = kubetest.StartProxy
	startProxyOn = kubetest.StartProxyOn
)

const adminToken = kubetest.AdminToken

func startAPIServer(t *testing.T, o kubetest.Options) *kubetest.APIServer {
	t.Helper()
	return kubetest.StartAPIServer(t, o)
}

func waitNamespace(t *testing.T, cs kubernetes.Interface, ns string) {
	t.Helper()
	kubetest.WaitNamespace(t, cs, ns)
}

func repoRoot(t *testing.T) string {
	t.Helper()
	return kubetest.RepoRoot(t, ".")
}

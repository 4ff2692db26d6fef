package node

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"

	"github.com/meshdns/meshdns/sync/kube/apiservertest/kubetest"
)

// NodeName is the Node the kubelet registers.
const NodeName = "mdt-node"

// ClusterDomain is the kubelet's clusterDomain.
const ClusterDomain = "cluster.local"

// kubeletConfig is the KubeletConfiguration for this host: cgroup v1
// without systemd (failCgroupV1: false, cgroupfs), no swap check, the
// pods' cgroups under cgroupRoot, clusterDNS/clusterDomain as pods see
// them, a resolv.conf the test writes, eviction thresholds a shared build
// machine does not trip, and the API on 127.0.0.1 only with authorization
// off (test only).
func kubeletConfig(dir, cgroupRoot string) string {
	r := strings.NewReplacer("DIR", dir, "CGROUPROOT", cgroupRoot, "CLUSTERDNS", ClusterDNS, "DOMAIN", ClusterDomain)
	return r.Replace(`apiVersion: kubelet.config.k8s.io/v1beta1
kind: KubeletConfiguration
address: 127.0.0.1
port: 10250
readOnlyPort: 0
healthzBindAddress: 127.0.0.1
healthzPort: 10248
authentication:
  anonymous:
    enabled: false
  webhook:
    enabled: false
authorization:
  mode: AlwaysAllow
failSwapOn: false
failCgroupV1: false
cgroupDriver: cgroupfs
cgroupRoot: CGROUPROOT
registerNode: true
clusterDNS: [CLUSTERDNS]
clusterDomain: DOMAIN
resolvConf: DIR/resolv.conf
podLogsDir: DIR/pod-logs
containerRuntimeEndpoint: unix://DIR/containerd.sock
evictionHard:
  nodefs.available: "1%"
  nodefs.inodesFree: "1%"
  imagefs.available: "1%"
  memory.available: "50Mi"
imageGCHighThresholdPercent: 100
imageGCLowThresholdPercent: 99
maxPods: 20
nodeStatusUpdateFrequency: 2s
syncFrequency: 10s
`)
}

func kubeconfig(apiAddr string) string {
	return `apiVersion: v1
kind: Config
clusters:
- name: local
  cluster:
    server: https://` + apiAddr + `
    insecure-skip-tls-verify: true
users:
- name: admin
  user:
    token: ` + kubetest.AdminToken + `
contexts:
- name: local
  context: {cluster: local, user: admin}
current-context: local
`
}

func startKubelet(t testing.TB, b Binaries, dir, cgroupRoot, apiAddr string, cs kubernetes.Interface) *process {
	t.Helper()
	files := map[string]string{
		"kubelet.yaml":    kubeletConfig(dir, cgroupRoot),
		"kubeconfig.yaml": kubeconfig(apiAddr),
		// The node's own resolver: the pods' ClusterFirst DNS adds no
		// search domains of the node's.
		"resolv.conf": "nameserver " + ClusterDNS + "\n",
	}
	for name, content := range files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	p := startProcess(t, "kubelet", filepath.Join(dir, "kubelet.log"), b.Kubelet,
		"--config", filepath.Join(dir, "kubelet.yaml"),
		"--kubeconfig", filepath.Join(dir, "kubeconfig.yaml"),
		"--root-dir", filepath.Join(dir, "kubelet"),
		"--hostname-override", NodeName,
		"--node-ip", NodeIP,
		"--v", "2",
	)
	err := waitFor(context.Background(), 120*time.Second, "node "+NodeName+" Ready", func(ctx context.Context) (bool, error) {
		if p.exited() {
			t.Fatalf("kubelet exited:\n%s", p.tail())
		}
		n, err := cs.CoreV1().Nodes().Get(ctx, NodeName, metav1.GetOptions{})
		if err != nil {
			return false, err
		}
		for _, c := range n.Status.Conditions {
			if c.Type == corev1.NodeReady && c.Status == corev1.ConditionTrue {
				return true, nil
			}
		}
		return false, nil
	})
	if err != nil {
		t.Fatalf("%v\n%s", err, p.tail())
	}
	return p
}

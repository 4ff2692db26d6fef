package node

import (
	"context"
	"crypto/tls"
	"encoding/pem"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"

	"github.com/meshdns/meshdns/internal/clusterdns"
	"github.com/meshdns/meshdns/sync/kube/apiservertest/kubetest"
)

// Node is a running node: API server, containerd, kubelet, cluster DNS.
type Node struct {
	Dir      string // the node's working directory
	RepoRoot string
	Admin    *rest.Config
	Client   kubernetes.Interface
	DNS      *clusterdns.Server // the cluster DNS at ClusterDNS:53

	api        *kubetest.APIServer
	containerd *containerd
	kubelet    *process
}

// Start brings the node up inside the namespace Main made; zone is what the
// cluster DNS serves. Everything stops with t.
func Start(t testing.TB, zone string) *Node {
	t.Helper()
	if !Inside() {
		t.Fatal("node: not inside the node's namespace (call node.Main from TestMain)")
	}
	dir, cgroupRoot := os.Getenv(envDir), os.Getenv(envCgroup)
	moduleDir := kubetest.RepoRoot(t, ".") + "/sync/kube/apiservertest"
	n := &Node{Dir: dir, RepoRoot: kubetest.RepoRoot(t, ".")}

	start := time.Now()
	bins := BuildBinaries(t, moduleDir)
	imgDir := filepath.Join(dir, "images")
	if err := os.MkdirAll(imgDir, 0o755); err != nil {
		t.Fatal(err)
	}
	tars := BuildImages(t, n.RepoRoot, moduleDir, imgDir)
	t.Logf("binaries and images ready in %v", time.Since(start).Round(time.Second))

	setupNetwork(t)

	start = time.Now()
	n.api = kubetest.StartAPIServer(t, kubetest.Options{
		EtcdURL: kubetest.StartEtcd(t), Prefix: "/meshdns-node",
		// Pods get their service account token volume; RBAC as in a
		// cluster, so the shipped ClusterRole is what lets meshdns read.
		ServiceAccounts: true,
		Flags:           []string{"--authorization-mode=RBAC"},
	})
	n.Admin = kubetest.AdminConfig(n.api.Addr)
	n.Client = kubernetes.NewForConfigOrDie(n.Admin)
	kubetest.WaitNamespace(t, n.Client, "default")
	n.publishRootCA(t, "default")
	// The `kubernetes` Service's address, as kube-proxy would route it.
	ln, err := net.Listen("tcp", net.JoinHostPort(APIVIP, "443"))
	if err != nil {
		t.Fatal(err)
	}
	kubetest.StartProxyOn(t, ln).Point(n.api.Addr)
	t.Logf("API server up in %v", time.Since(start).Round(time.Second))

	n.DNS, err = clusterdns.New(clusterdns.Config{Zone: zone})
	if err != nil {
		t.Fatal(err)
	}
	if err := n.DNS.ListenAndServe(net.JoinHostPort(ClusterDNS, "53")); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = n.DNS.Stop() })

	start = time.Now()
	n.containerd = startContainerd(t, bins, dir)
	n.containerd.importImages(t, tars, []string{ImageMeshdns, ImageIptables, ImageCNI, ImageClient, ImagePause})
	n.kubelet = startKubelet(t, bins, dir, cgroupRoot, n.api.Addr, n.Client)
	t.Logf("containerd and kubelet up, node Ready in %v", time.Since(start).Round(time.Second))
	return n
}

// setupNetwork gives the node's namespace its addresses: loopback, the
// Node's address on a bridge of its own, and the Service addresses of the
// API server and the cluster DNS (local, so pods reach them through their
// default route, the CNI bridge).
func setupNetwork(t testing.TB) {
	t.Helper()
	for _, args := range [][]string{
		{"link", "set", "lo", "up"},
		{"link", "add", "node0", "type", "bridge"},
		{"addr", "add", NodeIP + "/24", "dev", "node0"},
		{"link", "set", "node0", "up"},
		{"addr", "add", APIVIP + "/32", "dev", "lo"},
		{"addr", "add", ClusterDNS + "/32", "dev", "lo"},
	} {
		if out, err := exec.Command("ip", args...).CombinedOutput(); err != nil {
			t.Fatalf("ip %v: %v: %s", args, err, out)
		}
	}
}

// publishRootCA writes the kube-root-ca.crt ConfigMap the pods' token
// volume reads (the controller-manager's job in a cluster): the
// certificates the API server presents to a client that sends no server
// name, as in-cluster clients dialling 10.0.0.1 do (its self-signed
// certificate names 10.0.0.1 and kubernetes.default.svc).
func (n *Node) publishRootCA(t testing.TB, ns string) {
	t.Helper()
	c, err := tls.Dial("tcp", n.api.Addr, &tls.Config{InsecureSkipVerify: true})
	if err != nil {
		t.Fatal(err)
	}
	var ca []byte
	for _, cert := range c.ConnectionState().PeerCertificates {
		ca = append(ca, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: cert.Raw})...)
	}
	c.Close()
	cm := &corev1.ConfigMap{
		ObjectMeta: metav1.ObjectMeta{Name: "kube-root-ca.crt", Namespace: ns},
		Data:       map[string]string{"ca.crt": string(ca)},
	}
	_, err = n.Client.CoreV1().ConfigMaps(ns).Create(context.Background(), cm, metav1.CreateOptions{})
	if err != nil && !apierrors.IsAlreadyExists(err) {
		t.Fatal(err)
	}
}

package nodetest

import (
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"testing"

	"github.com/containernetworking/cni/libcni"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"

	"github.com/meshdns/meshdns/internal/clusterdns"
	"github.com/meshdns/meshdns/internal/netns"
	"github.com/meshdns/meshdns/internal/netns/netnstest"
	"github.com/meshdns/meshdns/internal/podtest"
	"github.com/meshdns/meshdns/node/poddns"
)

// Addresses of the simulated node: pods get 198.19.53.0/24 from host-local,
// the bridge (and the cluster DNS on it) is .1.
var (
	Subnet     = netip.MustParsePrefix("198.19.53.0/24")
	ClusterDNS = netip.MustParseAddr("198.19.53.1")
)

// ClusterDomain is the simulated kubelet's --cluster-domain.
const ClusterDomain = "cluster.local"

// DebianPlugins is where Debian's containernetworking-plugins are.
const DebianPlugins = "/usr/lib/cni"

// Config describes a Node.
type Config struct {
	// Zone is the cluster DNS's zone-file text (names it answers).
	Zone string
	// Socket is the agent socket meshdns-cni is configured with; empty
	// means <Dir>/meshdns.sock.
	Socket string
	// Cache sets meshdns-cni's cache option (answers queued for learning).
	Cache bool
}

// Node is the simulated node.
type Node struct {
	// NS is the node's network namespace name.
	NS string
	// Dir holds the CNI binaries, configuration, caches and sockets.
	Dir    string
	Socket string
	// Upstream is the cluster DNS, on ClusterDNS:53 in the node namespace.
	Upstream *clusterdns.Server
	// Kubelet is the simulated kubelet's DNS configuration.
	Kubelet poddns.Kubelet

	prefix string
	cni    *libcni.CNIConfig
	list   *libcni.NetworkConfigList
	mu     sync.Mutex
	n      int
}

// Pod is a pod namespace the runtime created.
type Pod struct {
	*podtest.Pod
	// Object is the Pod as the API server would hold it.
	Object *corev1.Pod
	// NS is the pod's network namespace name; Path its handle.
	NS, Path    string
	ContainerID string
	IP          netip.Addr
	rt          *libcni.RuntimeConf
}

// New builds the node and removes it when t ends.
func New(t testing.TB, cfg Config) *Node {
	t.Helper()
	netnstest.RequireRoot(t)
	prefix, err := netns.RandomPrefix()
	if err != nil {
		t.Fatal(err)
	}
	n := &Node{NS: netns.NamePrefix + prefix + "-node", Dir: t.TempDir(), prefix: prefix}
	n.Socket = cfg.Socket
	if n.Socket == "" {
		n.Socket = filepath.Join(n.Dir, "meshdns.sock")
	}
	addNS(t, n.NS)
	br := "mdb" + prefix
	if len(br) > 15 {
		br = br[:15]
	}
	netnstest.Run(t, "ip", "-n", n.NS, "link", "add", br, "type", "bridge")
	netnstest.Run(t, "ip", "-n", n.NS, "addr", "add", ClusterDNS.String()+"/24", "dev", br)
	netnstest.Run(t, "ip", "-n", n.NS, "link", "set", br, "up")

	bin := filepath.Join(n.Dir, "bin")
	if err := os.MkdirAll(bin, 0o755); err != nil {
		t.Fatal(err)
	}
	podtest.BuildCmd(t, "./cmd/meshdns-cni", bin)
	n.cni = libcni.NewCNIConfigWithCacheDir([]string{bin, DebianPlugins}, n.CacheDir(), nil)
	conf := map[string]any{
		"cniVersion": "1.0.0",
		"name":       "mdt-node",
		"plugins": []any{
			map[string]any{
				"type": "bridge", "bridge": br, "isGateway": true, "ipMasq": false,
				"ipam": map[string]any{
					"type": "host-local", "dataDir": filepath.Join(n.Dir, "ipam"),
					"ranges": []any{[]any{map[string]any{"subnet": Subnet.String(), "gateway": ClusterDNS.String()}}},
				},
			},
			map[string]any{"type": "meshdns-cni", "agentSocket": n.Socket, "nameservers": []string{ClusterDNS.String()}, "cache": cfg.Cache, "tcpResets": true},
		},
	}
	b, _ := json.Marshal(conf)
	if n.list, err = libcni.ConfListFromBytes(b); err != nil {
		t.Fatal(err)
	}

	n.Upstream, err = clusterdns.New(clusterdns.Config{Zone: cfg.Zone})
	if err != nil {
		t.Fatal(err)
	}
	udp, err := netns.ListenUDP(n.NS, "udp4", ClusterDNS.String()+":53")
	if err != nil {
		t.Fatal(err)
	}
	tcp, err := netns.ListenTCP(n.NS, "tcp4", ClusterDNS.String()+":53")
	if err != nil {
		t.Fatal(err)
	}
	if err := n.Upstream.Serve([]net.PacketConn{udp}, []net.Listener{tcp}); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { n.Upstream.Stop() })
	n.Kubelet = poddns.Kubelet{ClusterDNS: []string{ClusterDNS.String()}, ClusterDomain: ClusterDomain,
		Host: poddns.Host{Nameservers: []string{ClusterDNS.String()}}, HostFile: true}
	return n
}

// NewPodObject returns a ClusterFirst Pod bound to this node.
func NewPodObject(namespace, name string) *corev1.Pod {
	return &corev1.Pod{
		TypeMeta:   metav1.TypeMeta{APIVersion: "v1", Kind: "Pod"},
		ObjectMeta: metav1.ObjectMeta{Namespace: namespace, Name: name, UID: types.UID("uid-" + namespace + "-" + name)},
		Spec:       corev1.PodSpec{NodeName: "mdt-node", DNSPolicy: corev1.DNSClusterFirst},
	}
}

// AddPod creates obj's network namespace and runs the CNI ADD of the
// conflist in the node namespace, as the runtime does for a new sandbox. The
// namespace is removed when t ends (after a DEL when the test did not run
// one).
func (n *Node) AddPod(t testing.TB, obj *corev1.Pod) *Pod {
	t.Helper()
	p, err := n.TryAddPod(obj)
	if p != nil {
		t.Cleanup(func() {
			_ = n.DelPod(p)
			removeNS(p.NS)
		})
	}
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// TryAddPod is AddPod returning the error; a non-nil Pod must be removed
// by the caller (DelPod, then its namespace).
func (n *Node) TryAddPod(obj *corev1.Pod) (*Pod, error) {
	n.mu.Lock()
	n.n++
	i := n.n
	n.mu.Unlock()
	p := &Pod{Object: obj, NS: fmt.Sprintf("%s%s-p%d", netns.NamePrefix, n.prefix, i), ContainerID: fmt.Sprintf("mdt%s%04d", n.prefix, i)}
	p.Path = netns.Path(p.NS)
	if out, err := exec.Command("ip", "netns", "add", p.NS).CombinedOutput(); err != nil {
		return nil, fmt.Errorf("ip netns add %s: %v: %s", p.NS, err, out)
	}
	p.Pod = podtest.InNamespace(p.NS)
	if out, err := exec.Command("ip", "-n", p.NS, "link", "set", "lo", "up").CombinedOutput(); err != nil {
		return p, fmt.Errorf("lo up: %v: %s", err, out)
	}
	rc := poddns.For(obj, n.Kubelet).Render()
	dir := filepath.Join(netns.EtcDir, p.NS)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return p, err
	}
	if err := os.WriteFile(filepath.Join(dir, "resolv.conf"), []byte(rc), 0o644); err != nil {
		return p, err
	}
	p.rt = &libcni.RuntimeConf{ContainerID: p.ContainerID, NetNS: p.Path, IfName: "eth0", Args: [][2]string{
		{"IgnoreUnknown", "1"}, {"K8S_POD_NAMESPACE", obj.Namespace}, {"K8S_POD_NAME", obj.Name},
		{"K8S_POD_INFRA_CONTAINER_ID", p.ContainerID}, {"K8S_POD_UID", string(obj.UID)},
	}}
	var res string
	err := netns.Do(n.NS, func() error {
		r, err := n.cni.AddNetworkList(context.Background(), n.list, p.rt)
		if err != nil {
			return err
		}
		b, _ := json.Marshal(r)
		res = string(b)
		return nil
	})
	if err != nil {
		return p, fmt.Errorf("CNI ADD %s: %w", p.NS, err)
	}
	var parsed struct {
		IPs []struct{ Address string } `json:"ips"`
	}
	_ = json.Unmarshal([]byte(res), &parsed)
	if len(parsed.IPs) == 0 {
		return p, fmt.Errorf("CNI ADD %s: no IP in the result %s", p.NS, res)
	}
	pfx, err := netip.ParsePrefix(parsed.IPs[0].Address)
	if err != nil {
		return p, err
	}
	p.IP = pfx.Addr()
	return p, nil
}

// DelPod runs the CNI DEL for p, as the runtime does when the sandbox goes
// (its namespace may already be gone).
func (n *Node) DelPod(p *Pod) error {
	if p.rt == nil {
		return nil
	}
	return netns.Do(n.NS, func() error { return n.cni.DelNetworkList(context.Background(), n.list, p.rt) })
}

// RemoveNS deletes p's network namespace (as the runtime does after DEL,
// or before it when a node reboots).
func (p *Pod) RemoveNS() { removeNS(p.NS) }

// Rules returns what the pod's iptables (nft backend) hold.
func (p *Pod) Rules(t testing.TB) string {
	t.Helper()
	return netnstest.Run(t, "ip", "netns", "exec", p.NS, "iptables-save")
}

func addNS(t testing.TB, ns string) {
	t.Helper()
	netnstest.Run(t, "ip", "netns", "add", ns)
	t.Cleanup(func() { removeNS(ns) })
	netnstest.Run(t, "ip", "-n", ns, "link", "set", "lo", "up")
}

func removeNS(ns string) {
	if netns.Exists(ns) {
		_ = exec.Command("ip", "netns", "del", ns).Run()
	}
	_ = os.RemoveAll(filepath.Join(netns.EtcDir, ns))
}

package node

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// Addresses of the node's network, all inside the node's namespace.
const (
	PodCIDR    = "10.88.0.0/24" // the bridge CNI's pods
	PodGateway = "10.88.0.1"    // cni0, the pods' default route
	NodeIP     = "10.77.0.1"    // the Node's InternalIP (bridge node0)
	APIVIP     = "10.0.0.1"     // the `kubernetes` Service's ClusterIP, served by a proxy
	ClusterDNS = "10.0.0.10"    // the kubelet's clusterDNS, served by the test upstream
)

// containerdConfig is containerd's configuration (version 3) with every
// path under dir: state, root, sockets, runc's root, the pods' network
// namespaces, CNI's configuration and a plugin directory of the node's own
// (searched before Debian's, which holds bridge and host-local) that a
// DaemonSet can install plugins into, as /opt/cni/bin on a node. The two host quirks of these machines:
// root lacks CAP_SYS_RESOURCE, so runc may not lower oom_score_adj
// (restrict_oom_score_adj); the cgroups are v1 without systemd.
func containerdConfig(dir, shim string) string {
	r := strings.NewReplacer("DIR", dir, "SHIMDIR", filepath.Dir(shim))
	return r.Replace(`version = 3
root = "DIR/containerd/root"
state = "DIR/containerd/state"
disabled_plugins = [
  "io.containerd.nri.v1.nri",
  "io.containerd.snapshotter.v1.devmapper",
  "io.containerd.snapshotter.v1.zfs",
  "io.containerd.snapshotter.v1.blockfile",
  "io.containerd.snapshotter.v1.erofs",
  "io.containerd.snapshotter.v1.btrfs",
  "io.containerd.differ.v1.erofs",
  "io.containerd.image-verifier.v1.bindir",
]

[grpc]
  address = "DIR/containerd.sock"

[ttrpc]
  address = "DIR/containerd.sock.ttrpc"

[plugins.'io.containerd.server.v1.debug']
  address = "DIR/debug.sock"

[plugins.'io.containerd.internal.v1.opt']
  path = "DIR/containerd/opt"

[plugins.'io.containerd.shim.v1.manager']
  socket_dir = "DIR/s"

[plugins.'io.containerd.cri.v1.images']
  snapshotter = "overlayfs"
  [plugins.'io.containerd.cri.v1.images'.pinned_images]
    sandbox = "` + ImagePause + `"

[plugins.'io.containerd.cri.v1.runtime']
  restrict_oom_score_adj = true
  netns_mounts_under_state_dir = true
  disable_apparmor = true
  [plugins.'io.containerd.cri.v1.runtime'.containerd]
    default_runtime_name = "runc"
    [plugins.'io.containerd.cri.v1.runtime'.containerd.runtimes.runc]
      runtime_type = "io.containerd.runc.v2"
      disable_pause_image_pull = true
      [plugins.'io.containerd.cri.v1.runtime'.containerd.runtimes.runc.options]
        BinaryName = "/usr/sbin/runc"
        Root = "DIR/runc"
        SystemdCgroup = false
  [plugins.'io.containerd.cri.v1.runtime'.cni]
    bin_dirs = ["DIR/cni-bin", "/usr/lib/cni"]
    conf_dir = "DIR/cni"
`)
}

// cniConfig is the bridge plugin with host-local addresses from PodCIDR:
// no masquerading, no iptables rules.
func cniConfig(dir string) string {
	return `{
  "cniVersion": "1.0.0",
  "name": "meshdns-node",
  "plugins": [{
    "type": "bridge",
    "bridge": "cni0",
    "isGateway": true,
    "ipMasq": false,
    "hairpinMode": true,
    "ipam": {
      "type": "host-local",
      "dataDir": "` + dir + `/cni-ipam",
      "ranges": [[{"subnet": "` + PodCIDR + `", "gateway": "` + PodGateway + `"}]],
      "routes": [{"dst": "0.0.0.0/0"}]
    }
  }]
}
`
}

// CNIBinDir is the node's CNI plugin directory (its /opt/cni/bin), and
// CNIConfDir its configuration directory (/etc/cni/net.d).
func CNIBinDir(dir string) string  { return filepath.Join(dir, "cni-bin") }
func CNIConfDir(dir string) string { return filepath.Join(dir, "cni") }

// NetnsDir is where containerd mounts the pods' network namespaces
// (netns_mounts_under_state_dir: the CRI plugin's state directory).
func NetnsDir(dir string) string {
	return filepath.Join(dir, "containerd", "state", "io.containerd.grpc.v1.cri", "netns")
}

// sharedNetnsDir makes the pods' network namespace directory a shared
// mount point, as `ip netns` makes /var/run/netns and as a systemd node's
// root is: a container that mounts it with HostToContainer propagation
// (the node agent) sees the namespaces of pods created after it started.
// The mount lives in the node's own mount namespace and dies with it.
func sharedNetnsDir(t testing.TB, d string) {
	t.Helper()
	if err := os.MkdirAll(d, 0o755); err != nil {
		t.Fatal(err)
	}
	for _, args := range [][]string{{"--bind", d, d}, {"--make-shared", d}} {
		if out, err := exec.Command("mount", args...).CombinedOutput(); err != nil {
			t.Fatalf("mount %v: %v: %s", args, err, out)
		}
	}
}

// containerd is the running runtime.
type containerd struct {
	*process
	sock string
	ctr  string
}

func startContainerd(t testing.TB, b Binaries, dir string) *containerd {
	t.Helper()
	cfg := filepath.Join(dir, "containerd.toml")
	for _, d := range []string{"cni", "cni-bin", "containerd", "s"} {
		if err := os.MkdirAll(filepath.Join(dir, d), 0o700); err != nil {
			t.Fatal(err)
		}
	}
	sharedNetnsDir(t, NetnsDir(dir))
	if err := os.WriteFile(cfg, []byte(containerdConfig(dir, b.Shim)), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "cni", "10-meshdns-node.conflist"), []byte(cniConfig(dir)), 0o600); err != nil {
		t.Fatal(err)
	}
	// containerd finds its shim on PATH.
	t.Setenv("PATH", filepath.Dir(b.Shim)+":"+os.Getenv("PATH"))
	p := startProcess(t, "containerd", filepath.Join(dir, "containerd.log"), b.Containerd, "--config", cfg, "--log-level", "info")
	c := &containerd{process: p, sock: filepath.Join(dir, "containerd.sock"), ctr: b.Ctr}
	err := waitFor(context.Background(), 60*time.Second, "containerd serving", func(ctx context.Context) (bool, error) {
		if p.exited() {
			return false, fmt.Errorf("containerd exited")
		}
		_, err := c.run(ctx, "version")
		return err == nil, err
	})
	if err != nil {
		t.Fatalf("%v\n%s", err, p.tail())
	}
	return c
}

// run runs ctr in the k8s.io namespace (the CRI's).
func (c *containerd) run(ctx context.Context, args ...string) (string, error) {
	out, err := exec.CommandContext(ctx, c.ctr, append([]string{"--address", c.sock, "-n", "k8s.io"}, args...)...).CombinedOutput()
	if err != nil {
		return string(out), fmt.Errorf("ctr %s: %v: %s", strings.Join(args, " "), err, out)
	}
	return string(out), nil
}

// importImages imports image tarballs and checks that each reference the
// node needs is there (unpacked into the CRI's snapshotter).
func (c *containerd) importImages(t testing.TB, tars []string, refs []string) {
	t.Helper()
	ctx := context.Background()
	for _, tar := range tars {
		if _, err := c.run(ctx, "images", "import", "--snapshotter", "overlayfs", tar); err != nil {
			t.Fatal(err)
		}
	}
	out, err := c.run(ctx, "images", "ls", "-q")
	if err != nil {
		t.Fatal(err)
	}
	have := strings.Fields(out)
	for _, ref := range refs {
		found := false
		for _, h := range have {
			if h == ref {
				found = true
			}
		}
		if !found {
			t.Fatalf("image %s not imported; containerd has %v", ref, have)
		}
	}
}

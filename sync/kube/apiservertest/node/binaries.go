package node

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"
)

// Pinned versions of the node's parts. The kubelet comes from the
// k8s.io/kubernetes version this module requires (go.mod's tool line).
const (
	KubeletVersion    = "v1.37.2"
	ContainerdVersion = "v2.4.2"
)

// Binaries are the node's programs.
type Binaries struct {
	Kubelet, Containerd, Ctr, Shim string
}

// CacheDir is where the kubelet and containerd are built once:
// $MESHDNS_NODE_CACHE, or <user cache dir>/meshdns/node-<versions>.
func CacheDir() (string, error) {
	if d := os.Getenv("MESHDNS_NODE_CACHE"); d != "" {
		return d, nil
	}
	d, err := os.UserCacheDir()
	if err != nil {
		return "", err
	}
	return filepath.Join(d, "meshdns", "node-"+KubeletVersion+"-"+ContainerdVersion), nil
}

// BuildBinaries builds the kubelet and containerd (with ctr and the runc
// shim) from the module proxy into CacheDir unless they are there already.
// A cold build takes minutes; later runs reuse the files. Main calls it in
// the machine's own network namespace, before the node's (which reaches no
// module proxy) is entered; inside, it finds the files built.
func BuildBinaries(t testing.TB, moduleDir string) Binaries {
	t.Helper()
	b, err := buildBinaries(t.Logf, moduleDir)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func buildBinaries(logf func(string, ...any), moduleDir string) (Binaries, error) {
	dir, err := CacheDir()
	if err != nil {
		return Binaries{}, err
	}
	b := Binaries{
		Kubelet:    filepath.Join(dir, "kubelet"),
		Containerd: filepath.Join(dir, "containerd"),
		Ctr:        filepath.Join(dir, "ctr"),
		Shim:       filepath.Join(dir, "containerd-shim-runc-v2"),
	}
	const tags = "no_btrfs urfave_cli_no_docs"
	const pkg = "github.com/containerd/containerd/v2/cmd/"
	steps := []struct {
		out  string
		dir  string
		env  []string
		args []string
	}{
		// The module requires k8s.io/kubernetes at KubeletVersion.
		{b.Kubelet, moduleDir, nil, []string{"build", "-o", b.Kubelet, "k8s.io/kubernetes/cmd/kubelet"}},
		{b.Containerd, "", []string{"GOBIN=" + dir}, []string{"install", "-tags", tags, pkg + "containerd@" + ContainerdVersion, pkg + "ctr@" + ContainerdVersion}},
		{b.Shim, "", []string{"GOBIN=" + dir}, []string{"install", "-tags", tags + " no_grpc", pkg + "containerd-shim-runc-v2@" + ContainerdVersion}},
	}
	for _, s := range steps {
		if _, err := os.Stat(s.out); err == nil {
			continue
		}
		start := time.Now()
		logf("building %s (cold: minutes)", filepath.Base(s.out))
		if err := goRun(s.dir, s.env, s.args...); err != nil {
			return Binaries{}, err
		}
		logf("built %s in %v", filepath.Base(s.out), time.Since(start).Round(time.Second))
	}
	if _, err := os.Stat(b.Ctr); err != nil {
		return Binaries{}, err
	}
	return b, nil
}

// prepare does, in the machine's own network namespace, what needs the
// module proxy: the node's binaries, and the image tool's modules (a
// module of its own). moduleDir is the API-server test module.
func prepare(moduleDir string) error {
	logf := func(f string, a ...any) { fmt.Printf("node: "+f+"\n", a...) }
	if _, err := buildBinaries(logf, moduleDir); err != nil {
		return err
	}
	return goRun(filepath.Join(moduleDir, "node", "imagetool"), nil, "mod", "download")
}

// goCmd runs the go command.
func goCmd(t testing.TB, dir string, env []string, args ...string) {
	t.Helper()
	if err := goRun(dir, env, args...); err != nil {
		t.Fatal(err)
	}
}

func goRun(dir string, env []string, args ...string) error {
	gobin, err := exec.LookPath("go")
	if err != nil {
		gobin = "/usr/local/go/bin/go" // where CI installs it
	}
	cmd := exec.Command(gobin, args...)
	cmd.Dir = dir
	if dir == "" {
		cmd.Dir = os.TempDir() // `go install pkg@version` needs no module
	}
	cmd.Env = append(append(os.Environ(), "GOFLAGS=-buildvcs=false"), env...)
	if out, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("go %v: %v\n%s", args, err, out)
	}
	return nil
}

// staticBuild builds a static (CGO_ENABLED=0) binary of pkg (a directory
// or package path) from module directory dir, as the Dockerfile builds
// meshdns.
func staticBuild(t testing.TB, dir, pkg, out string) {
	t.Helper()
	goCmd(t, dir, []string{"CGO_ENABLED=0"}, "build", "-trimpath", "-ldflags=-s -w", "-o", out, pkg)
}

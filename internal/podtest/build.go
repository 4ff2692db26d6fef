package podtest

import (
	"bytes"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/meshdns/meshdns/internal/netns"
)

// BuildCmd builds the command of package pkg ("./cmd/meshdns-cni") of the
// meshdns module into dir and returns the binary's path; a failed build
// fails t.
func BuildCmd(t testing.TB, pkg, dir string) string {
	t.Helper()
	root, err := moduleRoot()
	if err != nil {
		t.Fatal(err)
	}
	goTool, err := goCommand()
	if err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(dir, filepath.Base(pkg))
	cmd := exec.Command(goTool, "build", "-o", out, pkg)
	cmd.Dir = root
	var log bytes.Buffer
	cmd.Stdout, cmd.Stderr = &log, &log
	if err := cmd.Run(); err != nil {
		t.Fatalf("go build %s: %v\n%s", pkg, err, log.Bytes())
	}
	return out
}

// InNamespace is a Pod for an existing network namespace ns that another
// harness built (node mode's pods): its Dig, Getent, GoLookup and Exec run
// there. It has no upstream and no meshdns of its own.
func InNamespace(ns string) *Pod {
	return &Pod{Topo: &netns.Topology{Pod: ns}}
}

// StartIn starts bin with args inside network namespace ns (through `ip
// netns exec`, so Pid is the program's) and stops it when t ends.
func StartIn(t testing.TB, ns, bin string, args ...string) *Process {
	t.Helper()
	return startIn(t, ns, bin, args)
}

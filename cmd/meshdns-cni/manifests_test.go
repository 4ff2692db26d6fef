package main

import (
	"io"
	"os"
	"slices"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	"sigs.k8s.io/yaml"
)

// TestDaemonSetInstaller parses the node DaemonSet's install-cni args with
// the installer's own flags and checks that the agent listens where the
// plugin is told to report.
func TestDaemonSetInstaller(t *testing.T) {
	b, err := os.ReadFile("../../manifests/node/daemonset.yaml")
	if err != nil {
		t.Fatal(err)
	}
	var ds appsv1.DaemonSet
	if err := yaml.UnmarshalStrict(b, &ds); err != nil {
		t.Fatal(err)
	}
	var found bool
	for _, c := range ds.Spec.Template.Spec.Containers {
		if c.Name != "install-cni" {
			continue
		}
		found = true
		if len(c.Command) < 2 || c.Command[1] != "install" {
			t.Fatalf("install-cni command %q", c.Command)
		}
		fs, f := newInstallFlags(io.Discard)
		if err := fs.Parse(append(c.Command[2:], c.Args...)); err != nil {
			t.Fatal(err)
		}
		if _, err := f.entry(); err != nil {
			t.Fatalf("install-cni args %q: %v", c.Args, err)
		}
		for _, a := range ds.Spec.Template.Spec.Containers {
			if a.Name == "meshdns" && !slices.Contains(a.Args, "--cni-socket="+f.socket) {
				t.Errorf("meshdns args %q lack --cni-socket=%s", a.Args, f.socket)
			}
		}
	}
	if !found {
		t.Fatal("no install-cni container")
	}
}

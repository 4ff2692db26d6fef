package main

import (
	"log/slog"
	"os"
	"path/filepath"
	"testing"
)

// TestRestConfigGzip: the API server client asks for no gzip unless
// --kube-gzip is given.
func TestRestConfigGzip(t *testing.T) {
	kc := filepath.Join(t.TempDir(), "kubeconfig")
	const cfg = `apiVersion: v1
kind: Config
clusters:
- name: c
  cluster: {server: "https://127.0.0.1:6443"}
users:
- name: u
  user: {token: t}
contexts:
- name: x
  context: {cluster: c, user: u}
current-context: x
`
	if err := os.WriteFile(kc, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, gzip := range []bool{false, true} {
		f := &sourceFlags{kubecfg: kc, gzip: gzip}
		rc, err := f.restConfig(slog.New(slog.DiscardHandler))
		if err != nil {
			t.Fatal(err)
		}
		if rc.DisableCompression == gzip || rc.Host != "https://127.0.0.1:6443" || rc.UserAgent != "meshdns" {
			t.Errorf("--kube-gzip=%v: DisableCompression %v, host %q, user agent %q", gzip, rc.DisableCompression, rc.Host, rc.UserAgent)
		}
	}
}

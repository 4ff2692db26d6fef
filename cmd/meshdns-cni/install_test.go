package main

import (
	"context"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestInstallUninstall runs the installer against a CNI directory pair in
// a temporary directory: the binary and the chain entry appear, and go
// when the installer stops.
func TestInstallUninstall(t *testing.T) {
	dir := t.TempDir()
	conf, bin := filepath.Join(dir, "net.d"), filepath.Join(dir, "bin")
	os.MkdirAll(conf, 0o755)
	os.MkdirAll(bin, 0o755)
	orig, err := os.ReadFile("../../node/cniplugin/testdata/10-bridge.conflist")
	if err != nil {
		t.Fatal(err)
	}
	list := filepath.Join(conf, "10-bridge.conflist")
	os.WriteFile(list, orig, 0o644)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		done <- cmdInstall(ctx, []string{"--conf-dir", conf, "--bin-dir", bin, "--nameservers", "10.96.0.10"}, io.Discard)
	}()
	deadline := time.Now().Add(10 * time.Second)
	for {
		b, _ := os.ReadFile(list)
		if strings.Contains(string(b), `"meshdns-cni"`) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("not chained:\n%s", b)
		}
		time.Sleep(20 * time.Millisecond)
	}
	if fi, err := os.Stat(filepath.Join(bin, "meshdns-cni")); err != nil || fi.Mode().Perm() != 0o755 {
		t.Fatalf("binary not installed: %v", err)
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	b, _ := os.ReadFile(list)
	if strings.Contains(string(b), "meshdns-cni") {
		t.Fatalf("still chained after stop:\n%s", b)
	}
	if _, err := os.Stat(filepath.Join(bin, "meshdns-cni")); err == nil {
		t.Fatal("binary left after stop")
	}
	// A bad entry writes nothing.
	if err := cmdInstall(context.Background(), []string{"--conf-dir", conf, "--bin-dir", bin}, io.Discard); err == nil {
		t.Fatal("install without nameservers nor --capture-all succeeded")
	}
}

package main

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"

	"github.com/meshdns/meshdns/dnsengine"
	"github.com/meshdns/meshdns/dnsengine/tcpstack"
	"github.com/meshdns/meshdns/dnsengine/verdict"
	"github.com/meshdns/meshdns/exchange"
)

// TestLoadTCPKey: the key file is created 0600 when missing and read back
// the same; a loose mode or a short key is an error.
func TestLoadTCPKey(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "sub", "key")
	k1, err := loadTCPKey(path)
	if err != nil {
		t.Fatal(err)
	}
	st, err := os.Stat(path)
	if err != nil || st.Mode().Perm() != 0o600 || len(k1) != 32 {
		t.Fatalf("key file %v mode %v, key %d bytes", err, st.Mode().Perm(), len(k1))
	}
	k2, err := loadTCPKey(path)
	if err != nil || !bytes.Equal(k1, k2) {
		t.Fatalf("reload: %v, same %v", err, bytes.Equal(k1, k2))
	}
	if err := os.Chmod(path, 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := loadTCPKey(path); err == nil {
		t.Fatal("world-readable key accepted")
	}
	short := filepath.Join(dir, "short")
	if err := os.WriteFile(short, []byte("tiny"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := loadTCPKey(short); err == nil {
		t.Fatal("short key accepted")
	}
	// The engine takes a key from the file.
	k3, err := loadTCPKey(filepath.Join(dir, "k2"))
	if err != nil {
		t.Fatal(err)
	}
	e, _ := dnsengine.New(dnsengine.DefaultConfig(), dnsengine.StaticRegistry{})
	rel := tcpstack.ReleaseFunc(func(uint64, verdict.Result) {})
	if err := e.EnableTCP(tcpstack.Config{Key: k3, Forwarder: &exchange.FakeForwarder{}, Releaser: rel}); err != nil {
		t.Fatal(err)
	}
}

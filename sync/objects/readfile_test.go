package objects

import (
	"crypto/sha256"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestReadFile(t *testing.T) {
	dir := t.TempDir()
	content := strings.Repeat("---\n"+svcYAML("aa"), 1000) // about 100 KB
	small := filepath.Join(dir, "small.yaml")
	if err := os.WriteFile(small, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	data, err := readFile(small)
	if err != nil || string(data) != content {
		t.Fatalf("readFile = %q, %v; want the file's content", data, err)
	}
	// Sized once: the content and one read's room, rounded up to the
	// allocator's 8 KiB pages; a buffer grown while reading doubles.
	if c := cap(data); c > len(content)+512+8192 {
		t.Errorf("buffer of %d bytes for %d: grown while reading", c, len(content))
	}
	if h, err := hashFile(small); err != nil || h != sha256.Sum256([]byte(content)) {
		t.Errorf("hashFile = %x, %v; want the content's SHA-256", h, err)
	}

	// Larger than MaxFileSize (a sparse file): refused without being read.
	big := filepath.Join(dir, "big.yaml")
	f, err := os.Create(big)
	if err != nil {
		t.Fatal(err)
	}
	if err := f.Truncate(MaxFileSize + 1); err != nil {
		t.Fatal(err)
	}
	f.Close()
	if data, err := readFile(big); err == nil || !strings.Contains(err.Error(), "larger than") || data != nil {
		t.Errorf("readFile of %d bytes: %d bytes, %v; want refused", MaxFileSize+1, len(data), err)
	}
	if _, _, err := Load(big); err == nil || !strings.Contains(err.Error(), "larger than") {
		t.Errorf("Load of %d bytes: %v; want refused", MaxFileSize+1, err)
	}

	if _, err := readFile(filepath.Join(dir, "missing")); !os.IsNotExist(err) {
		t.Errorf("missing file: %v", err)
	}
	if _, err := hashFile(filepath.Join(dir, "missing")); !os.IsNotExist(err) {
		t.Errorf("hashFile of a missing file: %v", err)
	}
}

package nfq

import (
	"os"
	"path/filepath"
	"testing"
)

func TestKernelQueued(t *testing.T) {
	path := filepath.Join(t.TempDir(), "nfnetlink_queue")
	stats := "5353  12345    17 2 65535     0     0      901  1\n5354  12345     3 2 65535     0     0      402  1\n   0   999   100 2 65535 0 0 1 1\nbroken line\n"
	if err := os.WriteFile(path, []byte(stats), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		first, n uint16
		want     int
	}{{5353, 2, 20}, {5353, 1, 17}, {5354, 1, 3}, {0, 1, 100}, {7, 3, 0}} {
		if got := kernelQueued(path, c.first, c.n); got != c.want {
			t.Errorf("queues %d+%d: %d, want %d", c.first, c.n, got, c.want)
		}
	}
	if got := kernelQueued(filepath.Join(t.TempDir(), "missing"), 5353, 1); got != 0 {
		t.Errorf("missing file: %d", got)
	}
}

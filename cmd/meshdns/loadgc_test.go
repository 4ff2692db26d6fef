package main

import (
	"io"
	"log/slog"
	"runtime/debug"
	"testing"

	"github.com/meshdns/meshdns/dnsengine"
	"github.com/meshdns/meshdns/sync/model"
	"github.com/meshdns/meshdns/sync/model/modeltest"
)

// gcPercent reads the collector's target (SetGCPercent returns the one it
// replaces).
func gcPercent() int {
	p := debug.SetGCPercent(100)
	debug.SetGCPercent(p)
	return p
}

func TestTightenGC(t *testing.T) {
	const before = 80
	defer debug.SetGCPercent(debug.SetGCPercent(before))
	log := slog.New(slog.DiscardHandler)
	for _, tc := range []struct {
		name        string
		gogc        string
		wantDuring  int
		wantRestore int
	}{
		{name: "GOGC unset: tightened, then put back", wantDuring: loadGCPercent, wantRestore: before},
		{name: "GOGC set: left alone", gogc: "200", wantDuring: before, wantRestore: before},
	} {
		t.Run(tc.name, func(t *testing.T) {
			getenv := func(k string) string {
				if k == "GOGC" {
					return tc.gogc
				}
				return ""
			}
			restore := tightenGC(getenv, log)
			if got := gcPercent(); got != tc.wantDuring {
				t.Errorf("during the load: GOGC %d, want %d", got, tc.wantDuring)
			}
			restore()
			if got := gcPercent(); got != tc.wantRestore {
				t.Errorf("after: GOGC %d, want %d", got, tc.wantRestore)
			}
			// Once: a later change of the target is not undone.
			debug.SetGCPercent(150)
			restore()
			if got := gcPercent(); got != 150 {
				t.Errorf("a second restore changed GOGC to %d", got)
			}
			debug.SetGCPercent(before)
		})
	}
}

// TestTableStoreLoadGC: a store tightens the collector until its first
// complete table is stored, whole builds and incremental alike.
func TestTableStoreLoadGC(t *testing.T) {
	defer debug.SetGCPercent(debug.SetGCPercent(100))
	t.Setenv("GOGC", "")
	objs := modeltest.Cluster(modeltest.ScaleCluster(3))
	for _, incremental := range []bool{false, true} {
		debug.SetGCPercent(100)
		reg := &dnsengine.AtomicRegistry{}
		opts := model.Options{ClusterDomain: "cluster.local"}
		s, err := newTableStore(reg, opts, slog.New(slog.NewTextHandler(io.Discard, nil)), incremental)
		if err != nil {
			t.Fatal(err)
		}
		if got := gcPercent(); got != loadGCPercent {
			t.Errorf("incremental=%v: GOGC %d before the first table, want %d", incremental, got, loadGCPercent)
		}
		s.update(objs)
		if reg.Table() == nil {
			t.Fatalf("incremental=%v: no table stored", incremental)
		}
		if got := gcPercent(); got != 100 {
			t.Errorf("incremental=%v: GOGC %d once the first table serves, want 100", incremental, got)
		}
	}
}

package dnsengine_test

import (
	"encoding/binary"
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/meshdns/meshdns/dnsengine"
	"github.com/meshdns/meshdns/sync/model"
	"github.com/meshdns/meshdns/sync/model/modeltest"
	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
)

// checkIncremental applies steps random changes to a random object set
// through model.Incremental and checks after each that its table (base
// and Service groups, updated in place of a rebuild) answers every query
// form as the reference built from scratch, and that the reports match.
func checkIncremental(t *testing.T, r *rand.Rand, steps int) (grouped, rows int) {
	t.Helper()
	objs, opts := modeltest.Random(r), modeltest.RandomOptions(r)
	inc, err := model.NewIncremental(opts)
	if err != nil {
		t.Fatal(err)
	}
	for step := 0; step <= steps; step++ {
		given := objs
		if step > 0 {
			prev := objs
			objs = modeltest.Mutate(r, objs)
			given = objs
			if step%2 == 1 {
				given = deltaOf(prev, objs) // as the API server source sends them
			}
		}
		tab, rep, err := inc.Apply(given, opts.Serial)
		if err != nil {
			t.Fatal(err)
		}
		want, ref := buildBoth(t, objs, opts)
		if d := cmp.Diff(want.Stats(), tab.Stats()); d != "" {
			t.Fatalf("step %d: stats differ (-build +incremental):\n%s", step, d)
		}
		_, wantRep, _ := model.Build(objs, opts)
		if d := cmp.Diff(wantRep, rep); d != "" {
			t.Fatalf("step %d: reports differ (-build +incremental):\n%s", step, d)
		}
		compareTables(t, r, tab, ref)
		if d := cmp.Diff(want.Apexes(), tab.Apexes()); d != "" {
			t.Fatalf("step %d: apexes differ (-build +incremental):\n%s", step, d)
		}
		checkApexes(t, tab)
		grouped += tab.Groups()
		rows += dnsengine.TableRows(tab)
	}
	return grouped, rows
}

// deltaOf returns the changes from prev to next, by key and pointer.
func deltaOf(prev, next *model.Objects) *model.Objects {
	ch := &model.Changes{
		Services:       changed(prev.Services, next.Services, func(x *corev1.Service) model.Key { return model.Key{Namespace: x.Namespace, Name: x.Name} }),
		EndpointSlices: changed(prev.EndpointSlices, next.EndpointSlices, func(x *discoveryv1.EndpointSlice) model.Key { return model.Key{Namespace: x.Namespace, Name: x.Name} }),
	}
	if !slices.Equal(prev.ServiceEntries, next.ServiceEntries) {
		ch.ServiceEntries, ch.ServiceEntriesChanged = next.ServiceEntries, true
	}
	return &model.Objects{Changes: ch}
}

// changed returns the objects of next that are not in prev, by key, and
// nil for the keys of prev gone from next.
func changed[T any](prev, next []*T, key func(*T) model.Key) map[model.Key]*T {
	out := map[model.Key]*T{}
	for _, x := range prev {
		out[key(x)] = nil
	}
	for _, x := range next {
		if old, ok := out[key(x)]; ok && old == nil && slices.Contains(prev, x) {
			delete(out, key(x))
		} else {
			out[key(x)] = x
		}
	}
	return out
}

// TestIncrementalMatchesBuild: random object sets, changed step by step
// (objects kept, dropped, replaced, added; slices moving between
// Services) and handed over whole or as a delta, answer the same from the incrementally updated table as from
// the reference built from scratch.
func TestIncrementalMatchesBuild(t *testing.T) {
	r := rand.New(rand.NewPCG(21, 22))
	n := 120
	if testing.Short() {
		n = 30
	}
	grouped, rows := 0, 0
	for range n {
		seed := r.Uint64()
		t.Run(fmt.Sprint(seed), func(t *testing.T) {
			g, rs := checkIncremental(t, rand.New(rand.NewPCG(seed, 0)), 6)
			grouped, rows = grouped+g, rows+rs
		})
	}
	// The tables must have had groups to update, not only flat builds,
	// and endpoints held as rows in them.
	if grouped < n || rows < n {
		t.Fatalf("%d groups and %d rows over %d runs: the incremental path was hardly taken", grouped, rows, n)
	}
	t.Logf("%d groups, %d rows over %d runs", grouped, rows, n)
}

// FuzzIncremental: any seed makes a random object set and a sequence of
// changes, and the updated table answers as one built from scratch.
func FuzzIncremental(f *testing.F) {
	for _, s := range []uint64{1, 2, 3, 42} {
		f.Add(binary.LittleEndian.AppendUint64(nil, s))
	}
	f.Fuzz(func(t *testing.T, seed []byte) {
		var s [16]byte
		copy(s[:], seed)
		checkIncremental(t, rand.New(rand.NewPCG(binary.LittleEndian.Uint64(s[:8]), binary.LittleEndian.Uint64(s[8:]))), 4)
	})
}

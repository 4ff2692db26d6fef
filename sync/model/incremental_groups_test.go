package model_test

import (
	"fmt"
	"math/rand/v2"
	"reflect"
	"testing"

	"github.com/meshdns/meshdns/dnsengine"
	"github.com/meshdns/meshdns/sync/model"
	"github.com/meshdns/meshdns/sync/model/modeltest"
)

// TestIncrementalEqualHashes: with every group key hashing alike (one
// chain in groupIndex), or two ways, random objects changed step by step
// build the records and report Build does, as complete Objects (the
// Incremental's own diff).
func TestIncrementalEqualHashes(t *testing.T) {
	hashes := map[string]func(dnsengine.GroupKey) uint64{
		"one":  func(dnsengine.GroupKey) uint64 { return 1 },
		"two":  func(g dnsengine.GroupKey) uint64 { return uint64(len(g.Name) % 2) },
		"none": nil,
	}
	for name, h := range hashes {
		r := rand.New(rand.NewPCG(41, 42))
		for run := range 60 {
			t.Run(fmt.Sprintf("%s/%d", name, run), func(t *testing.T) {
				inc, err := model.NewIncremental(model.DefaultOptions())
				if err != nil {
					t.Fatal(err)
				}
				model.SetGroupHash(inc, h)
				objs := modeltest.Random(r)
				for step := range 8 {
					if step > 0 {
						objs = modeltest.Mutate(r, objs)
					}
					tab, rep, err := inc.Apply(objs, uint32(step+1))
					if err != nil {
						t.Fatal(err)
					}
					want, wantRep := tableOf(t, objs)
					got := recordsAndSources(tab)
					if !reflect.DeepEqual(got, want) || !reflect.DeepEqual(rep, wantRep) {
						t.Fatalf("step %d: records %v, report %+v; Build: %v, %+v", step, got, rep, want, wantRep)
					}
				}
			})
		}
	}
}

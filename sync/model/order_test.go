package model

import (
	"math/rand/v2"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// TestBuildOrderIndependent: the same objects in any order give the same
// table, provenance included, and the same report.
func TestBuildOrderIndependent(t *testing.T) {
	objs := &Objects{}
	for _, f := range []string{"testdata/clusterip.yaml", "testdata/headless.yaml", "testdata/serviceentry.yaml", "testdata/invalid.yaml"} {
		o := loadYAML(t, f)
		objs.Services = append(objs.Services, o.Services...)
		objs.EndpointSlices = append(objs.EndpointSlices, o.EndpointSlices...)
		objs.ServiceEntries = append(objs.ServiceEntries, o.ServiceEntries...)
	}
	want, wantRep, err := Build(objs, DefaultOptions())
	if err != nil {
		t.Fatal(err)
	}
	r := rand.New(rand.NewPCG(3, 4))
	for range 10 {
		s := &Objects{
			Services:       append(objs.Services[:0:0], objs.Services...),
			EndpointSlices: append(objs.EndpointSlices[:0:0], objs.EndpointSlices...),
			ServiceEntries: append(objs.ServiceEntries[:0:0], objs.ServiceEntries...),
		}
		r.Shuffle(len(s.Services), func(i, j int) { s.Services[i], s.Services[j] = s.Services[j], s.Services[i] })
		r.Shuffle(len(s.EndpointSlices), func(i, j int) { s.EndpointSlices[i], s.EndpointSlices[j] = s.EndpointSlices[j], s.EndpointSlices[i] })
		r.Shuffle(len(s.ServiceEntries), func(i, j int) { s.ServiceEntries[i], s.ServiceEntries[j] = s.ServiceEntries[j], s.ServiceEntries[i] })
		got, gotRep, err := Build(s, DefaultOptions())
		if err != nil {
			t.Fatal(err)
		}
		if d := cmp.Diff(want.Records(), got.Records()); d != "" {
			t.Fatalf("records depend on input order (-first +shuffled):\n%s", d)
		}
		if d := cmp.Diff(wantRep, gotRep); d != "" {
			t.Fatalf("report depends on input order (-first +shuffled):\n%s", d)
		}
	}
}

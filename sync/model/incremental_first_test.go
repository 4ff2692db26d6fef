package model

import (
	"bytes"
	"cmp"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// TestFirstApplyDuplicates: the first Apply (applyFirst) finds two
// objects of one kind and key however they are filed (one group, two
// groups, one the group its name implies and one another or none, both
// in none) and builds them flat, as Build; objects whose keys differ
// only in case, in one group, are built in groups. Either way the
// records and report are Build's, and the next Apply without the
// duplicate builds groups again.
func TestFirstApplyDuplicates(t *testing.T) {
	svc := func(ns, name, ip string) *corev1.Service {
		return &corev1.Service{
			ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name},
			Spec: corev1.ServiceSpec{ClusterIP: ip, ClusterIPs: []string{ip},
				Ports: []corev1.ServicePort{{Name: "http", Protocol: corev1.ProtocolTCP, Port: 80}}},
		}
	}
	slice := func(ns, name, svcName, addr string) *discoveryv1.EndpointSlice {
		es := &discoveryv1.EndpointSlice{
			ObjectMeta:  metav1.ObjectMeta{Namespace: ns, Name: name},
			AddressType: discoveryv1.AddressTypeIPv4,
			Endpoints:   []discoveryv1.Endpoint{{Addresses: []string{addr}}},
		}
		if svcName != "" {
			es.Labels = map[string]string{discoveryv1.LabelServiceName: svcName}
		}
		return es
	}
	base := []*corev1.Service{svc("ns", "a", "10.96.0.1"), svc("ns", "b", "10.96.0.2"), svc("ns", "c", "10.96.0.3")}
	cases := []struct {
		name   string
		svcs   []*corev1.Service
		slices []*discoveryv1.EndpointSlice
		flat   bool
	}{
		{"no duplicates", nil, []*discoveryv1.EndpointSlice{slice("ns", "a-1", "a", "10.1.0.1"), slice("ns", "b-1", "b", "10.1.0.2")}, false},
		{"keys apart in case", []*corev1.Service{svc("ns", "A", "10.96.0.9")},
			[]*discoveryv1.EndpointSlice{slice("ns", "a-1", "a", "10.1.0.1"), slice("NS", "a-1", "a", "10.1.0.2"), slice("ns", "A-1", "A", "10.1.0.3")}, false},
		{"Service twice", []*corev1.Service{svc("ns", "a", "10.96.0.9")}, nil, true},
		{"slice twice in its named group", nil, []*discoveryv1.EndpointSlice{slice("ns", "a-1", "a", "10.1.0.1"), slice("ns", "a-1", "a", "10.1.0.2")}, true},
		{"slice in its named group, then in another", nil, []*discoveryv1.EndpointSlice{slice("ns", "a-1", "a", "10.1.0.1"), slice("ns", "a-1", "b", "10.1.0.2")}, true},
		{"slice in another group, then its named group", nil, []*discoveryv1.EndpointSlice{slice("ns", "a-1", "b", "10.1.0.1"), slice("ns", "a-1", "a", "10.1.0.2")}, true},
		{"slice in its named group, then in none", nil, []*discoveryv1.EndpointSlice{slice("ns", "a-1", "a", "10.1.0.1"), slice("ns", "a-1", "", "10.1.0.2")}, true},
		{"slice in none, then its named group", nil, []*discoveryv1.EndpointSlice{slice("ns", "a-1", "", "10.1.0.1"), slice("ns", "a-1", "a", "10.1.0.2")}, true},
		{"slice in two other groups", nil, []*discoveryv1.EndpointSlice{slice("ns", "a-1", "b", "10.1.0.1"), slice("ns", "a-1", "c", "10.1.0.2")}, true},
		{"slice twice in another group", nil, []*discoveryv1.EndpointSlice{slice("ns", "a-1", "b", "10.1.0.1"), slice("ns", "a-1", "b", "10.1.0.2")}, true},
		{"slice in another group and in none", nil, []*discoveryv1.EndpointSlice{slice("ns", "a-1", "b", "10.1.0.1"), slice("ns", "a-1", "", "10.1.0.2")}, true},
		{"slice twice in none", nil, []*discoveryv1.EndpointSlice{slice("ns", "a-1", "", "10.1.0.1"), slice("ns", "a-1", "", "10.1.0.2")}, true},
		{"slice without a dash, twice", nil, []*discoveryv1.EndpointSlice{slice("ns", "custom", "a", "10.1.0.1"), slice("ns", "custom", "b", "10.1.0.2")}, true},
	}
	check := func(t *testing.T, inc *Incremental, objs *Objects, serial uint32, flat bool) {
		t.Helper()
		tab, rep, err := inc.Apply(objs, serial)
		if err != nil {
			t.Fatal(err)
		}
		if got := inc.groups == nil; got != flat {
			t.Errorf("built flat: %v, want %v", got, flat)
		}
		want, wantRep := zoneOf(t, objs, DefaultOptions())
		got := objectRecords(tab)
		if !slices.Equal(got, want) || fmt.Sprint(rep) != fmt.Sprint(wantRep) {
			t.Errorf("records %q, report %+v; Build: %q, %+v", got, rep, want, wantRep)
		}
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			inc, err := NewIncremental(DefaultOptions())
			if err != nil {
				t.Fatal(err)
			}
			objs := &Objects{Services: append(slices.Clone(base), c.svcs...), EndpointSlices: c.slices}
			check(t, inc, objs, 1, c.flat)
			// Without the later of each key: groups again.
			seen := map[Key]bool{}
			deduped := &Objects{}
			for _, x := range objs.Services {
				if k := (Key{x.Namespace, x.Name}); !seen[k] {
					seen[k] = true
					deduped.Services = append(deduped.Services, x)
				}
			}
			clear(seen)
			for _, x := range objs.EndpointSlices {
				if k := (Key{x.Namespace, x.Name}); !seen[k] {
					seen[k] = true
					deduped.EndpointSlices = append(deduped.EndpointSlices, x)
				}
			}
			check(t, inc, deduped, 2, false)
		})
	}
}

// TestFirstApplyBlocks: the blocks the first Apply packs are those the
// changes of an Apply make (setAll), whatever the order the objects are
// given in: a group's Services then its EndpointSlices, each by key. A
// block out of order breaks the merge of a later change (setAll) and
// the search for a slice (objects.find).
func TestFirstApplyBlocks(t *testing.T) {
	r := rand.New(rand.NewPCG(7, 8))
	for round := range 50 {
		objs := &Objects{}
		for i := range 40 {
			ns := []string{"ns", "NS", "other"}[r.IntN(3)]
			name := []string{"a", "A", "b", "web", "Web"}[r.IntN(5)]
			ip := fmt.Sprintf("10.96.%d.%d", round, i)
			objs.Services = append(objs.Services, &corev1.Service{
				ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: fmt.Sprintf("%s%d", name, i%3)},
				Spec:       corev1.ServiceSpec{ClusterIP: ip, ClusterIPs: []string{ip}},
			})
			objs.EndpointSlices = append(objs.EndpointSlices, &discoveryv1.EndpointSlice{
				ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: fmt.Sprintf("%s%d-%d", name, r.IntN(3), i),
					Labels: map[string]string{discoveryv1.LabelServiceName: fmt.Sprintf("%s%d", name, r.IntN(3))}},
				AddressType: discoveryv1.AddressTypeIPv4,
				Endpoints:   []discoveryv1.Endpoint{{Addresses: []string{fmt.Sprintf("10.1.%d.%d", round, i)}}},
			})
		}
		// Each key once.
		objs.Services = slices.CompactFunc(slices.SortedFunc(slices.Values(objs.Services), func(a, b *corev1.Service) int {
			return cmp.Or(cmp.Compare(a.Namespace, b.Namespace), cmp.Compare(a.Name, b.Name))
		}), func(a, b *corev1.Service) bool { return a.Namespace == b.Namespace && a.Name == b.Name })
		r.Shuffle(len(objs.Services), func(i, j int) { objs.Services[i], objs.Services[j] = objs.Services[j], objs.Services[i] })
		inc, err := NewIncremental(DefaultOptions())
		if err != nil {
			t.Fatal(err)
		}
		if _, _, err := inc.Apply(objs, 1); err != nil {
			t.Fatal(err)
		}
		if inc.groups == nil {
			t.Fatal("built flat")
		}
		// Each group's block, made by setAll from its objects' changes.
		want := map[string]objects{}
		changes := map[string][]objChange{}
		keyOf := func(ns, name string) string { g := groupKey(ns, name); return g.Namespace + "/" + g.Name }
		for _, x := range objs.Services {
			g := keyOf(x.Namespace, x.Name)
			changes[g] = append(changes[g], objChange{svc: true, k: Key{x.Namespace, x.Name}, body: appendService(nil, x)})
		}
		for _, x := range objs.EndpointSlices {
			g := keyOf(x.Namespace, x.Labels[discoveryv1.LabelServiceName])
			changes[g] = append(changes[g], objChange{k: Key{x.Namespace, x.Name}, body: appendSlice(nil, x)})
		}
		for g, cs := range changes {
			o, err := objects{ns: strings.SplitN(g, "/", 2)[0]}.setAll(cs)
			if err != nil {
				t.Fatal(err)
			}
			want[g] = o
		}
		n := 0
		inc.groups.each(func(gp *groupPart) {
			n++
			w := want[gp.key.Namespace+"/"+gp.key.Name]
			if !bytes.Equal(gp.objs, w.b) || gp.nSvcs != w.nSvcs {
				t.Errorf("round %d: group %v: block %q (%d Services), want %q (%d)", round, gp.key, gp.objs, gp.nSvcs, w.b, w.nSvcs)
			}
		})
		if n != len(want) {
			t.Errorf("round %d: %d groups, want %d", round, n, len(want))
		}
	}
}

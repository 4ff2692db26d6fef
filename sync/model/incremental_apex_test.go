package model_test

import (
	"slices"
	"strings"
	"testing"

	"github.com/meshdns/meshdns/dnsengine"
	"github.com/meshdns/meshdns/dnsengine/enginetest"
	"github.com/meshdns/meshdns/dnsengine/verdict"
	"github.com/meshdns/meshdns/sync/model"
	"github.com/miekg/dns"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// TestIncrementalApexesOutsideZones: with authoritative zones that leave
// out the cluster domain (--authoritative-zones example.com), the
// Incremental (the API server source) keeps Services in groups, answered
// outside every zone. Table.Apexes, the kernel query filter's names, must
// cover them, or with --cache-size 0 their queries would bypass the queue
// and go upstream. (Found by review: the groups' names were left out.)
func TestIncrementalApexesOutsideZones(t *testing.T) {
	opts := model.DefaultOptions()
	opts.Zones = []string{"example.com"}
	inc, err := model.NewIncremental(opts)
	if err != nil {
		t.Fatal(err)
	}
	svc := &corev1.Service{ObjectMeta: metav1.ObjectMeta{Namespace: "default", Name: "web"}}
	svc.Spec.ClusterIP = "10.96.0.5"
	svc.Spec.ClusterIPs = []string{"10.96.0.5"}
	tab, _, err := inc.Apply(&model.Objects{Services: []*corev1.Service{svc}}, 1)
	if err != nil {
		t.Fatal(err)
	}
	if tab.Groups() == 0 {
		t.Fatal("the Service is not in a group: the test no longer tests what it says")
	}

	// The engine answers the Service's name from this table...
	reg := &dnsengine.AtomicRegistry{}
	reg.Store(tab)
	eng, err := dnsengine.New(dnsengine.DefaultConfig(), reg)
	if err != nil {
		t.Fatal(err)
	}
	res, _, err := enginetest.Ask(eng, enginetest.Default4(), enginetest.NewQuery("web.default.svc.cluster.local.", dns.TypeA))
	if err != nil {
		t.Fatal(err)
	}
	if res.Verdict != verdict.Rewrite {
		t.Fatalf("engine: %v (%v), want it answered", res.Verdict, res.Reason)
	}
	// ...so every name it holds is under an apex.
	apexes := tab.Apexes()
	for _, r := range tab.Records() {
		name := strings.ToLower(r.Name)
		if !slices.ContainsFunc(apexes, func(a string) bool { return name == a || strings.HasSuffix(name, "."+a) }) {
			t.Errorf("%s is answered by the table but under none of the apexes %q", r, apexes)
		}
	}
	if !slices.Contains(apexes, "svc.cluster.local.") {
		t.Errorf("apexes %q: want svc.cluster.local. for the groups", apexes)
	}
}

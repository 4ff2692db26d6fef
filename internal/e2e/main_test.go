package e2e_test

import (
	"fmt"
	"net/netip"
	"os"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/meshdns/meshdns/internal/clusterdns"
	"github.com/meshdns/meshdns/internal/lookupout"
	"github.com/meshdns/meshdns/internal/podtest"
	"github.com/miekg/dns"
)

func TestMain(m *testing.M) { podtest.Main(m) }

// The files every test here uses.
const (
	objectsFile  = "testdata/objects.yaml"
	upstreamFile = "testdata/upstream.zone"
	namesFile    = "testdata/names.zone"
)

// TTLs that tell who answered: meshdns's defaults, and the upstream's.
const (
	meshTTL     = 30
	negativeTTL = 5
	upstreamTTL = clusterdns.DefaultTTL
)

// bigAddrs are the 100 ready endpoints of the headless service
// big.default.svc.cluster.local in objects.yaml.
func bigAddrs() []string {
	var out []string
	for i := 1; i <= 100; i++ {
		out = append(out, fmt.Sprintf("10.244.100.%d", i))
	}
	return out
}

// startPod starts a pod with meshdns on objects.yaml and the upstream of
// upstream.zone (plus big's records, as the cluster DNS has them).
func startPod(t *testing.T, cfg podtest.Config) *podtest.Pod {
	t.Helper()
	zone, err := os.ReadFile(upstreamFile)
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Objects == "" {
		cfg.Objects = objectsFile
	}
	cfg.Zone = string(zone)
	big := []string{}
	for _, a := range bigAddrs() {
		big = append(big, "A "+a)
	}
	if cfg.Records == nil {
		cfg.Records = map[string][]string{}
	}
	cfg.Records["big.default.svc.cluster.local"] = big
	return podtest.Start(t, cfg)
}

// answerAddrs returns the addresses of the A and AAAA records among rrs,
// sorted, and fails t if another type is there.
func answerAddrs(t testing.TB, rrs []dns.RR) []string {
	t.Helper()
	var out []string
	for _, rr := range rrs {
		switch r := rr.(type) {
		case *dns.A:
			out = append(out, r.A.String())
		case *dns.AAAA:
			out = append(out, r.AAAA.String())
		default:
			t.Errorf("unexpected record in answer: %v", rr)
		}
	}
	sort.Strings(out)
	return out
}

// sorted returns a sorted copy of addresses in canonical form.
func sorted(addrs ...string) []string {
	out := make([]string, len(addrs))
	for i, a := range addrs {
		out[i] = netip.MustParseAddr(a).String()
	}
	sort.Strings(out)
	return out
}

// addrStrings renders netip addresses, sorted.
func addrStrings(as []netip.Addr) []string {
	out := make([]string, len(as))
	for i, a := range as {
		out[i] = a.String()
	}
	sort.Strings(out)
	return out
}

// wantLocal fails t unless d is meshdns's answer: authoritative, every
// record with meshdns's TTL, and no query for the name at the upstream.
func wantLocal(t testing.TB, p *podtest.Pod, d lookupout.Dig) {
	t.Helper()
	if !d.Flag("aa") {
		t.Errorf("%s %s: no aa flag: not meshdns's answer\n%s", d.QName, d.QType, d.Raw)
	}
	for _, rr := range d.Answer {
		if rr.Header().Ttl != meshTTL {
			t.Errorf("%s %s: answer TTL %d, want meshdns's %d: %v", d.QName, d.QType, rr.Header().Ttl, meshTTL, rr)
		}
	}
	if n := p.UpstreamCount(d.QName, 0); n != 0 {
		t.Errorf("%s: %d queries reached the upstream, want 0 (answered in the pod)", d.QName, n)
	}
}

// wantUpstream fails t unless d came from the upstream: not
// authoritative, the upstream's TTL, and the name counted there.
func wantUpstream(t testing.TB, p *podtest.Pod, d lookupout.Dig) {
	t.Helper()
	if d.Flag("aa") {
		t.Errorf("%s %s: aa flag set: meshdns answered, want the upstream\n%s", d.QName, d.QType, d.Raw)
	}
	for _, rr := range d.Answer {
		if rr.Header().Ttl != upstreamTTL {
			t.Errorf("%s %s: answer TTL %d, want the upstream's %d: %v", d.QName, d.QType, rr.Header().Ttl, upstreamTTL, rr)
		}
	}
	if n := p.UpstreamCount(d.QName, 0); n == 0 {
		t.Errorf("%s: no query reached the upstream", d.QName)
	}
}

// clusterQueries returns the upstream's counts of names under the cluster
// domain: queries that should never leave the pod while meshdns runs.
func clusterQueries(p *podtest.Pod) map[string]uint64 {
	out := map[string]uint64{}
	for k, n := range p.Upstream.Counts() {
		if strings.HasSuffix(k.Name, ".cluster.local.") || k.Name == "cluster.local." {
			out[k.Name+" "+dns.TypeToString[k.Type]] += n
		}
	}
	return out
}

// wantNoClusterQueries fails t if a name under the cluster domain reached
// the upstream.
func wantNoClusterQueries(t testing.TB, p *podtest.Pod) {
	t.Helper()
	if q := clusterQueries(p); len(q) > 0 {
		t.Errorf("names under cluster.local reached the upstream: %v", q)
	}
}

// ruleLines returns the lines of saved that mention meshdns's chains.
func ruleLines(saved string) []string {
	var out []string
	for _, l := range strings.Split(saved, "\n") {
		if strings.Contains(l, "MESHDNS") {
			out = append(out, l)
		}
	}
	return out
}

// save runs one -save tool in the pod namespace.
func save(t testing.TB, p *podtest.Pod, tool string) string {
	t.Helper()
	return p.MustExec(t, tool)
}

func equal(a, b []string) bool { return slices.Equal(a, b) }

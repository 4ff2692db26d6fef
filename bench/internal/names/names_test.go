package names

import (
	"bytes"
	"net/netip"
	"strings"
	"testing"
)

func TestGenerateDefault(t *testing.T) {
	s, err := Generate(DefaultConfig())
	if err != nil {
		t.Fatal(err)
	}
	if len(s.Services) != 1000 || len(s.ServiceEntries) != 100 || len(s.External) != 200 {
		t.Fatalf("sizes %d/%d/%d", len(s.Services), len(s.ServiceEntries), len(s.External))
	}
	headless, dual, named := 0, 0, 0
	seen := map[netip.Addr]string{}
	block := netip.MustParsePrefix("198.19.0.0/16")
	v6 := netip.MustParsePrefix("fd53:96::/64")
	check := func(a netip.Addr, what string) {
		if !block.Contains(a) && !v6.Contains(a) {
			t.Errorf("%s address %s outside the benchmark ranges", what, a)
		}
		if prev, dup := seen[a]; dup {
			t.Errorf("%s address %s also used by %s", what, a, prev)
		}
		seen[a] = what
	}
	for _, svc := range s.Services {
		if svc.Headless() {
			headless++
			if len(svc.Endpoints) != 3 {
				t.Errorf("%s has %d endpoints", svc.Name, len(svc.Endpoints))
			}
			if svc.Endpoints[0].Hostname != "" {
				named++
			}
		}
		if len(svc.ClusterIPs) == 2 {
			dual++
		}
		for _, ip := range svc.ClusterIPs {
			check(ip, svc.Name)
		}
		for _, ep := range svc.Endpoints {
			check(ep.Addr, svc.Name+" endpoint")
		}
	}
	for _, se := range s.ServiceEntries {
		check(se.Addr, se.Name)
	}
	for _, h := range s.External {
		check(h.Addr, h.Name)
	}
	if headless != 100 || named != 50 || dual != 100 {
		t.Errorf("headless %d, named %d, dual-stack %d", headless, named, dual)
	}
	if s.Services[0].Namespace != "bench" || s.Services[1].Namespace != "ns-1" {
		t.Errorf("namespaces %s %s", s.Services[0].Namespace, s.Services[1].Namespace)
	}
}

func TestValidate(t *testing.T) {
	for _, mut := range []func(*Config){
		func(c *Config) { c.Services = 0 },
		func(c *Config) { c.External = 0 },
		func(c *Config) { c.Namespaces = 0 },
		func(c *Config) { c.PodNamespace = "" },
		func(c *Config) { c.HeadlessEvery = -1 },
		func(c *Config) { c.EndpointsPerHeadless = 0 },
	} {
		c := DefaultConfig()
		mut(&c)
		if _, err := Generate(c); err == nil {
			t.Errorf("config %+v accepted", c)
		}
	}
}

func TestDeterministic(t *testing.T) {
	write := func() string {
		s, _ := Generate(DefaultConfig())
		var b bytes.Buffer
		if err := s.WriteObjects(&b); err != nil {
			t.Fatal(err)
		}
		for _, q := range s.MeshQueries() {
			b.WriteString(q.Name)
		}
		l, _ := s.NdotsLookups(DefaultMix(), 100)
		b.WriteString(strings.Join(l, ","))
		return b.String()
	}
	if write() != write() {
		t.Error("same config gave different output")
	}
}

func TestQueries(t *testing.T) {
	c := DefaultConfig()
	s, _ := Generate(c)
	mesh := s.MeshQueries()
	// 900 ClusterIP + 100 headless services, 50 named headless x 3
	// endpoint names, 100 ServiceEntries.
	if len(mesh) != 1000+150+100 {
		t.Errorf("%d mesh queries", len(mesh))
	}
	for _, q := range mesh {
		if !strings.HasSuffix(q.Name, ".") || q.Type != TypeA {
			t.Errorf("mesh query %+v", q)
		}
	}
	if ext := s.ExternalQueries(); len(ext) != 200 || !strings.HasSuffix(ext[0].Name, ".example.net.") {
		t.Errorf("external queries %d %v", len(ext), ext[:1])
	}
	l, err := s.NdotsLookups(Mix{Short: 1}, 50)
	if err != nil {
		t.Fatal(err)
	}
	for _, n := range l {
		if strings.Contains(n, ".") {
			t.Errorf("short lookup %q has a dot", n)
		}
	}
	if _, err := s.NdotsLookups(Mix{}, 5); err == nil {
		t.Error("empty mix accepted")
	}
}

func TestFiles(t *testing.T) {
	c := DefaultConfig()
	c.Services, c.ServiceEntries, c.External, c.HeadlessEvery, c.DualStackEvery = 4, 1, 1, 2, 4
	s, _ := Generate(c)
	var hosts, zone, objs, perf bytes.Buffer
	if err := s.WriteHosts(&hosts, HostsOptions{Mesh: true}); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		"198.19.0.1 svc-0.bench.svc.cluster.local\n",
		"fd53:96::1 svc-0.bench.svc.cluster.local\n",
		"198.19.128.1 svc-1.ns-1.svc.cluster.local\n",
		"198.19.128.1 svc-1-0.svc-1.ns-1.svc.cluster.local\n",
		"198.19.64.1 se-0.mesh-external.example\n",
	} {
		if !strings.Contains(hosts.String(), want) {
			t.Errorf("hosts lacks %q:\n%s", want, hosts.String())
		}
	}
	if strings.Contains(hosts.String(), "example.net") {
		t.Error("mesh-only hosts has an external name")
	}
	if err := s.WriteZone(&zone, HostsOptions{Mesh: true, External: true}); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"$ORIGIN .\n", " SOA ", "svc-0.bench.svc.cluster.local. IN AAAA fd53:96::1\n", "ext-0.example.net. IN A 198.19.192.1\n"} {
		if !strings.Contains(zone.String(), want) {
			t.Errorf("zone lacks %q", want)
		}
	}
	if err := s.WriteObjects(&objs); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"kind: List\n", "kind: EndpointSlice", "kubernetes.io/service-name: svc-1\n", "clusterIP: None\n", "hostname: svc-1-0\n", "kind: ServiceEntry", "- fd53:96::1\n"} {
		if !strings.Contains(objs.String(), want) {
			t.Errorf("objects lack %q", want)
		}
	}
	if err := WriteDNSPerf(&perf, []Query{{"a.example.", TypeA}, {"b.example.", TypeAAAA}}); err != nil {
		t.Fatal(err)
	}
	if perf.String() != "a.example A\nb.example AAAA\n" {
		t.Errorf("dnsperf file %q", perf.String())
	}
	rc := s.ResolvConf(netip.MustParseAddr("198.18.0.1"))
	if rc != "nameserver 198.18.0.1\nsearch bench.svc.cluster.local svc.cluster.local cluster.local c.bench-node.internal\noptions ndots:5\n" {
		t.Errorf("resolv.conf %q", rc)
	}
}

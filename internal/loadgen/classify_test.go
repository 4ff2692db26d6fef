package loadgen

import (
	"testing"

	"github.com/miekg/dns"
)

func pack(t testing.TB, m *dns.Msg) []byte {
	t.Helper()
	b, err := m.Pack()
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func mustCompile(t testing.TB, q Query) compiled {
	t.Helper()
	c, err := compile(q, 0)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func TestParseAndClassify(t *testing.T) {
	q := mustCompile(t, Query{Name: "Web.default.svc.cluster.local", Type: dns.TypeA,
		Local: NoError("10.96.23.17"), Upstream: NoError("198.19.1.1"), Mesh: true})
	nx := mustCompile(t, Query{Name: "x.default.svc.cluster.local.", Type: dns.TypeA,
		Local: NXDomain(dns.TypeSOA), Upstream: NXDomain()})
	ext := mustCompile(t, Query{Name: "www.example.org.", Type: dns.TypeAAAA, Upstream: NoError("fd53:19::10", "fd53:19::11")})

	resp := func(name string, qtype uint16, rcode int, rrs ...string) []byte {
		m := new(dns.Msg).SetQuestion(name, qtype)
		m.Id = 77
		m.Response = true
		m.Rcode = rcode
		for _, s := range rrs {
			rr, err := dns.NewRR(s)
			if err != nil {
				t.Fatal(err)
			}
			if rr.Header().Rrtype == dns.TypeSOA {
				m.Ns = append(m.Ns, rr)
			} else {
				m.Answer = append(m.Answer, rr)
			}
		}
		return pack(t, m)
	}
	for _, tc := range []struct {
		name string
		q    *compiled
		b    []byte
		want Class
	}{
		{"local", &q, resp("web.default.svc.cluster.local.", dns.TypeA, 0, "web.default.svc.cluster.local. 30 IN A 10.96.23.17"), Local},
		{"upstream", &q, resp("web.default.svc.cluster.local.", dns.TypeA, 0, "web.default.svc.cluster.local. 7 IN A 198.19.1.1"), Upstream},
		{"wrong address", &q, resp("web.default.svc.cluster.local.", dns.TypeA, 0, "web.default.svc.cluster.local. 7 IN A 198.19.1.9"), Wrong},
		{"extra record", &q, resp("web.default.svc.cluster.local.", dns.TypeA, 0, "web.default.svc.cluster.local. 7 IN A 198.19.1.1", "web.default.svc.cluster.local. 7 IN A 198.19.1.2"), Wrong},
		{"servfail", &q, resp("web.default.svc.cluster.local.", dns.TypeA, dns.RcodeServerFailure), Wrong},
		{"nxdomain local", &nx, resp("x.default.svc.cluster.local.", dns.TypeA, 3, "cluster.local. 5 IN SOA ns.dns.cluster.local. hostmaster.cluster.local. 1 7200 1800 86400 5"), Local},
		{"nxdomain upstream", &nx, resp("x.default.svc.cluster.local.", dns.TypeA, 3), Upstream},
		{"order does not matter", &ext, resp("www.example.org.", dns.TypeAAAA, 0, "www.example.org. 7 IN AAAA fd53:19::11", "www.example.org. 7 IN AAAA fd53:19::10"), Upstream},
		{"external never local", &ext, resp("www.example.org.", dns.TypeAAAA, 0), Wrong},
	} {
		r, ok := parseResponse(tc.b)
		if !ok {
			t.Errorf("%s: not parsed", tc.name)
			continue
		}
		if r.id != 77 || r.name != tc.q.name || r.qtype != tc.q.qtype {
			t.Errorf("%s: parsed %+v", tc.name, r)
		}
		if got := classify(tc.q, r.signature); got != tc.want {
			t.Errorf("%s: class %v, want %v (signature %q)", tc.name, got, tc.want, r.signature)
		}
	}
}

func TestParseResponseRejects(t *testing.T) {
	query := pack(t, new(dns.Msg).SetQuestion("a.example.", dns.TypeA))
	noQ := new(dns.Msg)
	noQ.Response = true
	for name, b := range map[string][]byte{
		"empty":       nil,
		"short":       {1, 2, 3},
		"a query":     query,
		"no question": pack(t, noQ),
		"truncated":   query[:len(query)-3],
	} {
		if _, ok := parseResponse(b); ok {
			t.Errorf("%s: parsed", name)
		}
	}
}

func FuzzParseResponse(f *testing.F) {
	m := new(dns.Msg).SetQuestion("web.default.svc.cluster.local.", dns.TypeA)
	m.Response = true
	rr, _ := dns.NewRR("web.default.svc.cluster.local. 30 IN A 10.96.23.17")
	m.Answer = append(m.Answer, rr)
	b, _ := m.Pack()
	f.Add(b)
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, b []byte) {
		r, ok := parseResponse(b)
		if !ok {
			return
		}
		q, _ := compile(Query{Name: r.name, Type: r.qtype, Upstream: NoError()}, 0) // a name AppendQuery refuses still classifies
		_ = classify(&q, r.signature)
	})
}

package chaos_test

import (
	"github.com/meshdns/meshdns/internal/loadgen"
	"github.com/miekg/dns"
)

// objectsFile is the demo's objects file; the upstream's zone
// (upstream.ExampleZone) gives its mesh names decoy answers, so who answered
// shows in the answer.
const objectsFile = "../../examples/objects.yaml"

// mixName describes mix() in reports.
const mixName = "7 names cycled, glibc A+AAAA pairs: 4 mesh (2 Services, a ServiceEntry, a search-path NXDOMAIN) and 3 external (2 names, 1 NXDOMAIN)"

// mix is the suite's workload: glibc-style A+AAAA lookups, mesh names
// (answered by meshdns from examples/objects.yaml, or by the upstream's
// decoys when meshdns is out of the path) and external names (only ever the
// upstream's answers). Every expected answer tells meshdns's and the
// upstream's apart.
func mix() []loadgen.Lookup {
	ne, nx, nodata := loadgen.NoError, loadgen.NXDomain, loadgen.NoData
	return []loadgen.Lookup{
		loadgen.Pair("web.default.svc.cluster.local", ne("10.96.23.17"), ne("198.19.1.1"), nodata(dns.TypeSOA), ne("fd53:19::1:1")),
		loadgen.Pair("www.example.org", nil, ne("198.19.0.10"), nil, ne("fd53:19::10")),
		loadgen.Pair("api.shop.svc.cluster.local", ne("10.96.112.40"), ne("198.19.1.2"), ne("fd00:10:96::7c1a"), ne("fd53:19::1:2")),
		loadgen.Pair("example.net", nil, ne("198.19.0.11"), nil, ne("fd53:19::11")),
		// What glibc asks first for "www.example.org" with ndots:5.
		loadgen.Pair("www.example.org.default.svc.cluster.local", nx(dns.TypeSOA), nx(), nx(dns.TypeSOA), nx()),
		loadgen.Pair("missing.example.org", nil, nx(), nil, nx()),
		loadgen.Pair("payments.example.com", ne("10.120.4.20"), ne("198.19.2.1"), ne(), ne("fd53:19::2:1")),
	}
}

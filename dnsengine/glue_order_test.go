package dnsengine_test

import (
	"slices"
	"strings"
	"testing"

	"github.com/miekg/dns"
)

// TestGlueOwnsItsAddress: each glue record of an SRV answer is owned by
// the target whose address it is, for every rotation: an ANY question
// for a name holding only SRV records (written in order, not rotated)
// too.
func TestGlueOwnsItsAddress(t *testing.T) {
	tab, e := rowsEngine(t)
	addrs := map[string][]string{} // by lowercase owner
	for _, r := range tab.Records() {
		if r.Type == "A" || r.Type == "AAAA" {
			addrs[strings.ToLower(r.Name)] = append(addrs[strings.ToLower(r.Name)], r.Data)
		}
	}
	for _, name := range []string{"_p0._tcp.web.ns.svc.cluster.local.", "_p0._tcp.hl.ns.svc.cluster.local."} {
		for _, qt := range []uint16{dns.TypeSRV, dns.TypeANY} {
			for id := range uint16(12) {
				resp := askTable(t, e, tab, name, qt, id)
				if len(resp.Extra) == 0 {
					t.Fatalf("%s %s id %d: no glue:\n%s", name, dns.TypeToString[qt], id, resp)
				}
				for _, rr := range resp.Extra {
					var ip string
					switch rr := rr.(type) {
					case *dns.A:
						ip = rr.A.String()
					case *dns.AAAA:
						ip = rr.AAAA.String()
					default:
						continue
					}
					if owner := strings.ToLower(rr.Header().Name); !slices.Contains(addrs[owner], ip) {
						t.Errorf("%s %s id %d: glue %s owned by %s, whose addresses are %v", name, dns.TypeToString[qt], id, ip, owner, addrs[owner])
					}
				}
			}
		}
	}
}

package enginetest

import (
	"bufio"
	_ "embed"
	"fmt"
	"net/netip"
	"strings"

	"github.com/meshdns/meshdns/dnsengine"
	"github.com/miekg/dns"
)

// clusterZone is the cluster of the engine's tests: every name kind of
// cluster.local, in zone-file notation.
//
//go:embed cluster.zone
var clusterZone string

// ClusterTable returns the table of cluster.zone: cluster.local, serial
// 1700000000, nameserver 198.18.0.1.
func ClusterTable() (*dnsengine.Table, error) {
	return TableFromZone(dnsengine.TableConfig{
		ClusterDomain: "cluster.local",
		Serial:        1700000000,
		Nameservers:   []netip.Addr{netip.MustParseAddr("198.18.0.1")},
	}, clusterZone)
}

// TB is the part of testing.TB MustClusterTable uses.
type TB interface {
	Helper()
	Fatal(args ...any)
}

// MustClusterTable returns ClusterTable's table, failing t on an error.
func MustClusterTable(t TB) *dnsengine.Table {
	t.Helper()
	tab, err := ClusterTable()
	if err != nil {
		t.Fatal(err)
	}
	return tab
}

// MustClusterEngine returns an engine with cfg answering from
// MustClusterTable's table, failing t on an error.
func MustClusterEngine(t TB, cfg dnsengine.Config) *dnsengine.Engine {
	t.Helper()
	e, err := dnsengine.New(cfg, dnsengine.StaticRegistry{T: MustClusterTable(t)})
	if err != nil {
		t.Fatal(err)
	}
	return e
}

// TableFromZone builds a table from records in zone-file notation, one per
// line ("web.default.svc.cluster.local. A 10.96.0.10"; TTL and class
// optional; "; comments"). A, AAAA, CNAME, SRV, PTR and TXT are understood;
// an owner starting with "*." adds a wildcard address; "name. ENT" adds an
// empty non-terminal.
func TableFromZone(cfg dnsengine.TableConfig, zone string) (*dnsengine.Table, error) {
	b, err := dnsengine.NewTableBuilder(cfg)
	if err != nil {
		return nil, err
	}
	sc := bufio.NewScanner(strings.NewReader(zone))
	for ln := 1; sc.Scan(); ln++ {
		line := strings.TrimSpace(sc.Text())
		if i := strings.Index(line, ";"); i >= 0 {
			line = strings.TrimSpace(line[:i])
		}
		if line == "" {
			continue
		}
		if f := strings.Fields(line); len(f) == 2 && f[1] == "ENT" {
			if err := b.AddEmpty(f[0]); err != nil {
				return nil, fmt.Errorf("line %d: %w", ln, err)
			}
			continue
		}
		rr, err := dns.NewRR(line)
		if err != nil {
			return nil, fmt.Errorf("line %d: %w", ln, err)
		}
		owner := rr.Header().Name
		src := "zone line " + fmt.Sprint(ln)
		switch r := rr.(type) {
		case *dns.A:
			ip, _ := netip.AddrFromSlice(r.A.To4())
			if strings.HasPrefix(owner, "*.") {
				err = b.AddWildcardAddress(owner, ip, src)
			} else {
				err = b.AddAddress(owner, ip, src)
			}
		case *dns.AAAA:
			ip, _ := netip.AddrFromSlice(r.AAAA.To16())
			if strings.HasPrefix(owner, "*.") {
				err = b.AddWildcardAddress(owner, ip, src)
			} else {
				err = b.AddAddress(owner, ip, src)
			}
		case *dns.CNAME:
			err = b.AddCNAME(owner, r.Target, src)
		case *dns.SRV:
			err = b.AddSRV(owner, r.Priority, r.Weight, r.Port, r.Target, src)
		case *dns.TXT:
			err = b.AddTXT(owner, strings.Join(r.Txt, ""), src)
		case *dns.PTR:
			ip, perr := ptrAddr(owner)
			if perr != nil {
				return nil, fmt.Errorf("line %d: %w", ln, perr)
			}
			err = b.AddPTR(ip, r.Ptr, src)
		default:
			return nil, fmt.Errorf("line %d: type %s not supported", ln, dns.TypeToString[rr.Header().Rrtype])
		}
		if err != nil {
			return nil, fmt.Errorf("line %d: %w", ln, err)
		}
	}
	return b.Build(), nil
}

// ptrAddr turns a reverse name back into its address.
func ptrAddr(name string) (netip.Addr, error) {
	name = strings.ToLower(strings.TrimSuffix(name, "."))
	if s, ok := strings.CutSuffix(name, ".in-addr.arpa"); ok {
		p := strings.Split(s, ".")
		if len(p) == 4 {
			return netip.ParseAddr(p[3] + "." + p[2] + "." + p[1] + "." + p[0])
		}
	}
	if s, ok := strings.CutSuffix(name, ".ip6.arpa"); ok {
		p := strings.Split(s, ".")
		if len(p) == 32 {
			var sb strings.Builder
			for i := 31; i >= 0; i-- {
				sb.WriteString(p[i])
				if i%4 == 0 && i > 0 {
					sb.WriteByte(':')
				}
			}
			return netip.ParseAddr(sb.String())
		}
	}
	return netip.Addr{}, fmt.Errorf("%s: not a reverse name", name)
}

package contender

import (
	"fmt"
	"net/netip"
	"strings"
)

// IstioRules returns iptables-restore input (IPv4 and IPv6) with the DNS
// part of what istio-init (tools/istio-iptables, DNS capture for the
// resolv.conf nameservers) installs in a pod:
//
//   - nat OUTPUT -> ISTIO_OUTPUT: traffic of the proxy's uid returns
//     early; UDP and TCP to port 53 of each nameserver is REDIRECTed to
//     the agent port;
//   - raw: the proxy's upstream queries and its replies to clients go to
//     separate conntrack zones (1 and 2), istio's workaround for the
//     REDIRECT/conntrack races.
//
// The rest of istio-init (inbound/outbound capture for Envoy) is left out:
// no traffic in the benchmark needs it.
func IstioRules(nameservers []netip.Addr, uid, port int) (v4, v6 string) {
	build := func(is4 bool) string {
		var ns []netip.Addr
		for _, a := range nameservers {
			if a.Is4() == is4 {
				ns = append(ns, a)
			}
		}
		bits := "/32"
		if !is4 {
			bits = "/128"
		}
		var b strings.Builder
		p := func(format string, a ...any) { fmt.Fprintf(&b, format+"\n", a...) }
		p("*raw")
		p(":ISTIO_OUTPUT_DNS - [0:0]")
		p(":ISTIO_INBOUND - [0:0]")
		p("-A OUTPUT -j ISTIO_OUTPUT_DNS")
		if len(ns) > 0 {
			p("-A PREROUTING -j ISTIO_INBOUND")
		}
		p("-A ISTIO_OUTPUT_DNS -p udp --dport 53 -m owner --uid-owner %d -j CT --zone 1", uid)
		p("-A ISTIO_OUTPUT_DNS -p udp --sport %d -m owner --uid-owner %d -j CT --zone 2", port, uid)
		for _, a := range ns {
			p("-A ISTIO_OUTPUT_DNS -p udp --dport 53 -d %s%s -j CT --zone 2", a, bits)
			p("-A ISTIO_INBOUND -p udp --sport 53 -s %s%s -j CT --zone 1", a, bits)
		}
		p("COMMIT")
		p("*nat")
		p(":ISTIO_OUTPUT - [0:0]")
		p(":ISTIO_OUTPUT_DNS - [0:0]")
		p("-A OUTPUT -j ISTIO_OUTPUT")
		p("-A ISTIO_OUTPUT -m owner --uid-owner %d -j RETURN", uid)
		if len(ns) > 0 {
			p("-A ISTIO_OUTPUT -j ISTIO_OUTPUT_DNS")
		}
		for _, a := range ns {
			p("-A ISTIO_OUTPUT_DNS -p tcp --dport 53 -d %s%s -j REDIRECT --to-ports %d", a, bits, port)
		}
		for _, a := range ns {
			p("-A ISTIO_OUTPUT_DNS -p udp --dport 53 -d %s%s -j REDIRECT --to-ports %d", a, bits, port)
		}
		p("COMMIT")
		return b.String()
	}
	return build(true), build(false)
}

// CounterRules returns iptables-restore input for the upstream namespace:
// rules without a verdict in filter INPUT whose packet counters count the
// DNS queries the upstream receives: UDP datagrams, TCP connections by
// their SYN, and TCP queries by the segments with PSH set (a client's write
// of a length-prefixed query ends in one; several queries written at once
// may share one). CounterChain names the chain.
func CounterRules() string {
	return strings.Join([]string{
		"*filter",
		":" + CounterChain + " - [0:0]",
		"-A INPUT -j " + CounterChain,
		"-A " + CounterChain + " -p udp --dport 53",
		"-A " + CounterChain + " -p tcp --dport 53 --tcp-flags SYN,ACK SYN",
		"-A " + CounterChain + " -p tcp --dport 53 --tcp-flags PSH PSH",
		"COMMIT",
		"",
	}, "\n")
}

// CounterChain is the filter chain whose counters count upstream queries.
const CounterChain = "BENCH_UPSTREAM_QUERIES"

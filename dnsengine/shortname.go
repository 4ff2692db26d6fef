package dnsengine

import (
	"github.com/meshdns/meshdns/dnsengine/verdict"
	"github.com/meshdns/meshdns/dnsengine/wire"
)

// shortName answers the single-label name <svc> from a pod of namespace
// Config.PodNamespace as Istio's agent does: with the addresses of
// <svc>.<ns>.svc.<cluster domain> when the table holds that name with
// addresses (a ClusterIP or headless Service); the other family is NODATA
// and other types go upstream. glibc tries the bare name after the search
// list, so without it an AAAA lookup of a v4-only service by short name
// reaches the cluster DNS. Single-label names are never delegated on the
// internet, so this cannot shadow a real name; <svc>.<ns> could (a
// namespace named like a TLD) and is only answered through search
// expansion. The rule is the engine's, not the table's, so that pods of
// every namespace share one table (node mode). It reports whether it
// decided the answer.
func (e *Engine) shortName(t *Table, q *wire.Query, p *plan) bool {
	if len(e.podSvc) == 0 || q.Labels != 1 || t.podZone == nil {
		return false
	}
	name := q.Name()
	domain := t.podZone[len("\x03pod"):]
	var buf [wire.MaxNameLen]byte
	l := len(name) - 1 // without the root
	if l+len(e.podSvc)+len(domain) > wire.MaxNameLen {
		return false
	}
	copy(buf[:], name[:l])
	copy(buf[l:], e.podSvc)
	copy(buf[l+len(e.podSvc):], domain)
	t2, n := t.find(buf[:l+len(e.podSvc)+len(domain)])
	if n == noNode {
		return false
	}
	if t2.isRow(n) {
		return false // a Service's name is no row's
	}
	if f := t2.flags(n); f&nodeHosts == 0 || f&nodeCNAME != 0 || f&nodeInZone == 0 {
		return false
	}
	switch q.QType {
	case TypeA, TypeAAAA:
		if rs := typeRun(t2.nodeRecords(n), q.QType); len(rs) > 0 {
			p.seg, p.rrs, p.rotate, p.reason = t2, rs, true, verdict.ReasonAnswered
		} else {
			p.reason = verdict.ReasonNoData
		}
	case TypeANY:
		// The addresses only: A and AAAA sort first among a node's
		// records.
		rs := t2.nodeRecords(n)
		k := 0
		for k < len(rs) && (rs[k].typ == TypeA || rs[k].typ == TypeAAAA) {
			k++
		}
		p.seg, p.rrs, p.reason = t2, rs[:k], verdict.ReasonAnswered
	default:
		p.reason = verdict.ReasonNotOwned
	}
	return true
}

// podSvcLabels returns the wire labels "<ns>" "svc" that follow a short
// name, or nil without a pod namespace.
func podSvcLabels(ns string) []byte {
	if ns == "" {
		return nil
	}
	w := append([]byte{byte(len(ns))}, ns...)
	return append(w, "\x03svc"...)
}

package model

import (
	"strings"

	"github.com/meshdns/meshdns/dnsengine"
)

// validLabel reports whether s is an RFC 1123 label as Kubernetes requires
// of namespaces, service names and endpoint hostnames: 1 to 63 characters
// from [a-z0-9-], not starting or ending with '-'.
func validLabel(s string) bool { return dnsengine.IsLabel(s) }

// validPortName reports whether s (lowercase) can follow the '_' of an SRV
// owner label: [a-z0-9-], 1 to 62 characters. Kubernetes requires an
// IANA_SVC_NAME (at most 15), which this accepts.
func validPortName(s string) bool { return len(s) > 0 && len(s) <= 62 && dnsengine.IsLDH(s) }

// validDomain reports whether s (lowercase, no trailing dot) is a host name
// the table can hold: labels of 1 to 63 characters from [a-z0-9_-], 253
// characters at most. With wildcard, a leading "*." label is allowed.
func validDomain(s string, wildcard bool) bool {
	if wildcard {
		s = strings.TrimPrefix(s, "*.")
	}
	if len(s) == 0 || len(s) > 253 {
		return false
	}
	for _, l := range strings.Split(s, ".") {
		if len(l) == 0 || len(l) > 63 {
			return false
		}
		for i := 0; i < len(l); i++ {
			c := l[i]
			if !('a' <= c && c <= 'z' || '0' <= c && c <= '9' || c == '-' || c == '_') {
				return false
			}
		}
	}
	return true
}

// normHost lowercases a host name and drops one trailing dot.
func normHost(s string) string {
	return strings.ToLower(strings.TrimSuffix(strings.TrimSpace(s), "."))
}

// serviceNames returns a Service's provenance, "Service
// <namespace>/<name>", and its FQDN, <name>.<ns>.svc.<domain>. (name and
// ns lowercased), in one allocation.
func serviceNames(namespace, name, lname, ns, domain string) (src, fqdn string) {
	const prefix, svc = "Service ", ".svc."
	var sb strings.Builder
	sb.Grow(len(prefix) + len(namespace) + 1 + len(name) + len(lname) + 1 + len(ns) + len(svc) + len(domain) + 1)
	sb.WriteString(prefix)
	sb.WriteString(namespace)
	sb.WriteByte('/')
	sb.WriteString(name)
	n := sb.Len()
	sb.WriteString(lname)
	sb.WriteByte('.')
	sb.WriteString(ns)
	sb.WriteString(svc)
	sb.WriteString(domain)
	sb.WriteByte('.')
	all := sb.String()
	return all[:n], all[n:]
}

// lowerProto is strings.ToLower for a port's protocol, without allocating
// for the ones Kubernetes knows.
func lowerProto(p string) string {
	switch p {
	case "TCP":
		return "tcp"
	case "UDP":
		return "udp"
	case "SCTP":
		return "sctp"
	}
	return strings.ToLower(p)
}

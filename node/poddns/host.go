package poddns

import (
	"bufio"
	"fmt"
	"io"
	"strings"
)

// maxHostFile bounds the node's resolv.conf as the kubelet does (10 MiB).
const maxHostFile = 10 << 20

// Host is the node's resolv.conf as the kubelet reads it: every
// "nameserver" line accumulates (the address kept as written), the last
// "search" line wins (trailing dots trimmed), the last "options" line wins.
// "domain" lines and comments are ignored. This differs from a resolver's
// reading (resolvconf), which is the point: the pod gets what the
// kubelet derives.
type Host struct {
	Nameservers []string
	Searches    []string
	Options     []string
}

// ParseHost reads a node resolv.conf by the kubelet's rules. A "nameserver"
// line without an address is an error, as for the kubelet (which then fails
// the pod's sandbox); the rest of the file is still read.
func ParseHost(r io.Reader) (Host, error) {
	var h Host
	var bad []string
	sc := bufio.NewScanner(io.LimitReader(r, maxHostFile))
	sc.Buffer(make([]byte, 0, 4096), maxHostFile)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if strings.HasPrefix(line, "#") {
			continue
		}
		f := strings.Fields(line)
		if len(f) == 0 {
			continue
		}
		switch f[0] {
		case "nameserver":
			if len(f) < 2 {
				bad = append(bad, "nameserver list is empty")
				continue
			}
			h.Nameservers = append(h.Nameservers, f[1])
		case "search":
			h.Searches = h.Searches[:0]
			for _, s := range f[1:] {
				h.Searches = append(h.Searches, strings.TrimSuffix(s, "."))
			}
		case "options":
			h.Options = append([]string(nil), f[1:]...)
		}
	}
	if err := sc.Err(); err != nil {
		return Host{}, fmt.Errorf("node resolv.conf: %w", err)
	}
	if len(bad) > 0 {
		return h, fmt.Errorf("node resolv.conf: %s", strings.Join(bad, "; "))
	}
	return h, nil
}

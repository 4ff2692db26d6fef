package resolvconf

import (
	"bufio"
	"fmt"
	"io"
	"net/netip"
	"os"
	"strconv"
	"strings"
)

// DefaultNdots is the ndots value when resolv.conf sets none (glibc's default).
const DefaultNdots = 1

// MaxNdots is the largest ndots value glibc honours; larger values are capped.
const MaxNdots = 15

// maxLine bounds one line of input; resolv.conf lines are short.
const maxLine = 64 << 10

// Config is what a resolv.conf says.
type Config struct {
	// Nameservers in file order, duplicates removed. IPv6 zones
	// ("fe80::1%eth0") are stripped and IPv4-mapped IPv6 addresses are
	// unmapped, so each address is what appears in a packet's header.
	// All listed servers are kept, although glibc uses only the first three.
	Nameservers []netip.Addr
	// Search domains of the last "search" or "domain" line, ASCII-lowercased,
	// without trailing dots, empty ones dropped.
	Search []string
	// Ndots from "options ndots:N" (last one wins), DefaultNdots when absent,
	// capped at MaxNdots.
	Ndots int
	// Options other than ndots, as written ("edns0", "timeout:2", ...), in
	// file order.
	Options []string
	// Ignored describes the lines that were skipped as malformed
	// ("line 3: nameserver: bad address \"x\"").
	Ignored []string
}

// Load reads and parses the resolv.conf at path.
func Load(path string) (Config, error) {
	f, err := os.Open(path)
	if err != nil {
		return Config{}, err
	}
	defer f.Close()
	c, err := Parse(f)
	if err != nil {
		return Config{}, fmt.Errorf("%s: %w", path, err)
	}
	return c, nil
}

// Parse parses resolv.conf text. It fails only on read errors and on lines
// longer than 64 KiB.
func Parse(r io.Reader) (Config, error) {
	c := Config{Ndots: DefaultNdots}
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 4096), maxLine)
	n := 0
	for sc.Scan() {
		n++
		line := sc.Text()
		if len(line) > 0 && (line[0] == '#' || line[0] == ';') {
			continue
		}
		f := strings.Fields(line)
		if len(f) == 0 {
			continue
		}
		switch f[0] {
		case "nameserver":
			c.nameserver(n, f[1:])
		case "search", "domain":
			c.Search = c.Search[:0]
			for _, d := range f[1:] {
				d = lowerASCII(strings.TrimRight(d, "."))
				if d != "" {
					c.Search = append(c.Search, d)
				}
			}
		case "options":
			c.options(n, f[1:])
		}
	}
	if err := sc.Err(); err != nil {
		return Config{}, fmt.Errorf("resolv.conf line %d: %w", n+1, err)
	}
	if len(c.Search) == 0 {
		c.Search = nil
	}
	return c, nil
}

func (c *Config) ignore(n int, format string, args ...any) {
	c.Ignored = append(c.Ignored, fmt.Sprintf("line %d: ", n)+fmt.Sprintf(format, args...))
}

func (c *Config) nameserver(n int, args []string) {
	if len(args) == 0 {
		c.ignore(n, "nameserver: no address")
		return
	}
	a, err := netip.ParseAddr(args[0])
	if err != nil {
		c.ignore(n, "nameserver: bad address %q", args[0])
		return
	}
	a = a.WithZone("").Unmap()
	for _, have := range c.Nameservers {
		if have == a {
			return
		}
	}
	c.Nameservers = append(c.Nameservers, a)
}

func (c *Config) options(n int, opts []string) {
	for _, o := range opts {
		v, ok := strings.CutPrefix(o, "ndots:")
		if !ok {
			c.Options = append(c.Options, o)
			continue
		}
		nd, err := strconv.Atoi(v)
		if err != nil || nd < 0 {
			c.ignore(n, "options: bad ndots %q", o)
			continue
		}
		c.Ndots = min(nd, MaxNdots)
	}
}

// Namespace returns the Kubernetes namespace the search list names: ns from
// the first search domain of the form "<ns>.svc.<clusterDomain>" (kubelet
// writes "<ns>.svc.<cd> svc.<cd> <cd>" for ClusterFirst pods). The cluster
// domain is compared case-insensitively, a trailing dot is ignored, and an
// empty clusterDomain means "cluster.local". It reports false when no search
// domain has that form.
func (c Config) Namespace(clusterDomain string) (string, bool) {
	cd := lowerASCII(strings.TrimRight(clusterDomain, "."))
	if cd == "" {
		cd = "cluster.local"
	}
	suffix := ".svc." + cd
	for _, d := range c.Search {
		ns, ok := strings.CutSuffix(d, suffix)
		if ok && ns != "" && !strings.Contains(ns, ".") {
			return ns, true
		}
	}
	return "", false
}

// lowerASCII lowercases A-Z only: DNS names compare case-insensitively in
// ASCII, and other bytes are kept as they are.
func lowerASCII(s string) string {
	for i := 0; i < len(s); i++ {
		if 'A' <= s[i] && s[i] <= 'Z' {
			b := []byte(s)
			for j := i; j < len(b); j++ {
				if 'A' <= b[j] && b[j] <= 'Z' {
					b[j] += 'a' - 'A'
				}
			}
			return string(b)
		}
	}
	return s
}

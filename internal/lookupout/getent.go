package lookupout

import (
	"errors"
	"fmt"
	"net/netip"
	"slices"
	"strings"
)

// Getent is what `getent <db> <name>` printed.
type Getent struct {
	// Found is false when getent found no name (the runner sets it: getent
	// exits with status 2 and prints nothing); ParseGetent sets it.
	Found bool
	// Hosts are the lines, in the order printed.
	Hosts []Host
	// Addrs are the addresses, each once (IPv4-mapped IPv6 addresses as
	// IPv4), in the order printed.
	Addrs []netip.Addr
	// Names are the canonical name and aliases printed with the first
	// address.
	Names []string
	// Raw is getent's output.
	Raw string
}

// Host is one line of getent output.
type Host struct {
	// Addr is the address as printed.
	Addr netip.Addr
	// Names are the names on the line (canonical name first, then the
	// aliases); ahosts prints them on the first line only.
	Names []string
}

// ParseGetent reads getent hosts/ahosts output: "ADDRESS [TYPE] NAME
// [ALIAS...]" lines (ahosts prints one line per socket type, STREAM, DGRAM,
// RAW, and the name only on the first). Output without an address is an
// error.
func ParseGetent(out string) (Getent, error) {
	r := Getent{Found: true, Raw: out}
	for _, line := range strings.Split(out, "\n") {
		f := strings.Fields(line)
		if len(f) == 0 {
			continue
		}
		a, err := netip.ParseAddr(f[0])
		if err != nil {
			return r, fmt.Errorf("getent: bad line %q", line)
		}
		rest := f[1:]
		if len(rest) > 0 && (rest[0] == "STREAM" || rest[0] == "DGRAM" || rest[0] == "RAW") {
			rest = rest[1:]
		}
		r.Hosts = append(r.Hosts, Host{Addr: a, Names: rest})
		if u := a.Unmap(); !slices.Contains(r.Addrs, u) {
			r.Addrs = append(r.Addrs, u)
		}
		if len(r.Names) == 0 && len(rest) > 0 {
			r.Names = rest
		}
	}
	if len(r.Addrs) == 0 {
		return r, errors.New("getent: no address in output")
	}
	return r, nil
}

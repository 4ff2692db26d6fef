package podtest

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"os/exec"
	"slices"
	"strings"
	"time"
)

// GetentResult is what `getent <db> <name>` printed.
type GetentResult struct {
	// Found is false when getent exited with status 2 (name not found).
	Found bool
	// Addrs are the addresses, each once, in the order printed.
	Addrs []netip.Addr
	// Names are the canonical name and aliases printed with the first
	// address.
	Names []string
	// Took is how long getent ran (a glibc wait on a lost answer shows
	// here as seconds).
	Took time.Duration
	// Raw is getent's output.
	Raw string
}

// Getent runs `getent <db> name` in the pod namespace (glibc's resolver:
// the pod's resolv.conf, search list and ndots). db is "hosts" (A, or AAAA
// when there is none), "ahosts" (getaddrinfo with AF_UNSPEC: A and AAAA
// together on one socket), "ahostsv4" or "ahostsv6". A name that is not
// found is not an error: Found is false.
func (p *Pod) Getent(db, name string) (GetentResult, error) {
	ctx, cancel := context.WithTimeout(context.Background(), commandTimeout)
	defer cancel()
	start := time.Now()
	out, err := p.Command(ctx, "getent", db, name).Output()
	took := time.Since(start)
	var ee *exec.ExitError
	if errors.As(err, &ee) && ee.ExitCode() == 2 {
		return GetentResult{Took: took, Raw: string(out)}, nil
	}
	if err != nil {
		return GetentResult{Took: took, Raw: string(out)}, fmt.Errorf("getent %s %s in %s: %w", db, name, p.Topo.Pod, err)
	}
	r, err := ParseGetent(string(out))
	r.Took = took
	return r, err
}

// ParseGetent reads getent hosts/ahosts output: "ADDRESS [TYPE] NAME
// [ALIAS...]" lines (ahosts prints one line per socket type, STREAM, DGRAM,
// RAW, and the name only on the first).
func ParseGetent(out string) (GetentResult, error) {
	r := GetentResult{Found: true, Raw: out}
	for _, line := range strings.Split(out, "\n") {
		f := strings.Fields(line)
		if len(f) == 0 {
			continue
		}
		a, err := netip.ParseAddr(f[0])
		if err != nil {
			return r, fmt.Errorf("getent: bad line %q", line)
		}
		a = a.Unmap()
		if !slices.Contains(r.Addrs, a) {
			r.Addrs = append(r.Addrs, a)
		}
		rest := f[1:]
		if len(rest) > 0 && (rest[0] == "STREAM" || rest[0] == "DGRAM" || rest[0] == "RAW") {
			rest = rest[1:]
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

package podtest

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"sort"
	"strings"
	"testing"
	"time"
)

// lookupEnv carries a GoLookup request to the re-executed test binary.
const lookupEnv = "MESHDNS_PODTEST_LOOKUP"

// lookupTimeout bounds one Go resolver lookup in the child.
const lookupTimeout = 20 * time.Second

// Go resolver operations GoLookup performs.
const (
	OpHost  = "host"  // net.Resolver.LookupHost: A and AAAA
	OpIP4   = "ip4"   // LookupIP("ip4"): A only
	OpIP6   = "ip6"   // LookupIP("ip6"): AAAA only
	OpCNAME = "cname" // LookupCNAME
	OpSRV   = "srv"   // LookupSRV("", "", name): name is the full SRV owner
	OpAddr  = "addr"  // LookupAddr: PTR of an address
	OpTXT   = "txt"   // LookupTXT
)

// lookupRequest is what the parent asks the child.
type lookupRequest struct {
	Op   string `json:"op"`
	Name string `json:"name"`
}

// GoResult is the result of one lookup by the pure-Go resolver.
type GoResult struct {
	Op   string `json:"op"`
	Name string `json:"name"`
	// Addrs (host, ip4, ip6), sorted.
	Addrs []string `json:"addrs,omitempty"`
	// CNAME is LookupCNAME's canonical name, and the canonical name LookupSRV
	// reports.
	CNAME string `json:"cname,omitempty"`
	// SRV records, sorted by target and port.
	SRV []SRV `json:"srv,omitempty"`
	// Names (addr), sorted.
	Names []string `json:"names,omitempty"`
	// TXT strings (txt).
	TXT []string `json:"txt,omitempty"`
	// Err is the lookup's error text; NotFound and Timeout classify it
	// (net.DNSError's IsNotFound and IsTimeout).
	Err      string `json:"err,omitempty"`
	NotFound bool   `json:"not_found,omitempty"`
	Timeout  bool   `json:"timeout,omitempty"`
	// Took is how long the lookup took inside the child.
	Took time.Duration `json:"took"`
}

// SRV is one SRV record as net.LookupSRV returns it.
type SRV struct {
	Target   string `json:"target"`
	Port     uint16 `json:"port"`
	Priority uint16 `json:"priority"`
	Weight   uint16 `json:"weight"`
}

// GoLookup runs one lookup with Go's own resolver (net.Resolver with
// PreferGo, GODEBUG=netdns=go) in a process started inside the pod
// namespace: the test binary itself, re-executed under `ip netns exec`, so
// the resolver reads the pod's resolv.conf (search list, ndots) as a Go
// program in the pod would. The test package's TestMain must call Main.
// op is one of the Op constants.
func (p *Pod) GoLookup(t testing.TB, op, name string) GoResult {
	t.Helper()
	r, err := p.TryGoLookup(op, name)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// TryGoLookup is GoLookup returning an error instead of failing the test.
// A failed lookup is not an error: it is in GoResult.Err.
func (p *Pod) TryGoLookup(op, name string) (GoResult, error) {
	self, err := os.Executable()
	if err != nil {
		return GoResult{}, err
	}
	req, _ := json.Marshal(lookupRequest{Op: op, Name: name})
	ctx, cancel := context.WithTimeout(context.Background(), commandTimeout)
	defer cancel()
	cmd := p.Command(ctx, self)
	cmd.Env = append(os.Environ(), lookupEnv+"="+string(req), "GODEBUG=netdns=go")
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return GoResult{}, fmt.Errorf("go lookup %s %s in %s: %w\nstdout: %s\nstderr: %s", op, name, p.Topo.Pod, err, out, stderr.String())
	}
	var r GoResult
	if err := json.Unmarshal(out, &r); err != nil {
		return r, fmt.Errorf("go lookup %s %s: child printed no result (does TestMain call podtest.Main?): %v\nstdout: %s\nstderr: %s", op, name, err, out, stderr.String())
	}
	return r, nil
}

// lookupChild performs the lookup spec asks for and prints a GoResult as
// JSON on w. It returns the exit status.
func lookupChild(spec string, w io.Writer) int {
	var req lookupRequest
	if err := json.Unmarshal([]byte(spec), &req); err != nil {
		fmt.Fprintf(os.Stderr, "podtest: bad %s: %v\n", lookupEnv, err)
		return 2
	}
	r, err := lookup(req)
	if err != nil {
		fmt.Fprintf(os.Stderr, "podtest: %v\n", err)
		return 2
	}
	if err := json.NewEncoder(w).Encode(r); err != nil {
		return 1
	}
	return 0
}

func lookup(req lookupRequest) (GoResult, error) {
	ctx, cancel := context.WithTimeout(context.Background(), lookupTimeout)
	defer cancel()
	res := &net.Resolver{PreferGo: true}
	r := GoResult{Op: req.Op, Name: req.Name}
	start := time.Now()
	var err error
	switch req.Op {
	case OpHost:
		r.Addrs, err = res.LookupHost(ctx, req.Name)
	case OpIP4, OpIP6:
		var ips []net.IP
		ips, err = res.LookupIP(ctx, req.Op, req.Name)
		for _, ip := range ips {
			r.Addrs = append(r.Addrs, ip.String())
		}
	case OpCNAME:
		r.CNAME, err = res.LookupCNAME(ctx, req.Name)
	case OpSRV:
		var srvs []*net.SRV
		r.CNAME, srvs, err = res.LookupSRV(ctx, "", "", req.Name)
		for _, s := range srvs {
			r.SRV = append(r.SRV, SRV{Target: s.Target, Port: s.Port, Priority: s.Priority, Weight: s.Weight})
		}
	case OpAddr:
		r.Names, err = res.LookupAddr(ctx, req.Name)
	case OpTXT:
		r.TXT, err = res.LookupTXT(ctx, req.Name)
	default:
		return r, fmt.Errorf("unknown lookup op %q", req.Op)
	}
	r.Took = time.Since(start)
	if err != nil {
		r.Err = err.Error()
		var de *net.DNSError
		if errors.As(err, &de) {
			r.NotFound, r.Timeout = de.IsNotFound, de.IsTimeout
		}
	}
	sort.Strings(r.Addrs)
	sort.Strings(r.Names)
	sort.Slice(r.SRV, func(i, j int) bool {
		if r.SRV[i].Target != r.SRV[j].Target {
			return r.SRV[i].Target < r.SRV[j].Target
		}
		return r.SRV[i].Port < r.SRV[j].Port
	})
	return r, nil
}

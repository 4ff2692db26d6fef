package contender

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"net/netip"
	"strconv"
	"strings"
	"time"

	"github.com/meshdns/meshdns/internal/loadgen"
	"github.com/meshdns/meshdns/internal/netns"
)

// RunIn runs a command to completion inside namespace ns with stdin and
// returns its combined output.
func RunIn(ctx context.Context, ns, stdin, name string, args ...string) ([]byte, error) {
	cmd := netns.Command(ctx, ns, name, args...)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if stdin != "" {
		cmd.Stdin = strings.NewReader(stdin)
	}
	if err := cmd.Run(); err != nil {
		return out.Bytes(), fmt.Errorf("%s %s in %s: %w: %s", name, strings.Join(args, " "), ns, err, bytes.TrimSpace(out.Bytes()))
	}
	return out.Bytes(), nil
}

// InstallRules loads iptables-restore input into ns, IPv4 and IPv6
// (without flushing tables it does not name). Empty input is skipped.
func InstallRules(ctx context.Context, ns, v4, v6 string) error {
	if v4 != "" {
		if _, err := RunIn(ctx, ns, v4, "iptables-restore", "-w", "--noflush"); err != nil {
			return err
		}
	}
	if v6 != "" {
		if _, err := RunIn(ctx, ns, v6, "ip6tables-restore", "-w", "--noflush"); err != nil {
			return err
		}
	}
	return nil
}

// ResetNamespace removes every packet rule in ns (nftables, which holds
// iptables-nft's tables, and best effort the legacy iptables tables) and
// empties its conntrack table, so the next contender starts clean.
func ResetNamespace(ctx context.Context, ns string) error {
	if _, err := RunIn(ctx, ns, "", "nft", "flush", "ruleset"); err != nil {
		return err
	}
	for _, bin := range []string{"iptables-legacy", "ip6tables-legacy"} {
		for _, table := range []string{"filter", "nat", "mangle", "raw"} {
			// Fails harmlessly when the legacy table was never used.
			_, _ = RunIn(ctx, ns, "", bin, "-w", "-t", table, "-F")
			_, _ = RunIn(ctx, ns, "", bin, "-w", "-t", table, "-X")
		}
	}
	_, _ = RunIn(ctx, ns, "", "conntrack", "-F")
	return nil
}

// Counts are the upstream's received-query counters: UDP datagrams, TCP
// SYNs, TCP segments with PSH (about one per query).
type Counts struct {
	UDP, TCPConns, TCPQueries uint64
}

// Sub returns c - o.
func (c Counts) Sub(o Counts) Counts {
	return Counts{c.UDP - o.UDP, c.TCPConns - o.TCPConns, c.TCPQueries - o.TCPQueries}
}

// Queries is the queries the upstream received: UDP datagrams and TCP
// query segments.
func (c Counts) Queries() uint64 { return c.UDP + c.TCPQueries }

// ReadCounts reads the CounterChain counters in ns (IPv4 plus IPv6).
func ReadCounts(ctx context.Context, ns string) (Counts, error) {
	var total Counts
	for _, bin := range []string{"iptables", "ip6tables"} {
		out, err := RunIn(ctx, ns, "", bin, "-w", "-n", "-v", "-x", "-L", CounterChain)
		if err != nil {
			return Counts{}, err
		}
		c, err := ParseCounts(out)
		if err != nil {
			return Counts{}, fmt.Errorf("%s: %w", bin, err)
		}
		total.UDP += c.UDP
		total.TCPConns += c.TCPConns
		total.TCPQueries += c.TCPQueries
	}
	return total, nil
}

// ParseCounts reads `iptables -nvxL CounterChain` output.
func ParseCounts(out []byte) (Counts, error) {
	var c Counts
	found := 0
	sc := bufio.NewScanner(bytes.NewReader(out))
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		if len(f) < 4 || !strings.Contains(sc.Text(), "dpt:53") {
			continue
		}
		n, err := strconv.ParseUint(f[0], 10, 64)
		if err != nil {
			return Counts{}, fmt.Errorf("counter %q: %w", f[0], err)
		}
		switch {
		case strings.Contains(sc.Text(), "udp dpt:53"):
			c.UDP += n
			found++
		case strings.Contains(sc.Text(), "tcp dpt:53") && strings.Contains(sc.Text(), "flags:0x08/0x08"):
			c.TCPQueries += n
			found++
		case strings.Contains(sc.Text(), "tcp dpt:53"):
			c.TCPConns += n
			found++
		}
	}
	if found == 0 {
		return Counts{}, fmt.Errorf("no dpt:53 counter in %q", out)
	}
	return c, nil
}

// Probe sends an A query for name to server from inside ns until it gets
// NOERROR with an answer, or timeout passes.
func Probe(ctx context.Context, ns string, server netip.AddrPort, name string, timeout time.Duration) error {
	return probeAny(ctx, ns, "udp", server, name, timeout)
}

// ProbeTCP is Probe over TCP: a connection per attempt, one
// length-prefixed query.
func ProbeTCP(ctx context.Context, ns string, server netip.AddrPort, name string, timeout time.Duration) error {
	return probeAny(ctx, ns, "tcp", server, name, timeout)
}

func probeAny(ctx context.Context, ns, network string, server netip.AddrPort, name string, timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	var last error
	for attempt := 0; time.Now().Before(deadline) && attempt < 1000; attempt++ {
		if err := ctx.Err(); err != nil {
			return err
		}
		if last = probeOnce(ctx, ns, network, server, name, uint16(attempt)); last == nil {
			return nil
		}
		time.Sleep(50 * time.Millisecond)
	}
	return fmt.Errorf("no answer for %s from %s/%s in %s within %v: %v", name, server, network, ns, timeout, last)
}

func probeOnce(ctx context.Context, ns, network string, server netip.AddrPort, name string, id uint16) error {
	q, err := loadgen.AppendQuery(nil, id, name, 1)
	if err != nil {
		return err
	}
	conn, err := netns.Dial(ctx, ns, network, server.String())
	if err != nil {
		return err
	}
	defer conn.Close()
	_ = conn.SetDeadline(time.Now().Add(300 * time.Millisecond))
	out := q
	if network == "tcp" {
		if out, err = loadgen.AppendFrame(nil, q); err != nil {
			return err
		}
	}
	if _, err := conn.Write(out); err != nil {
		return err
	}
	buf := make([]byte, 65536)
	have := 0
	for {
		n, err := conn.Read(buf[have:])
		if err != nil {
			return err
		}
		msg := buf[:n]
		if network == "tcp" {
			have += n
			var ok bool
			if msg, _, ok = loadgen.NextFrame(buf[:have]); !ok {
				continue
			}
		}
		r, err := loadgen.ParseReply(msg, q)
		if err != nil {
			if network == "tcp" {
				return err
			}
			continue
		}
		if r.Rcode != loadgen.RcodeSuccess || r.Answers == 0 {
			return fmt.Errorf("rcode %d, %d answers", r.Rcode, r.Answers)
		}
		return nil
	}
}

package rules

import (
	"bytes"
	"fmt"
	"net/netip"
	"slices"
	"strings"
)

// chainSpec is one chain of meshdns's with the built-in chain that jumps to it.
type chainSpec struct {
	table, name, hook string
	rules             []string // rule bodies, after "-A name "
}

// jump is the canonical rule (as -save prints it) that enters c.
func (c chainSpec) jump() string { return "-A " + c.hook + " -j " + c.name }

// desiredChains returns meshdns's chains for family f under c (which has its
// defaults filled in), in the order they are written.
func desiredChains(c Config, f Family) []chainSpec {
	var dsts []string // "-d X/32 " prefixes; "" once for capture-all
	if c.CaptureAll {
		dsts = []string{""}
	} else {
		for _, a := range c.Nameservers {
			if f.has(a) {
				dsts = append(dsts, netip.PrefixFrom(a, a.BitLen()).String())
			}
		}
	}
	mark := fmt.Sprintf("-m mark --mark %#x", c.Mark)
	if c.MarkMask != 0xffffffff {
		mark += fmt.Sprintf("/%#x", c.MarkMask)
	}
	ret := mark + " -j RETURN"
	queue := fmt.Sprintf("-j NFQUEUE --queue-num %d --queue-bypass", c.QueueNum)
	if c.Queues > 1 {
		queue = fmt.Sprintf("-j NFQUEUE --queue-balance %d:%d --queue-bypass", c.QueueNum, int(c.QueueNum)+int(c.Queues)-1)
	}
	addr := func(flag, d string) string {
		if d == "" {
			return ""
		}
		return flag + " " + d + " "
	}

	q := chainSpec{table: "mangle", name: ChainQueue, hook: "OUTPUT", rules: []string{ret}}
	out := chainSpec{table: "raw", name: ChainNotrackOut, hook: "OUTPUT", rules: []string{ret}}
	pre := chainSpec{table: "raw", name: ChainNotrackPre, hook: "PREROUTING"}
	var resp *chainSpec
	if c.CaptureResponses {
		resp = &chainSpec{table: "mangle", name: ChainResponses, hook: "PREROUTING"}
	}
	// Replies to meshdns's own UDP queries (marked sockets on random
	// ports) are neither untracked nor queued: the socket match puts the
	// mark of the socket a reply is delivered to on the reply, and the
	// mark says it is meshdns's (exempt by mark, never by port).
	pre.rules = append(pre.rules, "-p udp -m udp --sport 53 -m socket --restore-skmark "+ret)
	if resp != nil {
		resp.rules = append(resp.rules, ret)
	}
	if resp != nil {
		for _, d := range dsts {
			// Not to port 53: a packet from port 53 to port 53 looks like
			// a query to the engine, which must never answer one on its
			// way in.
			resp.rules = append(resp.rules, addr("-s", d)+"! -i lo -p udp -m udp --sport 53 ! --dport 53 "+queue)
		}
	}
	// UDP is queued in mangle OUTPUT and untracked both ways: every query
	// is a flow of its own, answered in place or not.
	udpQueue := []string{queue}
	if c.Filter != nil {
		udpQueue = nil
		for _, m := range c.Filter.matches(f) {
			udpQueue = append(udpQueue, m+" "+queue)
		}
	}
	for _, d := range dsts {
		for _, uq := range udpQueue {
			q.rules = append(q.rules, addr("-d", d)+"-p udp -m udp --dport 53 "+uq)
		}
		out.rules = append(out.rules, addr("-d", d)+"-p udp -m udp --dport 53 -j CT --notrack")
		pre.rules = append(pre.rules, addr("-s", d)+"-p udp -m udp --sport 53 -j CT --notrack")
	}
	// TCP is queued in raw OUTPUT, before conntrack sees it, so that
	// conntrack sees exactly the flows that go to the nameserver: a
	// segment meshdns passes (a flow it does not take over: --tcp off,
	// past its flow limit or budget, opened while it was down) continues
	// to conntrack and is tracked like any connection, so the server's
	// replies on eth0 are ESTABLISHED for a stateful firewall; a segment
	// meshdns rewrites into its answer comes back with NF_REPEAT
	// (nfq.RepeatModified), goes through this chain again as a segment
	// from port 53 to a local address, and is untracked here; it is
	// delivered through lo. (Answers of a DNS server in the pod to remote
	// clients are not local-bound and stay tracked.)
	// Replies to meshdns's own (marked, tracked) upstream connections
	// stay tracked, or a stateful INPUT policy in the pod drops them.
	for _, d := range dsts {
		out.rules = append(out.rules,
			addr("-s", d)+"-p tcp -m tcp --sport 53 -m addrtype --dst-type LOCAL -j CT --notrack",
			addr("-s", d)+"-p tcp -m tcp --sport 53 -m addrtype --dst-type LOCAL -j RETURN",
			addr("-d", d)+"-p tcp -m tcp --dport 53 "+queue)
		pre.rules = append(pre.rules, addr("-s", d)+"-i lo -p tcp -m tcp --sport 53 -j CT --notrack")
	}
	// The nameservers' RSTs from outside go to a queue of their own, before
	// conntrack: meshdns drops the one that answers a segment of a flow it
	// holds, which reached the nameserver only because the outbound queue
	// was full (Config.TCPResets).
	if c.TCPResets {
		for _, d := range dsts {
			pre.rules = append(pre.rules, addr("-s", d)+fmt.Sprintf(
				"! -i lo -p tcp -m tcp --sport 53 --tcp-flags RST RST -j NFQUEUE --queue-num %d --queue-bypass", c.ResetQueue()))
		}
	}
	if resp != nil {
		return []chainSpec{q, *resp, out, pre}
	}
	return []chainSpec{q, out, pre}
}

// savedTable is what a -save output holds of meshdns's in one table.
type savedTable struct {
	chains []string            // meshdns chains declared
	jumps  []string            // rules of other chains that jump to a meshdns chain, as printed ("-A OUTPUT -j ...")
	rules  map[string][]string // rules of meshdns chains, as printed
}

// parseSave reads iptables-save output: per table, meshdns's chains, their
// rules, and the rules elsewhere that jump to them.
func parseSave(saved []byte) map[string]*savedTable {
	tables := map[string]*savedTable{}
	var cur *savedTable
	for line := range bytes.Lines(saved) {
		l := strings.TrimSpace(string(line))
		switch {
		case strings.HasPrefix(l, "*"):
			name := l[1:]
			cur = tables[name]
			if cur == nil {
				cur = &savedTable{rules: map[string][]string{}}
				tables[name] = cur
			}
		case cur == nil:
		case strings.HasPrefix(l, ":"):
			if name, _, _ := strings.Cut(l[1:], " "); strings.HasPrefix(name, ChainPrefix) {
				cur.chains = append(cur.chains, name)
			}
		case strings.HasPrefix(l, "-A "):
			f := strings.Fields(l)
			if len(f) < 2 {
				continue
			}
			if strings.HasPrefix(f[1], ChainPrefix) {
				cur.rules[f[1]] = append(cur.rules[f[1]], l)
				continue
			}
			for i := 2; i+1 < len(f); i++ {
				if (f[i] == "-j" || f[i] == "-g" || f[i] == "--jump" || f[i] == "--goto") && strings.HasPrefix(f[i+1], ChainPrefix) {
					cur.jumps = append(cur.jumps, l)
					break
				}
			}
		}
	}
	for name, t := range tables {
		if len(t.chains) == 0 && len(t.jumps) == 0 {
			delete(tables, name)
		}
	}
	return tables
}

// RenderInstall returns the iptables-restore --noflush input that makes
// family f's tables hold exactly cfg's rules, given the current -save
// output of that family (nil when there is none, as for a dry run).
//
// Each meshdns chain is declared, which flushes it, and refilled; its jump
// from OUTPUT or PREROUTING is inserted first in that chain unless saved
// already has it; duplicate or other jumps to meshdns chains, and meshdns
// chains cfg no longer needs, are deleted. When f gets no rules (no
// nameserver of that family) this is RenderRemove(saved). The text is empty
// when there is nothing to do.
func RenderInstall(cfg Config, f Family, saved []byte) ([]byte, error) {
	c, err := cfg.withDefaults()
	if err != nil {
		return nil, err
	}
	if !c.wants(f) {
		return RenderRemove(saved), nil
	}
	have := parseSave(saved)
	want := desiredChains(c, f)
	var b bytes.Buffer
	for _, table := range tableOrder(want, have) {
		st := have[table]
		if st == nil {
			st = &savedTable{}
		}
		var chains []chainSpec
		for _, cs := range want {
			if cs.table == table {
				chains = append(chains, cs)
			}
		}
		fmt.Fprintf(&b, "*%s\n", table)
		for _, cs := range chains {
			fmt.Fprintf(&b, ":%s - [0:0]\n", cs.name)
		}
		stale := staleChains(st.chains, chains)
		for _, name := range stale {
			fmt.Fprintf(&b, ":%s - [0:0]\n", name)
		}
		kept := map[string]bool{}
		for _, j := range st.jumps {
			keep := false
			for _, cs := range chains {
				if j == cs.jump() && !kept[cs.name] {
					keep, kept[cs.name] = true, true
				}
			}
			if !keep {
				fmt.Fprintf(&b, "-D %s\n", j[len("-A "):])
			}
		}
		for _, cs := range chains {
			if !kept[cs.name] {
				fmt.Fprintf(&b, "-I %s -j %s\n", cs.hook, cs.name)
			}
		}
		for _, cs := range chains {
			for _, r := range cs.rules {
				fmt.Fprintf(&b, "-A %s %s\n", cs.name, r)
			}
		}
		for _, name := range stale {
			fmt.Fprintf(&b, "-X %s\n", name)
		}
		b.WriteString("COMMIT\n")
	}
	return b.Bytes(), nil
}

// RenderRemove returns the iptables-restore --noflush input that deletes,
// given a family's current -save output, every rule that jumps to a
// meshdns chain and every meshdns chain. It is empty when saved holds
// none.
func RenderRemove(saved []byte) []byte {
	have := parseSave(saved)
	var b bytes.Buffer
	for _, table := range tableOrder(nil, have) {
		st := have[table]
		fmt.Fprintf(&b, "*%s\n", table)
		for _, name := range st.chains {
			fmt.Fprintf(&b, ":%s - [0:0]\n", name)
		}
		for _, j := range st.jumps {
			fmt.Fprintf(&b, "-D %s\n", j[len("-A "):])
		}
		for _, name := range st.chains {
			fmt.Fprintf(&b, "-X %s\n", name)
		}
		b.WriteString("COMMIT\n")
	}
	return b.Bytes()
}

// tableOrder lists the tables to write: those of want in order, then the
// other tables of have that hold meshdns chains or jumps, sorted.
func tableOrder(want []chainSpec, have map[string]*savedTable) []string {
	var out []string
	for _, cs := range want {
		if !slices.Contains(out, cs.table) {
			out = append(out, cs.table)
		}
	}
	var rest []string
	for t := range have {
		if !slices.Contains(out, t) {
			rest = append(rest, t)
		}
	}
	slices.Sort(rest)
	return append(out, rest...)
}

// staleChains returns the saved meshdns chains not among want.
func staleChains(saved []string, want []chainSpec) []string {
	var out []string
	for _, name := range saved {
		if !slices.ContainsFunc(want, func(cs chainSpec) bool { return cs.name == name }) {
			out = append(out, name)
		}
	}
	return out
}

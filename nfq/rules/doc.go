// Package rules holds meshdns's iptables rules: what sends a pod's DNS
// queries to NFQUEUE and keeps them out of conntrack. It renders them,
// installs them and removes them; the queues they feed are read by package
// nfq, which this package does not import (nor does nfq import it: the
// queue numbers are the caller's to pass to both, as cmd/meshdns does).
//
// The contract: one Config says what to capture and to which queues;
// Install makes a network namespace's tables hold exactly those rules,
// Remove takes every one of them out, both idempotent, and neither
// touches a rule that is not meshdns's.
//
// Install writes meshdns's rules into chains of its own, entered by one
// jump each from a built-in chain, for each family (iptables, ip6tables),
// with the rules of that family's nameservers only (or, with CaptureAll,
// port 53 to any address):
//
//	mangle MESHDNS-OUTPUT (from OUTPUT)
//	  -m mark --mark M/M -j RETURN                       meshdns's own packets
//	  -d NS -p udp|tcp --dport 53 -j NFQUEUE --queue-num N --queue-bypass
//	raw MESHDNS-NOTRACK-OUT (from OUTPUT)
//	  -m mark --mark M/M -j RETURN
//	  -d NS -p udp|tcp --dport 53 -j CT --notrack
//	raw MESHDNS-NOTRACK-PRE (from PREROUTING)
//	  -s NS -p udp --sport 53 -j CT --notrack
//	  -s NS -i lo -p tcp --sport 53 -j CT --notrack
//	  -s NS ! -i lo -p tcp --sport 53 --tcp-flags RST RST                 TCPResets only
//	        -j NFQUEUE --queue-num N+Queues --queue-bypass
//
// With a Filter (QueryFilter: an engine without a cache), the UDP queue
// rule becomes one rule per name the engine answers under, each with an
// xt_string --icase match of the name's wire form, and one xt_u32 rule
// for single-label questions; other UDP queries go to the nameserver
// without being queued. (The TCP queries are queued in raw OUTPUT, before
// conntrack; render.go says why.) --queue-bypass keeps DNS working whenever no consumer is
// bound. NOTRACK keeps answered queries from leaving conntrack entries
// behind. The queues fail open: past their length the kernel passes
// packets on unanswered. The reset queue (TCPResets, Config.ResetQueue)
// is the exception: it takes the nameservers' TCP RSTs, one for each
// segment of a flow meshdns answers that got past a full queue, and fails
// closed, so that none reaches the client unjudged.
// Everything is applied with iptables-restore --noflush, so each table
// changes atomically, and nothing outside meshdns's chains but their jumps
// is touched. RenderInstall and RenderRemove return the restore text for
// tests and dry runs; a Runner runs the tools (ExecRunner here,
// NetNSRunner inside another network namespace, FakeRunner records them).
package rules

package main

import (
	"context"
	"crypto/rand"
	"flag"
	"fmt"
	"log/slog"
	"strconv"
	"strings"
	"time"

	"github.com/meshdns/meshdns/dnsengine/tcpstack"
	"github.com/meshdns/meshdns/dnsengine/verdict"
	"github.com/meshdns/meshdns/nfq"
)

// tcpFlags configure DNS over TCP (README.md "DNS over TCP").
type tcpFlags struct {
	mode     string
	idle     time.Duration
	maxFlows uint
	maxMem   byteSize
	keyFile  string
}

func (t *tcpFlags) register(fs *flag.FlagSet) {
	fs.StringVar(&t.mode, "tcp", "on", "DNS over TCP: on (answer it in place, forward other names over meshdns's own sockets) or off (pass it through)")
	fs.DurationVar(&t.idle, "tcp-idle-timeout", tcpstack.DefaultIdleTimeout, "forget a TCP flow idle this long (it is resumed if the client goes on)")
	fs.UintVar(&t.maxFlows, "tcp-max-flows", tcpstack.DefaultMaxFlows, "TCP flows answered at once; new ones past it pass through to the nameserver")
	t.maxMem = tcpstack.DefaultMaxMemory
	fs.Var(&t.maxMem, "tcp-max-memory", "memory all TCP state may take together (flows, partial queries, answers, forwarded queries), e.g. 16MiB; their live bytes are held to half of it (the rest is the garbage collector's headroom), and past 3/8 of it new flows pass through to the nameserver")
	fs.StringVar(&t.keyFile, "tcp-key-file", defaultTCPKeyFile, "key of the TCP ISN cookie (created 0600 if missing); keep it across restarts to resume flows")
}

func (t *tcpFlags) check() error {
	switch {
	case t.mode != "on" && t.mode != "off":
		return usageError{fmt.Errorf("--tcp %q: want on or off", t.mode)}
	case t.idle <= 0:
		return usageError{fmt.Errorf("--tcp-idle-timeout %v: want a positive duration", t.idle)}
	case t.maxFlows == 0 || t.maxFlows > 1<<20:
		return usageError{fmt.Errorf("--tcp-max-flows %d: want 1..1048576", t.maxFlows)}
	case t.maxMem < 6<<20 || t.maxMem > 1<<40:
		return usageError{fmt.Errorf("--tcp-max-memory %d: want 6MiB..1TiB", t.maxMem)}
	case t.keyFile == "":
		return usageError{fmt.Errorf("--tcp-key-file is empty")}
	}
	return nil
}

// byteSize is a flag of a number of bytes with an optional binary suffix
// (KiB, MiB, GiB).
type byteSize int64

func (b *byteSize) String() string { return strconv.FormatInt(int64(*b), 10) }

func (b *byteSize) Set(s string) error {
	mult := int64(1)
	for _, u := range []struct {
		suffix string
		mult   int64
	}{{"KiB", 1 << 10}, {"MiB", 1 << 20}, {"GiB", 1 << 30}} {
		if n, ok := strings.CutSuffix(s, u.suffix); ok {
			s, mult = n, u.mult
			break
		}
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil || n < 0 || n > 1<<40/mult {
		return fmt.Errorf("%q: want a number of bytes, optionally with KiB, MiB or GiB", s)
	}
	*b = byteSize(n * mult)
	return nil
}

// queuedPacket is the packet the consumer is handling, as the engine's
// TCP stack may hold it (tcpstack.Holdable). A struct of one pointer: it
// goes into the interface without an allocation.
type queuedPacket struct{ p *nfq.Holdable }

// Hold takes the packet out of its batch; its handle goes with the
// stack's forwarded queries.
func (q queuedPacket) Hold() tcpstack.Held { return heldPacket{q.p.Hold()} }

// heldPacket is a packet the TCP stack holds (tcpstack.Held).
type heldPacket struct{ p *nfq.HeldPacket }

// Release gives the packet the queue's form of the engine's verdict.
func (h heldPacket) Release(res verdict.Result) {
	v, out := queueVerdict(res)
	h.p.Release(v, out)
}

// queueVerdict turns an engine verdict into the queue's.
func queueVerdict(res verdict.Result) (nfq.Verdict, []byte) {
	switch res.Verdict {
	case verdict.Rewrite:
		if isTCP(res.Packet) {
			// Queued in raw OUTPUT: once more through it, to be untracked
			// (nfq/rules/render.go).
			return nfq.RepeatModified, res.Packet
		}
		return nfq.AcceptModified, res.Packet
	case verdict.Drop:
		return nfq.Drop, nil
	case verdict.Hold:
		return nfq.Hold, nil
	}
	return nfq.Accept, nil
}

// key returns the ISN cookie key from --tcp-key-file, creating the file
// when missing. If the file cannot be read or written (a read-only root, no
// /run/meshdns volume, not root), TCP still works with a key of this process
// only: flows then cannot be resumed across a restart (their clients
// retry), which the warning says.
func (t *tcpFlags) key(log *slog.Logger) []byte {
	k, err := loadTCPKey(t.keyFile)
	if err == nil {
		return k
	}
	log.Warn("TCP ISN key file unusable: using a key of this process; TCP flows will not be resumed after a restart",
		"path", t.keyFile, "err", err)
	k = make([]byte, 32)
	rand.Read(k)
	return k
}

// Sweep periods of the engine's TCP flows: while flows are open, and while
// none is (an idle pod's meshdns then wakes twice a minute for it). A
// segment sweeps its own shard as it arrives, so the periodic sweep only
// expires flows that went quiet; with none open there is nothing to expire.
// A flow opened during an idle period is first swept at most tcpSweepIdle
// later, so a quiet flow may live that much past --tcp-idle-timeout (and a
// held segment past the hold timeout, a backstop behind the forwarder's
// own timeouts).
const (
	tcpSweepBusy = time.Second
	tcpSweepIdle = 30 * time.Second
)

// tcpSweeper is what sweepTCP needs of the engine.
type tcpSweeper interface {
	TCPFlows() int
	SweepTCP()
}

// sweepTCP sweeps e's TCP flows until ctx is done: every tcpSweepBusy
// while flows are open, every tcpSweepIdle otherwise.
func sweepTCP(ctx context.Context, e tcpSweeper) {
	t := time.NewTimer(tcpSweepPeriod(e.TCPFlows()))
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			e.SweepTCP()
			t.Reset(tcpSweepPeriod(e.TCPFlows()))
		}
	}
}

// tcpSweepPeriod is the time to the next sweep with flows open.
func tcpSweepPeriod(flows int) time.Duration {
	if flows > 0 {
		return tcpSweepBusy
	}
	return tcpSweepIdle
}

// isTCP reports whether pkt, an IPv4 or IPv6 packet the engine wrote, is
// TCP (the engine writes no IPv6 extension headers).
func isTCP(pkt []byte) bool {
	switch {
	case len(pkt) >= 20 && pkt[0]>>4 == 4:
		return pkt[9] == 6
	case len(pkt) >= 40 && pkt[0]>>4 == 6:
		return pkt[6] == 6
	}
	return false
}

package chaos_test

// DNS over TCP attacked from inside the pod. A process of the pod
// (any container, any library) can open TCP connections to the nameserver
// and send what it likes; meshdns takes those flows over, so every byte it
// keeps for them is the attacker's to inflate.

import (
	"bufio"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/meshdns/meshdns/dnsengine/enginetest"
	"github.com/meshdns/meshdns/dnsengine/tcpstack"
	"github.com/meshdns/meshdns/internal/netns"
	"github.com/meshdns/meshdns/internal/podtest"
	"github.com/meshdns/meshdns/internal/tcpattack"
	"github.com/miekg/dns"
)

// tcpBudget is meshdns's default TCP memory budget, the one the attacks
// run against.
const tcpBudget = tcpstack.DefaultMaxMemory

// tcpTarget is the pod's nameserver, over TCP.
const tcpTarget = "198.18.0.1:53"

// rssKiB reads a process's resident set size.
func rssKiB(pid int) (int64, error) {
	f, err := os.Open(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), "VmRSS:"); ok {
			return strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), 10, 64)
		}
	}
	return 0, errors.New("no VmRSS")
}

// rssWatch samples a process's RSS every 20 ms and keeps the peak since the
// last reset.
type rssWatch struct {
	peak atomic.Int64
	stop chan struct{}
	done chan struct{}
}

func watchRSS(t *testing.T, pid int) *rssWatch {
	w := &rssWatch{stop: make(chan struct{}), done: make(chan struct{})}
	go func() {
		defer close(w.done)
		for {
			if v, err := rssKiB(pid); err == nil && v > w.peak.Load() {
				w.peak.Store(v)
			}
			select {
			case <-w.stop:
				return
			case <-time.After(20 * time.Millisecond):
			}
		}
	}()
	t.Cleanup(func() { close(w.stop); <-w.done })
	return w
}

// reset returns the peak so far and starts a new one.
func (w *rssWatch) reset() int64 { return w.peak.Swap(0) }

// dialAttack connects from the pod with a receive buffer of rcvbuf bytes
// (0: the default), set before the handshake so that the window stays
// small.
func dialAttack(ns string, rcvbuf int) (*net.TCPConn, error) {
	return attackTarget(ns).Dial(rcvbuf)
}

// attackTarget is the pod's nameserver attacked from namespace ns.
func attackTarget(ns string) tcpattack.Target {
	return tcpattack.Target{NS: ns, Server: netip.MustParseAddrPort(tcpTarget)}
}

// tcpClient is the well-behaved client: a new connection every interval,
// one query on it (a mesh name and an external one in turn), the answer
// read within 2 s. Any answer with the right ID and an address is a
// success: meshdns's, or the nameserver's when meshdns passes the flow.
type tcpClient struct {
	sent, local, upstream, lost atomic.Int64
	errs                        sync.Map // error text -> count, for the log
	stop                        chan struct{}
	done                        chan struct{}
}

func startTCPClient(t *testing.T, ns string, every time.Duration) *tcpClient {
	c := &tcpClient{stop: make(chan struct{}), done: make(chan struct{})}
	names := []string{"web.default.svc.cluster.local", "www.example.org"}
	go func() {
		defer close(c.done)
		tick := time.NewTicker(every)
		defer tick.Stop()
		for i := 0; ; i++ {
			select {
			case <-c.stop:
				return
			case <-tick.C:
			}
			c.sent.Add(1)
			local, err := askTCP(ns, names[i%2], uint16(i))
			switch {
			case err != nil:
				c.lost.Add(1)
				n, _ := c.errs.LoadOrStore(err.Error(), new(atomic.Int64))
				n.(*atomic.Int64).Add(1)
			case local:
				c.local.Add(1)
			default:
				c.upstream.Add(1)
			}
		}
	}()
	t.Cleanup(c.end)
	return c
}

func (c *tcpClient) end() {
	select {
	case <-c.stop:
	default:
		close(c.stop)
	}
	<-c.done
}

func (c *tcpClient) String() string {
	s := fmt.Sprintf("%d sent, %d answered by meshdns, %d by the nameserver, %d lost", c.sent.Load(), c.local.Load(), c.upstream.Load(), c.lost.Load())
	c.errs.Range(func(k, v any) bool {
		s += fmt.Sprintf("; %dx %s", v.(*atomic.Int64).Load(), k)
		return true
	})
	return s
}

// askTCP asks name A over a new connection; local reports an
// authoritative answer (meshdns's).
func askTCP(ns, name string, id uint16) (local bool, err error) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	c, err := netns.Dial(ctx, ns, "tcp4", tcpTarget)
	if err != nil {
		return false, err
	}
	defer c.Close()
	// The length and the message in two writes, as many clients do.
	m, err := exchangeTCP(c, name, id, true)
	if err != nil {
		return false, err
	}
	if len(m.Answer) == 0 {
		return false, fmt.Errorf("answer with no records")
	}
	return m.Authoritative, nil
}

// exchangeTCP asks name A with id on c (the length prefix written apart
// from the message when split) and reads the answer, within 2 s.
func exchangeTCP(c net.Conn, name string, id uint16, split bool) (*dns.Msg, error) {
	c.SetDeadline(time.Now().Add(2 * time.Second))
	q := new(dns.Msg)
	q.SetQuestion(name+".", dns.TypeA)
	q.Id = id
	w, _ := q.Pack()
	out := append(binary.BigEndian.AppendUint16(nil, uint16(len(w))), w...)
	if split {
		if _, err := c.Write(out[:2]); err != nil {
			return nil, err
		}
		out = out[2:]
	}
	if _, err := c.Write(out); err != nil {
		return nil, err
	}
	var l [2]byte
	if _, err := io.ReadFull(c, l[:]); err != nil {
		return nil, err
	}
	b := make([]byte, binary.BigEndian.Uint16(l[:]))
	if _, err := io.ReadFull(c, b); err != nil {
		return nil, err
	}
	m := new(dns.Msg)
	if err := m.Unpack(b); err != nil {
		return nil, err
	}
	if m.Id != id {
		return nil, fmt.Errorf("answer id %d, want %d", m.Id, id)
	}
	return m, nil
}

// attack is one way to inflate meshdns's TCP state, run for d.
type attack struct {
	name string
	// what the check proves happened (a figure of the attacker's side).
	run func(t *testing.T, p *podtest.Pod, d time.Duration) (effect string, real bool, realWhat string)
}

// isReset reports a connection reset (by meshdns).
func isReset(err error) bool { return tcpattack.IsReset(err) }

func tcpAttacks() []attack {
	return []attack{
		{"0xffff length prefixes, 60,000 bytes each, then trickled a byte every 500 ms", attackPrefixes},
		{"many connections, each with a partial query", attackManyFlows},
		{"pipelined query floods, answers never read", attackPipelined},
		{"SYN flood from a raw socket", attackSYNFlood},
	}
}

func attackPrefixes(t *testing.T, p *podtest.Pod, d time.Duration) (string, bool, string) {
	const flows = 300
	opened, resets := tcpattack.Prefixes(attackTarget(p.Topo.Pod), flows, d)
	return fmt.Sprintf("%d connections, %d reset by meshdns (their partial query did not fit the budget)", opened, resets),
		opened == flows && resets > 0, "300 connections opened and 60 KB partial queries past the budget's soft limit reset"
}

func attackManyFlows(t *testing.T, p *podtest.Pod, d time.Duration) (string, bool, string) {
	held, failed := tcpattack.ManyFlows(attackTarget(p.Topo.Pod), 6000, d)
	return fmt.Sprintf("%d connections held open (%d dials failed)", held, failed),
		held >= 1000, "at least 1,000 connections opened"
}

func attackPipelined(t *testing.T, p *podtest.Pod, d time.Duration) (string, bool, string) {
	const flows = 64
	written, blocked := tcpattack.Pipelined(attackTarget(p.Topo.Pod), flows, "web.default.svc.cluster.local.", d)
	return fmt.Sprintf("%d connections wrote %.1f MB of queries; %d were stopped by meshdns no longer reading (backpressure)", flows, float64(written)/1e6, blocked),
		blocked > 0, "meshdns stopped reading a flooding connection"
}

func attackSYNFlood(t *testing.T, p *podtest.Pod, d time.Duration) (string, bool, string) {
	raw := newRawSender(t, p.Topo.Pod)
	sent, err := tcpattack.SYNFlood(raw, netip.MustParseAddr("198.18.0.2"), netip.MustParseAddrPort(tcpTarget), d)
	if err != nil {
		t.Fatal(err)
	}
	return fmt.Sprintf("%d SYNs sent", sent), sent >= 1000, "at least 1,000 SYNs sent"
}

// TestTCPMemoryAttacks: a process in the pod runs each attack on meshdns's
// TCP state in turn while a well-behaved client asks over UDP (the suite's
// load) and over TCP (a new connection every 20 ms). meshdns's RSS stays
// within its TCP budget (16 MiB) over its RSS before the attacks, and
// neither client loses a query.
func TestTCPMemoryAttacks(t *testing.T) {
	prof := getProfile()
	rec := newRecorder(t, "9a", "TCP attacks from inside the pod: memory within the budget, nothing lost", prof)
	rec.note("A process in the pod opens TCP connections to the nameserver (meshdns takes them over) and sends what " +
		"it likes: 0xffff length prefixes followed by 60,000 bytes and then a byte every 500 ms, thousands of " +
		"connections each holding a partial query, floods of pipelined queries on connections that never read their " +
		"answers (4 KB receive buffer), and SYNs from a raw socket. Everything meshdns keeps for TCP is charged to " +
		"one budget (--tcp-max-memory, 16 MiB by default, dnsengine/tcp_budget.go), whose live bytes are held to " +
		"half of it (the other half is the garbage collector's headroom at GOGC=100): past 3/8 of it new flows pass " +
		"through to the nameserver and a flow whose partial query would grow is reset; a flow that completes no " +
		"query for --tcp-idle-timeout is forgotten however often it sends. The RSS figure is the peak of " +
		"/proc/<pid>/status VmRSS, sampled every 20 ms, over the peak RSS of the same well-behaved load in the 2 s " +
		"before the attack (baseline); each attack runs against a meshdns of its own (the Go runtime keeps freed " +
		"memory for minutes). meshdns runs with GOMEMLIMIT unset (GOGC=100), the harsher case. The concurrent " +
		"clients are the suite's UDP load and a TCP client opening a new connection every 20 ms (a mesh and an " +
		"external name in turn): an answer from meshdns or, for a flow meshdns passes through, from the nameserver " +
		"counts as answered. A burst of the attacker's segments (6,000 FINs when it closes its connections) fills " +
		"the queues, which fail open: a well-behaved flow's segment that gets past them to the nameserver draws the " +
		"nameserver's RST, which meshdns drops (a queue of its own, failing closed) so that the client resends. " +
		"The load table shows the first attack's UDP load.")
	d := 3 * time.Second
	if prof.long {
		d = 60 * time.Second
	}
	objects := podObjects(t)
	var sent, lost, wrong int
	var tcpSent, tcpLost int64
	for i, a := range tcpAttacks() {
		// A pod of its own for each attack: the Go runtime keeps freed
		// memory for minutes, so one attack's peak would hold another's.
		p := podtest.Start(t, podtest.Config{Objects: objects, Args: []string{"--tcp-key-file", filepath.Join(t.TempDir(), "tcp.key")}})
		for j := range 64 { // warm-up: TCP answers in every shard, the forwarder's sockets
			if _, err := askTCP(p.Topo.Pod, []string{"web.default.svc.cluster.local", "www.example.org"}[j%2], uint16(j)); err != nil {
				t.Fatalf("warm-up: %v", err)
			}
		}
		watch := watchRSS(t, p.Meshdns.Pid())
		l := startLoad(t, p, prof, d+4*time.Second, 0)
		if i == 0 {
			rec.zero = l.begin
		}
		tcpc := startTCPClient(t, p.Topo.Pod, 20*time.Millisecond)
		// The baseline: the peak RSS under the well-behaved load alone.
		time.Sleep(500 * time.Millisecond)
		watch.reset()
		time.Sleep(2 * time.Second)
		base := watch.reset()
		start := time.Now()
		effect, real, realWhat := a.run(t, p, d)
		peak := watch.reset()
		tcpc.end()
		res := l.wait(t)
		s := res.Summary()
		sent, lost, wrong = sent+int(s.Sent), lost+int(s.Lost), wrong+int(s.Wrong)
		tcpSent, tcpLost = tcpSent+tcpc.sent.Load(), tcpLost+tcpc.lost.Load()
		rec.fault(start, "%s for %s", a.name, fmtDur(d))
		over := float64(peak-base) / 1024
		rec.figure("RSS over the baseline: "+a.name, "%.1f MiB (baseline %.1f MiB, peak %.1f MiB); attacker: %s", over, float64(base)/1024, float64(peak)/1024, effect)
		rec.figure("concurrent clients: "+a.name, "UDP %d of %d lost, %d wrong; TCP %s", s.Lost, s.Sent, s.Wrong, tcpc)
		rec.check(real, "the attack happened: "+realWhat, "%s", effect)
		rec.check(peak-base <= tcpBudget/1024, "RSS within the TCP budget over the baseline: "+a.name, "%.1f MiB over, budget %d MiB", over, tcpBudget>>20)
		rec.check(s.Lost == 0 && s.Wrong == 0, "the concurrent UDP load lost nothing: "+a.name, "%d lost, %d wrong of %d", s.Lost, s.Wrong, s.Sent)
		rec.check(tcpc.lost.Load() == 0 && tcpc.sent.Load() > 50, "the concurrent TCP client lost nothing: "+a.name, "%s", tcpc)
		rec.check(!p.Meshdns.Exited(), "meshdns still running: "+a.name, "")
		rec.noCrashSigns("meshdns", p.Meshdns.Logs())
		if i == 0 {
			rec.load(res) // the first run's load describes the offered load
		}
	}
	rec.figure("all attacks together", "UDP %d of %d lost, %d wrong; TCP %d of %d lost", lost, sent, wrong, tcpLost, tcpSent)
}

// TestTCPInjection: a process in the pod that knows a TCP flow's 4-tuple
// (any process can read /proc/net/tcp) but not its sequence numbers
// injects RSTs (in and out of the window), SYNs and out-of-window data
// segments into it from a raw socket while the flow's client keeps
// asking on it. The flow survives: every query on it is answered.
func TestTCPInjection(t *testing.T) {
	prof := getProfile()
	rec := newRecorder(t, "9b", "injected RST, SYN and out-of-window segments on a TCP flow", prof)
	rec.note("An RST or SYN on a flow's 4-tuple used to end the flow meshdns held. Now an RST ends it only " +
		"at exactly the next sequence number; one elsewhere in the window gets a challenge ACK, and a SYN on a held " +
		"flow too (RFC 5961); out-of-window data is answered with a duplicate ACK. The injected segments carry " +
		"random sequence and acknowledgment numbers: a blind attacker's.")
	p := podtest.Start(t, podtest.Config{Objects: podObjects(t), Args: []string{"--tcp-key-file", filepath.Join(t.TempDir(), "tcp.key")}})
	d := 3 * time.Second
	if prof.long {
		d = 60 * time.Second
	}
	c, err := dialAttack(p.Topo.Pod, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	sport := uint16(c.LocalAddr().(*net.TCPAddr).Port)
	raw := newRawSender(t, p.Topo.Pod)
	src, dst := netip.MustParseAddr("198.18.0.2"), netip.MustParseAddr("198.18.0.1")
	rng := rand.New(rand.NewPCG(3, 4))
	var injected [4]atomic.Int64 // RST, RST+ACK, SYN, data
	stop := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		for i := 0; ; i++ {
			select {
			case <-stop:
				return
			default:
			}
			kind := i % 4
			s := enginetest.TCPSeg{Src: src, Dst: dst, SrcPort: sport, DstPort: 53, Seq: rng.Uint32(), Ack: rng.Uint32(), Window: 500}
			switch kind {
			case 0:
				s.RST = true
			case 1:
				s.RST, s.ACK = true, true
			case 2:
				s.SYN, s.MSS = true, 1460
			case 3:
				s.ACK, s.PSH = true, true
				s.Payload = []byte{0, 12, 1, 2, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0}
			}
			pkt, err := enginetest.TCPPacket(s)
			if err != nil {
				panic(err)
			}
			if raw.Send(pkt, dst) == nil {
				injected[kind].Add(1)
			}
			// Paced (bursts of 10) so that the queue does not overflow: a
			// flood past --queue-len fails open, and a taken-over flow's
			// segment that reaches the real server is reset by it (the
			// queue's bound, not the sequence checks this proves).
			if i%10 == 9 {
				time.Sleep(time.Millisecond)
			}
		}
	}()
	start := time.Now()
	asked, answered := 0, 0
	var firstErr error
	for time.Since(start) < d {
		asked++
		if err := askOn(c, "web.default.svc.cluster.local", uint16(asked)); err != nil {
			firstErr = err
			break
		}
		answered++
		time.Sleep(10 * time.Millisecond)
	}
	close(stop)
	wg.Wait()
	rec.fault(start, "random RSTs, RST+ACKs, SYNs and data segments on the flow's 4-tuple for %s", fmtDur(d))
	rec.figure("segments injected", "%d RST, %d RST+ACK, %d SYN, %d data", injected[0].Load(), injected[1].Load(), injected[2].Load(), injected[3].Load())
	rec.figure("queries on the attacked flow", "%d asked, %d answered", asked, answered)
	inj := injected[0].Load() + injected[1].Load() + injected[2].Load()
	rec.check(inj >= 1000, "the attack happened: at least 1,000 RST and SYN segments injected", "%d", inj)
	rec.check(firstErr == nil && answered == asked && asked > 50, "the flow survived: every query on it answered", "%d of %d answered; %v", answered, asked, firstErr)
	rec.check(!p.Meshdns.Exited(), "meshdns still running", "")
	rec.noCrashSigns("meshdns", p.Meshdns.Logs())
}

// askOn asks name A on an open connection and wants meshdns's answer.
func askOn(c net.Conn, name string, id uint16) error {
	m, err := exchangeTCP(c, name, id, false)
	if err != nil {
		return err
	}
	if !m.Authoritative || len(m.Answer) == 0 {
		return fmt.Errorf("answer aa %v, %d records", m.Authoritative, len(m.Answer))
	}
	return nil
}

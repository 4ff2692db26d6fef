package main

import (
	"context"
	"fmt"
	"log/slog"
	"strings"
	"sync"

	"golang.org/x/sys/unix"

	"github.com/meshdns/meshdns/dnsengine"
	"github.com/meshdns/meshdns/dnsengine/tcpstack"
	"github.com/meshdns/meshdns/exchange"
	"github.com/meshdns/meshdns/nfq"
	"github.com/meshdns/meshdns/nfq/rules"
	"github.com/meshdns/meshdns/node/pods"
	"github.com/meshdns/meshdns/observe"
)

// nodeAgent starts the per-pod servers of "meshdns node".
type nodeAgent struct {
	log      *slog.Logger
	reg      dnsengine.Registry // the node's one table
	ecfg     dnsengine.Config
	queueNum uint16
	queueLen uint32
	maxRate  uint32 // packets a second per pod (nfq.Config.MaxRate)
	budget   *cacheBudget
	shards   *shardPool
	// tcp answers DNS over TCP in every pod when not nil.
	tcp *nodeTCP
}

// nodeTCP is node mode's DNS over TCP: the flags of every pod's engine and
// the one ISN cookie key of the node.
type nodeTCP struct {
	flags *tcpFlags
	key   []byte
}

// podServer is one pod's engine and queue consumer.
type podServer struct {
	cancel  context.CancelFunc
	cons    *nfq.Consumer
	release func() // after the consumer has stopped, in reverse order of acquisition
	once    sync.Once
}

// start serves p: an engine for the pod's namespace on the node's table,
// with its cache share and, with TCP on or serve-stale or prefetch, its
// own client for meshdns's queries whose sockets are opened in the pod (its rules let the agent's mark through), bound to
// a queue consumer whose netlink socket is opened inside the pod's network
// namespace (queue numbers are per namespace, so every pod uses the same
// ones). It returns once the queues are bound: from then on the pod's
// queries are answered.
func (a *nodeAgent) start(_ context.Context, p pods.Pod) (srv pods.Server, err error) {
	var undo []func() // run in reverse on failure, or by Stop
	release := func() {
		for i := len(undo) - 1; i >= 0; i-- {
			undo[i]()
		}
	}
	defer func() {
		if err != nil {
			release()
		}
	}()
	nsfd, err := unix.Open(p.Event.NetNS, unix.O_RDONLY|unix.O_CLOEXEC, 0)
	if err != nil {
		return nil, fmt.Errorf("opening %s: %w", p.Event.NetNS, err)
	}
	undo = append(undo, func() { unix.Close(nsfd) })
	log := a.log.With("pod", p.Event.Namespace+"/"+p.Event.Name)
	ecfg := a.ecfg
	ecfg.PodNamespace = strings.ToLower(p.Context.Namespace)
	ecfg.Cache.Size = a.budget.take()
	undo = append(undo, func() { a.budget.give(ecfg.Cache.Size) })
	// meshdns's own queries for the pod (TCP forwarding, cache refresh),
	// from sockets opened in the pod, where its rules let the mark through.
	refreshing := ecfg.Cache.Size > 0 && (ecfg.Cache.Stale > 0 || ecfg.Cache.Prefetch > 0)
	var own *exchange.Client
	if refreshing || a.tcp != nil {
		own, err = exchange.New(exchange.Config{Mark: rules.DefaultMark, UDPSize: max(ecfg.EDNSSize, 512),
			NetNS: fmt.Sprintf("/proc/self/fd/%d", nsfd), Logger: log})
		if err != nil {
			return nil, err
		}
		undo = append(undo, func() { own.Close() })
		if refreshing {
			ecfg.Cache.Refresher = own
		}
	}
	eng, err := dnsengine.New(ecfg, a.reg)
	if err != nil {
		return nil, err
	}
	if refreshing {
		refCtx, stopRefresh := context.WithCancel(context.Background())
		done := make(chan struct{})
		go func() { own.Run(refCtx, eng); close(done) }()
		undo = append(undo, func() { stopRefresh(); <-done })
	}
	if a.tcp != nil {
		t := a.tcp.flags
		err = eng.EnableTCP(tcpstack.Config{IdleTimeout: t.idle, MaxFlows: int(t.maxFlows),
			MaxMemory: int64(t.maxMem), MaxPacket: nfq.MaxVerdictPayload, Key: a.tcp.key, Forwarder: own, Logger: log})
		if err != nil {
			return nil, err
		}
		sweepCtx, stopSweep := context.WithCancel(context.Background())
		go sweepTCP(sweepCtx, eng)
		undo = append(undo, stopSweep)
	}
	shard, putShard := a.shards.get()
	undo = append(undo, putShard)
	cons, err := nfq.New(nfq.Config{QueueNum: a.queueNum, ResetQueue: a.tcp != nil, MaxQueueLen: a.queueLen, MaxRate: a.maxRate,
		NetNS: nsfd, Open: nfq.OpenBatch, Logger: log}, &engineHandler{e: eng, shard: shard})
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithCancel(context.Background())
	if err := cons.Start(ctx); err != nil {
		cancel()
		return nil, fmt.Errorf("binding the queues in %s: %w", p.Event.NetNS, err)
	}
	return &podServer{cancel: cancel, cons: cons, release: release}, nil
}

// Stop drains the pod's queues, unbinds them, and releases the rest: its
// forwarder (held TCP segments wait for it during the drain), its cache
// share, the namespace.
func (s *podServer) Stop() {
	s.once.Do(func() {
		s.cancel()
		_ = s.cons.Wait()
		s.release()
	})
}

// cacheBudget shares the node's cache entries among pods: each takes
// perPod entries while they last, then runs without a cache.
type cacheBudget struct {
	mu     sync.Mutex
	left   int
	perPod int
}

func newCacheBudget(total, perPod int) *cacheBudget {
	return &cacheBudget{left: total, perPod: perPod}
}

func (b *cacheBudget) take() int {
	b.mu.Lock()
	defer b.mu.Unlock()
	n := min(b.perPod, b.left)
	b.left -= n
	return n
}

func (b *cacheBudget) give(n int) {
	b.mu.Lock()
	b.left += n
	b.mu.Unlock()
}

// shardPool reuses the observer's metric shards: one per pod served, put
// back when the pod goes, so pod churn does not grow the observer.
type shardPool struct {
	obs  *observe.Observer
	mu   sync.Mutex
	free []*observe.Shard
}

func (p *shardPool) get() (*observe.Shard, func()) {
	p.mu.Lock()
	defer p.mu.Unlock()
	var s *observe.Shard
	if n := len(p.free); n > 0 {
		s, p.free = p.free[n-1], p.free[:n-1]
	} else {
		s = p.obs.Shard()
	}
	return s, func() {
		p.mu.Lock()
		p.free = append(p.free, s)
		p.mu.Unlock()
	}
}

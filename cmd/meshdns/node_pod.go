package main

import (
	"context"
	"fmt"
	"log/slog"
	"strings"
	"sync"

	"golang.org/x/sys/unix"

	"github.com/meshdns/meshdns/dnsengine"
	"github.com/meshdns/meshdns/nfq"
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
	budget   *cacheBudget
	shards   *shardPool
}

// podServer is one pod's engine and queue consumer.
type podServer struct {
	cancel  context.CancelFunc
	cons    *nfq.Consumer
	release func()
	once    sync.Once
}

// start serves p: an engine for the pod's namespace on the node's table,
// with its cache share,
// bound to a queue consumer whose netlink socket is opened inside the
// pod's network namespace (queue numbers are per namespace, so every pod
// uses the same one). It returns once the queue is bound: from then on the
// pod's queries are answered.
func (a *nodeAgent) start(_ context.Context, p pods.Pod) (pods.Server, error) {
	nsfd, err := unix.Open(p.Event.NetNS, unix.O_RDONLY|unix.O_CLOEXEC, 0)
	if err != nil {
		return nil, fmt.Errorf("opening %s: %w", p.Event.NetNS, err)
	}
	defer unix.Close(nsfd) // the queue's socket keeps the namespace
	ecfg := a.ecfg
	ecfg.PodNamespace = strings.ToLower(p.Context.Namespace)
	ecfg.Cache.Size = a.budget.take()
	releaseAll := func() { a.budget.give(ecfg.Cache.Size) }
	eng, err := dnsengine.New(ecfg, a.reg)
	if err != nil {
		releaseAll()
		return nil, err
	}
	shard, putShard := a.shards.get()
	log := a.log.With("pod", p.Event.Namespace+"/"+p.Event.Name)
	cons, err := nfq.New(nfq.Config{QueueNum: a.queueNum, MaxQueueLen: a.queueLen, NetNS: nsfd, Open: nfq.OpenBatch, Logger: log},
		&engineHandler{e: eng, shard: shard})
	if err != nil {
		putShard()
		releaseAll()
		return nil, err
	}
	ctx, cancel := context.WithCancel(context.Background())
	if err := cons.Start(ctx); err != nil {
		cancel()
		putShard()
		releaseAll()
		return nil, fmt.Errorf("binding the queue in %s: %w", p.Event.NetNS, err)
	}
	return &podServer{cancel: cancel, cons: cons, release: func() { putShard(); releaseAll() }}, nil
}

// Stop drains the pod's queue, unbinds it, and releases its table and
// cache share.
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

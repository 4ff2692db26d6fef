package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/meshdns/meshdns/dnsengine"
	"github.com/meshdns/meshdns/dnsengine/tcpstack"
	"github.com/meshdns/meshdns/exchange"
	"github.com/meshdns/meshdns/nfq"
	"github.com/meshdns/meshdns/nfq/rules"
	"github.com/meshdns/meshdns/observe"
	"github.com/meshdns/meshdns/sync/model"
)

// runner is "meshdns run" being set up, step by step (cmdRun), and
// served. What a step starts is stopped by release, in reverse order.
type runner struct {
	f      *runFlags
	log    *slog.Logger
	pc     podContext
	ecfg   dnsengine.Config
	rcfg   rules.Config
	queues int
	open   nfq.OpenFunc

	reg     *dnsengine.AtomicRegistry
	store   *tableStore
	src     model.Source
	ready   func() bool
	kobs    kubeObserver
	own     *exchange.Client // nil without TCP and cache refresh
	eng     *dnsengine.Engine
	obs     *observe.Observer
	cons    *nfq.Consumer
	filter  *queryFilter // nil: every query is queued
	srcDone <-chan error
	undo    []func()
}

// release stops what the steps started, in reverse order.
func (r *runner) release() {
	for i := len(r.undo) - 1; i >= 0; i-- {
		r.undo[i]()
	}
}

// goUntilReleased runs fn in a goroutine with a context that release
// cancels.
func (r *runner) goUntilReleased(fn func(context.Context)) {
	ctx, cancel := context.WithCancel(context.Background())
	r.undo = append(r.undo, cancel)
	go fn(ctx)
}

// loadNames sets up the names: from the objects file (its first load
// must succeed, or nothing starts) or from the API server (until its
// first full sync every packet passes through).
func (r *runner) loadNames(context.Context) error {
	f, log := r.f, r.log
	mopts := f.engine.modelOptions(f.pod.clusterDomain)
	mopts.Nameservers = r.pc.resolv.Nameservers
	mopts.Logger = log
	r.reg = &dnsengine.AtomicRegistry{}
	store, err := newTableStore(r.reg, mopts, log, f.objects == "")
	if err != nil {
		return err
	}
	r.store = store
	if f.objects == "" {
		ks, err := newKubeSource(&f.sourceFlags, mopts.Namespaces, log, &r.kobs)
		if err != nil {
			return err
		}
		r.src, r.ready = ks, ks.Synced
		return nil
	}
	fsrc, objs, err := f.loadObjects(log)
	if err != nil {
		return err
	}
	store.update(objs)
	if r.reg.Table() == nil {
		return fmt.Errorf("%s: no name table could be built", f.objects)
	}
	r.src = fsrc
	return nil
}

// refreshing reports whether the cache refreshes its entries itself
// (serve-stale or prefetch).
func (r *runner) refreshing() bool {
	c := r.ecfg.Cache
	return c.Size > 0 && (c.Stale > 0 || c.Prefetch > 0)
}

// startOwnQueries opens meshdns's own queries (cache refresh, TCP
// forwarding): one Client, a fresh marked socket per query on a random
// port; the rules exempt the replies by the socket's mark.
func (r *runner) startOwnQueries(context.Context) error {
	if !r.refreshing() && r.f.tcp.mode != "on" {
		return nil
	}
	own, err := exchange.New(exchange.Config{Mark: r.rcfg.Mark, UDPSize: max(r.ecfg.EDNSSize, 512), Logger: r.log})
	if err != nil {
		return err
	}
	r.own = own
	r.undo = append(r.undo, func() { own.Close() })
	return nil
}

// startEngine makes the engine, with the cache of upstream answers (the
// nameservers' answers are queued too) and DNS over TCP (answered in
// place; other names forwarded; the nameservers' RSTs of the flows it
// holds on a queue of their own).
func (r *runner) startEngine(context.Context) error {
	if r.ecfg.Cache.Size > 0 {
		r.rcfg.CaptureResponses = true
		if r.refreshing() {
			r.ecfg.Cache.Refresher = r.own
		}
	}
	eng, err := dnsengine.New(r.ecfg, r.reg)
	if err != nil {
		return err
	}
	r.eng = eng
	if t := r.f.tcp; t.mode == "on" {
		err = eng.EnableTCP(tcpstack.Config{IdleTimeout: t.idle, MaxFlows: int(t.maxFlows),
			MaxMemory: int64(t.maxMem), MaxPacket: nfq.MaxVerdictPayload, Key: t.key(r.log), Forwarder: r.own, Logger: r.log})
		if err != nil {
			return err
		}
		r.rcfg.TCPResets = true
		r.goUntilReleased(func(ctx context.Context) { sweepTCP(ctx, eng) })
	}
	if r.refreshing() {
		r.goUntilReleased(func(ctx context.Context) { r.own.Run(ctx, eng) })
	}
	return nil
}

// startObserver serves the metrics and health endpoints.
func (r *runner) startObserver(context.Context) error {
	obs, err := observe.New(observe.Config{
		Addr: r.f.metrics, Logger: r.log, Registry: r.reg, Ready: r.ready,
		CacheMetrics: r.eng.CacheMetrics, TCPFlows: r.eng.TCPFlows, TCPMemory: r.eng.TCPMemory, Pprof: true,
	})
	if err != nil {
		return err
	}
	r.obs = obs
	r.kobs.o.Store(obs)
	r.store.obs = obs
	if t := r.reg.Table(); t != nil {
		obs.TableStored(t)
	}
	ctx, stop := context.WithCancel(context.Background())
	r.undo = append(r.undo, stop)
	_, err = obs.Start(ctx)
	return err
}

// bindQueues binds the queues to a consumer handing their packets to
// the engine.
func (r *runner) bindQueues(ctx context.Context) error {
	h := &engineHandler{e: r.eng, shard: r.obs.Shard()}
	if r.log.Enabled(ctx, slog.LevelDebug) {
		h.debug = r.log
	}
	cons, err := nfq.New(nfq.Config{
		QueueNum:    r.rcfg.QueueNum,
		Queues:      uint16(r.queues),
		ResetQueue:  r.rcfg.TCPResets, // rcfg.ResetQueue()
		MaxQueueLen: uint32(r.f.queueLen),
		Logger:      r.log,
		Open:        r.open,
	}, h)
	if err != nil {
		return err
	}
	// Not ctx: the consumer drains after the rules are removed (serve).
	qctx, stop := context.WithCancel(context.Background())
	if err := cons.Start(qctx); err != nil {
		stop()
		return fmt.Errorf("binding the queue: %w", err)
	}
	r.cons = cons
	r.undo = append(r.undo, func() { stop(); _ = cons.Wait() })
	return nil
}

// filterQueries, for an engine without a cache (--queue-filter auto,
// --rules iptables), has the rules queue only the UDP queries that may
// ask for a name the engine answers, as the tables go (queryfilter.go).
func (r *runner) filterQueries(context.Context) error {
	if r.f.queueFilter != "auto" || r.ecfg.Cache.Size > 0 || r.f.rules.rules != "iptables" {
		return nil
	}
	r.filter = newQueryFilter(r.rcfg, r.ecfg.PodNamespace != "", r.log)
	r.store.stored = r.filter.stored
	return nil
}

// followNames runs the name source until ctx is done: the table follows
// its changes.
func (r *runner) followNames(ctx context.Context) error {
	done, stop := runSource(ctx, r.src, r.store)
	r.srcDone = done
	r.undo = append(r.undo, stop)
	return nil
}

// capture installs the rules (--rules iptables): from now on the pod's
// DNS is queued.
func (r *runner) capture(ctx context.Context) error {
	if r.f.rules.rules != "iptables" {
		return nil
	}
	if r.filter != nil {
		if err := r.filter.install(ctx, r.reg.Table()); err != nil {
			return err
		}
		r.goUntilReleased(r.filter.run)
	} else if err := rules.Install(ctx, r.rcfg); err != nil {
		return err
	}
	r.log.Info("rules installed", "capture", r.f.rules.capture, "nameservers", addrs(r.rcfg.Nameservers),
		"queue", r.rcfg.QueueNum, "queues", r.queues)
	return nil
}

// serve answers until ctx is done, the name source fails or the
// consumer stops, then stops gracefully: capture nothing new (the rules
// removed), answer what is queued (the consumer's drain), then go.
func (r *runner) serve(ctx context.Context) error {
	var runErr error
	select {
	case <-ctx.Done():
		r.log.Info("stopping", "cause", context.Cause(ctx))
	case err := <-r.srcDone:
		if err != nil {
			runErr = fmt.Errorf("name source: %w", err)
		}
	case <-waitChan(r.cons.Wait):
		runErr = errors.New("queue consumer stopped")
	}
	if r.filter != nil {
		r.filter.close()
	}
	if r.f.rules.rules == "iptables" {
		rmCtx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		if err := rules.Remove(rmCtx, r.rcfg); err != nil {
			r.log.Error("removing rules", "err", err)
		} else {
			r.log.Info("rules removed")
		}
		cancel()
	}
	// The name source stops, the queues drain and are unbound, then the
	// rest stops, the own queries' client last.
	r.release()
	r.undo = nil
	if err := r.cons.Wait(); err != nil && runErr == nil && ctx.Err() == nil {
		runErr = err
	}
	c := r.cons.Counters()
	r.log.Info("stopped", "packets", c.Packets.Load(), "modified", c.Modified.Load(), "accepted", c.Accepted.Load())
	return runErr
}

// waitChan turns a blocking wait into a channel.
func waitChan(wait func() error) <-chan error {
	ch := make(chan error, 1)
	go func() { ch <- wait() }()
	return ch
}

package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
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

// runFlags are the flags of "meshdns run".
type runFlags struct {
	serveFlags
	pod      podFlags
	rules    ruleFlags
	queueLen uint
	impl     string
}

// newRunFlags returns the flag set of "meshdns run" and the flags it fills.
func newRunFlags(stderr io.Writer) (*flag.FlagSet, *runFlags) {
	fs := newFlagSet("run", stderr)
	f := &runFlags{}
	f.pod.register(fs)
	f.rules.register(fs, true)
	f.serveFlags.register(fs)
	fs.UintVar(&f.queueLen, "queue-len", 0, "packets the kernel holds per queue; beyond it packets bypass meshdns (fail-open); 0: 512 in all, split over the queues (what a stall releases at once)")
	fs.StringVar(&f.impl, "queue-impl", "batch", "queue reader: batch (recvmmsg, batched verdicts) or go-nfqueue (one read and one verdict syscall per packet)")
	return fs, f
}

// check validates the flags that need no system state.
func (f *runFlags) check() error {
	if err := f.serveFlags.check(); err != nil {
		return err
	}
	if f.rules.rules != "iptables" && f.rules.rules != "none" {
		return usageError{fmt.Errorf("--rules %q: want iptables or none", f.rules.rules)}
	}
	if f.queueLen > 1<<20 {
		return usageError{fmt.Errorf("--queue-len %d: want 0..1048576", f.queueLen)}
	}
	_, err := queueOpen(f.impl)
	return err
}

// queueOpen returns the queue reader --queue-impl names.
func queueOpen(impl string) (nfq.OpenFunc, error) {
	switch impl {
	case "batch":
		return nfq.OpenBatch, nil
	case "go-nfqueue":
		return nfq.OpenNfqueue, nil
	}
	return nil, usageError{fmt.Errorf("--queue-impl %q: want batch or go-nfqueue", impl)}
}

func cmdRun(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs, f := newRunFlags(stderr)
	if err := parseArgs(fs, args, f.check); err != nil {
		return err
	}
	open, err := queueOpen(f.impl)
	if err != nil {
		return err
	}
	log, ecfg, err := f.setup(stderr)
	if err != nil {
		return err
	}
	pc, err := f.pod.load(log, f.rules.capture != "all")
	if err != nil {
		return err
	}
	ecfg.PodNamespace = pc.namespace
	queues := queueCount(f.rules.queues)
	rcfg, err := f.rules.config(pc, log, queues)
	if err != nil {
		return err
	}

	// Names: from the objects file (its first load must succeed, or
	// nothing starts) or from the API server (until its first full sync
	// every packet passes through).
	mopts := f.engine.modelOptions(f.pod.clusterDomain)
	mopts.Nameservers = pc.resolv.Nameservers
	mopts.Logger = log
	reg := &dnsengine.AtomicRegistry{}
	store, err := newTableStore(reg, mopts, log, f.objects == "")
	if err != nil {
		return err
	}
	var src model.Source
	var ready func() bool
	var kobs kubeObserver
	if f.objects != "" {
		fsrc, objs, err := f.loadObjects(log)
		if err != nil {
			return err
		}
		store.update(objs)
		if reg.Table() == nil {
			return fmt.Errorf("%s: no name table could be built", f.objects)
		}
		src = fsrc
	} else {
		ks, err := newKubeSource(f.kubecfg, mopts.Namespaces, log, &kobs)
		if err != nil {
			return err
		}
		src, ready = ks, ks.Synced
	}

	// meshdns's own queries (cache refresh, TCP forwarding): one Client,
	// a fresh marked socket per query on a random port; the rules exempt
	// the replies by the socket's mark. It outlives the consumer (deferred
	// first): held TCP segments wait for it during the drain.
	refreshing := ecfg.Cache.Size > 0 && (ecfg.Cache.Stale > 0 || ecfg.Cache.Prefetch > 0)
	var own *exchange.Client
	if refreshing || f.tcp.mode == "on" {
		own, err = exchange.New(exchange.Config{Mark: rcfg.Mark, UDPSize: max(ecfg.EDNSSize, 512), Logger: log})
		if err != nil {
			return err
		}
		defer own.Close()
	}
	// The cache of upstream answers: the nameservers' answers are queued
	// too.
	if ecfg.Cache.Size > 0 {
		rcfg.CaptureResponses = true
		if refreshing {
			ecfg.Cache.Refresher = own
		}
	}
	eng, err := dnsengine.New(ecfg, reg)
	if err != nil {
		return err
	}
	// DNS over TCP: answered in place; other names forwarded.
	rel := &heldReleaser{}
	if f.tcp.mode == "on" {
		err = eng.EnableTCP(tcpstack.Config{IdleTimeout: f.tcp.idle, MaxFlows: int(f.tcp.maxFlows),
			MaxMemory: int64(f.tcp.maxMem), MaxPacket: nfq.MaxVerdictPayload, Key: f.tcp.key(log), Forwarder: own, Releaser: rel, Logger: log})
		if err != nil {
			return err
		}
		// The nameservers' RSTs of flows it holds, on a queue of their own.
		rcfg.TCPResets = true
		sweepCtx, stopSweep := context.WithCancel(context.Background())
		defer stopSweep()
		go sweepTCP(sweepCtx, eng)
	}
	if refreshing {
		refCtx, stopRef := context.WithCancel(context.Background())
		defer stopRef()
		go own.Run(refCtx, eng)
	}
	obs, err := observe.New(observe.Config{
		Addr: f.metrics, Logger: log, Registry: reg, Ready: ready,
		CacheMetrics: eng.CacheMetrics, TCPFlows: eng.TCPFlows, TCPMemory: eng.TCPMemory, Pprof: true,
	})
	if err != nil {
		return err
	}
	kobs.o.Store(obs)
	store.obs = obs
	if t := reg.Table(); t != nil {
		obs.TableStored(t)
	}
	obsCtx, stopObs := context.WithCancel(context.Background())
	defer stopObs()
	if _, err := obs.Start(obsCtx); err != nil {
		return err
	}
	h := &engineHandler{e: eng, shard: obs.Shard()}
	if log.Enabled(ctx, slog.LevelDebug) {
		h.debug = log
	}
	cons, err := nfq.New(nfq.Config{
		QueueNum:    rcfg.QueueNum,
		Queues:      uint16(queues),
		ResetQueue:  rcfg.TCPResets, // rcfg.ResetQueue()
		MaxQueueLen: uint32(f.queueLen),
		Logger:      log,
		Open:        open,
	}, h)
	if err != nil {
		return err
	}
	rel.c.Store(cons)

	// Bind the queues first, then capture: no packet is queued before a
	// consumer is there (and with --queue-bypass none would be lost).
	qctx, stopQueue := context.WithCancel(context.Background())
	defer stopQueue()
	if err := cons.Start(qctx); err != nil {
		return fmt.Errorf("binding the queue: %w", err)
	}
	srcDone, stopSrc := runSource(ctx, src, store)
	defer stopSrc()

	if f.rules.rules == "iptables" {
		if err := rules.Install(ctx, rcfg); err != nil {
			stopQueue()
			_ = cons.Wait()
			return err
		}
		log.Info("rules installed", "capture", f.rules.capture, "nameservers", addrs(rcfg.Nameservers),
			"queue", rcfg.QueueNum, "queues", queues)
	}
	log.Info("serving", "namespace", pc.namespace, "cluster_domain", f.pod.clusterDomain,
		"nameservers", addrs(pc.resolv.Nameservers), "search", pc.resolv.Search, "queues", queues,
		"rules", f.rules.rules)

	var runErr error
	select {
	case <-ctx.Done():
		log.Info("stopping", "cause", context.Cause(ctx))
	case err := <-srcDone:
		if err != nil {
			runErr = fmt.Errorf("name source: %w", err)
		}
	case <-waitChan(cons.Wait):
		runErr = errors.New("queue consumer stopped")
	}

	// Graceful stop: capture nothing new, answer what is queued, then go.
	if f.rules.rules == "iptables" {
		rmCtx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		if err := rules.Remove(rmCtx, rcfg); err != nil {
			log.Error("removing rules", "err", err)
		} else {
			log.Info("rules removed")
		}
		cancel()
	}
	stopSrc()
	stopQueue()
	if err := cons.Wait(); err != nil && runErr == nil && ctx.Err() == nil {
		runErr = err
	}
	c := cons.Counters()
	log.Info("stopped", "packets", c.Packets.Load(), "modified", c.Modified.Load(), "accepted", c.Accepted.Load())
	return runErr
}

// waitChan turns a blocking wait into a channel.
func waitChan(wait func() error) <-chan error {
	ch := make(chan error, 1)
	go func() { ch <- wait() }()
	return ch
}

package main

import (
	"context"
	"flag"
	"fmt"
	"io"

	"github.com/meshdns/meshdns/nfq"
)

// runFlags are the flags of "meshdns run".
type runFlags struct {
	serveFlags
	pod      podFlags
	rules    ruleFlags
	queueLen uint
	impl     string
	// queueFilter: auto queues only the UDP queries that may ask for a
	// mesh name when the cache is off; off queues every one.
	queueFilter string
}

// newRunFlags returns the flag set of "meshdns run" and the flags it fills.
func newRunFlags(stderr io.Writer) (*flag.FlagSet, *runFlags) {
	fs := newFlagSet("run", stderr)
	f := &runFlags{}
	f.pod.register(fs)
	f.rules.register(fs, true)
	f.serveFlags.register(fs)
	fs.UintVar(&f.queueLen, "queue-len", 0, "packets the kernel holds per queue; beyond it packets bypass meshdns (fail-open); 0: 512 in all, split over the queues (what a stall releases at once)")
	fs.StringVar(&f.queueFilter, "queue-filter", "auto", "with --cache-size 0: auto queues only the UDP queries that may ask for a name meshdns answers (its zones, ServiceEntry hosts, reverse and single-label names; the rest never leave the kernel), off queues every one")
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
	if f.queueFilter != "auto" && f.queueFilter != "off" {
		return usageError{fmt.Errorf("--queue-filter %q: want auto or off", f.queueFilter)}
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
	r := &runner{f: f, log: log, pc: pc, ecfg: ecfg, rcfg: rcfg, queues: queues, open: open}
	defer r.release()
	// Each step needs those before it. The own queries' client outlives
	// the consumer (release undoes in reverse): held TCP segments wait
	// for it during the drain. The queues are bound before the rules
	// capture anything: no packet is queued before a consumer is there
	// (and with --queue-bypass none would be lost).
	for _, step := range []func(context.Context) error{r.loadNames, r.startOwnQueries, r.startEngine,
		r.startObserver, r.bindQueues, r.filterQueries, r.followNames, r.capture} {
		if err := step(ctx); err != nil {
			return err
		}
	}
	log.Info("serving", "namespace", pc.namespace, "cluster_domain", f.pod.clusterDomain,
		"nameservers", addrs(pc.resolv.Nameservers), "search", pc.resolv.Search, "queues", queues,
		"rules", f.rules.rules)
	return r.serve(ctx)
}

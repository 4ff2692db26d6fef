package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net/netip"
	"os"
	"strings"
	"time"

	"github.com/meshdns/meshdns/dnsengine"
	"github.com/meshdns/meshdns/node/cniplugin"
	"github.com/meshdns/meshdns/node/poddns"
	"github.com/meshdns/meshdns/node/podevent"
	"github.com/meshdns/meshdns/node/pods"
	"github.com/meshdns/meshdns/node/podwatch"
	"github.com/meshdns/meshdns/observe"
	"github.com/meshdns/meshdns/sync/model"
)

// nodeFlags are the flags of "meshdns node".
type nodeFlags struct {
	serveFlags
	socket        string
	cniCache      string
	clusterDNS    string
	clusterDomain string
	resolvConf    string
	queueNum      uint
	queueLen      uint
	maxPods       uint
	cacheBudget   uint
	nodeName      string
	pods          string
	podMaxRate    uint
}

func newNodeFlags(stderr io.Writer) (*flag.FlagSet, *nodeFlags) {
	fs := newFlagSet("node", stderr)
	f := &nodeFlags{}
	f.serveFlags.register(fs)
	fs.StringVar(&f.socket, "cni-socket", cniplugin.DefaultSocket, "UNIX socket meshdns-cni reports pod network namespaces on")
	fs.StringVar(&f.cniCache, "cni-cache-dir", "/var/lib/cni", "the runtime's CNI cache (libcni's), read on start to recover the pods already running")
	fs.StringVar(&f.clusterDNS, "cluster-dns", "", "comma-separated cluster DNS addresses, as the kubelet's --cluster-dns")
	fs.StringVar(&f.clusterDomain, "cluster-domain", model.DefaultClusterDomain, "the cluster domain, as the kubelet's --cluster-domain")
	fs.StringVar(&f.resolvConf, "resolv-conf", "/etc/resolv.conf", "the node's resolv.conf, as the kubelet's --resolv-conf (empty: none)")
	fs.UintVar(&f.queueNum, "queue-num", uint(cniplugin.DefaultQueueNum), "NFQUEUE number in every pod (meshdns-cni's queueNum)")
	fs.UintVar(&f.queueLen, "queue-len", 1024, "packets the kernel holds per pod queue; beyond it packets bypass meshdns (fail-open)")
	fs.UintVar(&f.maxPods, "max-pods", pods.DefaultMaxPods, "pods served at most")
	fs.UintVar(&f.podMaxRate, "pod-max-rate", 5000, "DNS packets a second the agent takes from one pod; past it, for the rest of each tenth of a second, the pod's packets go to the cluster DNS untouched (0: no limit)")
	fs.StringVar(&f.nodeName, "node-name", "", "this node's name: with the API server as name source, the node's Pods are watched (field selector spec.nodeName) for their dnsPolicy and dnsConfig; without it every pod is answered as ClusterFirst")
	fs.StringVar(&f.pods, "pods", "labelled", "which pods are answered: labelled (the pod, or its namespace, labelled "+podwatch.Label+"="+podwatch.Enabled+"; needs the API server and --node-name) or all")
	fs.UintVar(&f.cacheBudget, "cache-node-budget", 100000, "entries of upstream answers cached for all pods together; each pod gets --cache-size of it while it lasts")
	return fs, f
}

func (f *nodeFlags) check() error {
	if err := f.serveFlags.check(); err != nil {
		return err
	}
	if f.queueNum > 0xffff || f.queueLen == 0 || f.queueLen > 1<<20 || f.maxPods == 0 || f.podMaxRate > 1<<24 {
		return usageError{errors.New("--queue-num, --queue-len, --max-pods or --pod-max-rate out of range")}
	}
	switch f.pods {
	case "all":
	case "labelled":
		if f.objects != "" || f.nodeName == "" {
			return usageError{errors.New("--pods=labelled reads the pods' and namespaces' labels: it needs the API server as name source and --node-name (or --pods=all)")}
		}
	default:
		return usageError{fmt.Errorf("--pods %q: want labelled or all", f.pods)}
	}
	return nil
}

// kubelet is the node's DNS configuration from the kubelet-like flags.
func (f *nodeFlags) kubelet() (poddns.Kubelet, error) {
	k := poddns.Kubelet{ClusterDomain: f.clusterDomain}
	for _, s := range splitList(f.clusterDNS) {
		k.ClusterDNS = append(k.ClusterDNS, strings.TrimSpace(s))
	}
	if f.resolvConf == "" {
		return k, nil
	}
	r, err := os.Open(f.resolvConf)
	if err != nil {
		return k, err
	}
	defer r.Close()
	k.Host, err = poddns.ParseHost(r)
	k.HostFile = true
	return k, err
}

func cmdNode(ctx context.Context, args []string, _, stderr io.Writer) error {
	fs, f := newNodeFlags(stderr)
	if err := parseArgs(fs, args, f.check); err != nil {
		return err
	}
	log, ecfg, err := f.setup(stderr)
	if err != nil {
		return err
	}
	kl, err := f.kubelet()
	if err != nil {
		return err
	}

	// One name source and one set of objects for the node.
	mopts := f.engine.modelOptions(f.clusterDomain)
	mopts.Logger = log
	// ns.dns.<zone> answers the cluster DNS's addresses, as CoreDNS
	// answers its own.
	for _, a := range kl.ClusterDNS {
		ip, err := netip.ParseAddr(a)
		if err != nil {
			return fmt.Errorf("--cluster-dns %q: %w", a, err)
		}
		mopts.Nameservers = append(mopts.Nameservers, ip)
	}
	// One table for every pod of the node: what differs per pod (its
	// namespace's short names, its cache) is the engine's.
	reg := &dnsengine.AtomicRegistry{}
	store, err := newTableStore(reg, mopts, log, f.objects == "")
	if err != nil {
		return err
	}
	var src model.Source
	var lookup pods.LookupFunc
	var capture func(context.Context, podevent.Event) bool
	podsSynced := func() bool { return true }
	if f.objects != "" {
		fsrc, objs, err := f.loadObjects(log)
		if err != nil {
			return err
		}
		store.update(objs)
		src = fsrc
	} else {
		ks, err := newKubeSource(&f.sourceFlags, mopts.Namespaces, log, nil)
		if err != nil {
			return err
		}
		src = ks
		if f.nodeName != "" {
			pw, err := newPodWatch(&f.sourceFlags, f.nodeName, ks, log)
			if err != nil {
				return err
			}
			pwCtx, stopPW := context.WithCancel(context.Background())
			pwDone := make(chan struct{})
			go func() { pw.Run(pwCtx); close(pwDone) }()
			defer func() { stopPW(); <-pwDone }()
			lookup = pw.Lookup
			podsSynced = pw.Synced
			if f.pods == "labelled" {
				capture = func(ctx context.Context, e podevent.Event) bool {
					return pw.Captured(ctx, e.Namespace, e.Name, e.UID)
				}
			}
		}
	}

	obs, err := observe.New(observe.Config{Addr: f.metrics, Logger: log, QueueStatsPath: "-", Pprof: true,
		Registry: reg, Ready: func() bool { return reg.Table() != nil && podsSynced() }})
	if err != nil {
		return err
	}
	obsCtx, stopObs := context.WithCancel(context.Background())
	defer stopObs()
	if _, err := obs.Start(obsCtx); err != nil {
		return err
	}

	store.obs = obs

	agent := &nodeAgent{
		log: log, reg: reg, ecfg: ecfg, queueNum: uint16(f.queueNum), queueLen: uint32(f.queueLen), maxRate: uint32(f.podMaxRate),
		budget: newCacheBudget(int(f.cacheBudget), ecfg.Cache.Size), shards: &shardPool{obs: obs},
	}
	// DNS over TCP in every pod, with one ISN cookie key for the node
	// (kept across restarts in --tcp-key-file, so flows resume).
	if f.tcp.mode == "on" {
		agent.tcp = &nodeTCP{flags: &f.tcp, key: f.tcp.key(log)}
	}
	podReg, err := pods.New(pods.Config{Start: agent.start, Kubelet: kl, Lookup: lookup, Capture: capture, MaxPods: int(f.maxPods), Logger: log})
	if err != nil {
		return err
	}
	defer podReg.Close()

	srcDone, stopSrc := runSource(ctx, src, store)
	defer stopSrc()

	// Listen before recovering: a pod created meanwhile is reported, not
	// missed (an add of a pod already served is a no-op).
	srv, err := podevent.Listen(f.socket, podReg.Handle, log)
	if err != nil {
		return fmt.Errorf("--cni-socket %s: %w", f.socket, err)
	}
	evCtx, stopEvents := context.WithCancel(context.Background())
	evDone := make(chan error, 1)
	go func() { evDone <- srv.Serve(evCtx) }()
	defer func() { stopEvents(); <-evDone }()

	// The capture decision reads the pods' and namespaces' labels: the
	// running pods are judged once the watch has listed them.
	if capture != nil {
		waitSynced(ctx, podsSynced, recoverSyncTimeout, log)
	}
	found, skipped, err := pods.Recover(f.cniCache)
	if err != nil {
		log.Warn("recovering pods from the CNI cache", "dir", f.cniCache, "err", err)
	}
	recovered := 0
	for _, e := range found {
		switch err := podReg.Handle(ctx, e); {
		case err == nil:
			recovered++
		case !errors.Is(err, podevent.ErrNotCaptured):
			log.Warn("pod not recovered", "pod", e.Namespace+"/"+e.Name, "err", err)
		}
	}
	log.Info("serving", "pods", podReg.Len(), "recovered", recovered, "cache_entries_skipped", skipped,
		"socket", f.socket, "cluster_dns", kl.ClusterDNS, "cluster_domain", f.clusterDomain)

	var runErr error
	select {
	case <-ctx.Done():
		log.Info("stopping", "cause", context.Cause(ctx))
	case err := <-srcDone:
		if err != nil {
			runErr = fmt.Errorf("name source: %w", err)
		}
	case err := <-evDone:
		evDone <- err
		runErr = fmt.Errorf("cni socket: %w", err)
	}
	// The pods' rules stay (meshdns-cni owns them): with the consumers
	// gone, --queue-bypass sends the pods' DNS to the cluster DNS until
	// the next agent binds the queues.
	stopEvents()
	n := podReg.Len()
	podReg.Close()
	log.Info("stopped", "pods", n)
	return runErr
}

// recoverSyncTimeout bounds the wait for the pod watch before the running
// pods are recovered; past it they are judged with what it has.
const recoverSyncTimeout = 30 * time.Second

// waitSynced polls synced until it holds, ctx ends or timeout passes.
func waitSynced(ctx context.Context, synced func() bool, timeout time.Duration, log *slog.Logger) {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	t := time.NewTicker(20 * time.Millisecond)
	defer t.Stop()
	for !synced() {
		select {
		case <-ctx.Done():
			log.Warn("pod watch not synced; recovering the running pods with what it has", "after", timeout)
			return
		case <-t.C:
		}
	}
}

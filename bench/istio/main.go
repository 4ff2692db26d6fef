package main

import (
	"context"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"syscall"
	"time"

	"istio.io/istio/pkg/dns/client"
	istiolog "istio.io/istio/pkg/log"
)

// Config is the command line of meshdns-bench-istio.
type Config struct {
	// Objects is the objects file meshdns loads.
	Objects string
	// Namespace is the pod's namespace (the agent's POD_NAMESPACE).
	Namespace string
	// ClusterDomain is the Kubernetes cluster domain.
	ClusterDomain string
	// Addr is the DNS listen address; "localhost:15053" (the agent's
	// default) listens on 127.0.0.1 and/or ::1 by the resolv.conf families.
	Addr string
	// ForwardParallel is the agent's DNS_FORWARD_PARALLEL.
	ForwardParallel bool
	// UpstreamTimeout is the agent's DNS_FORWARD_TIMEOUT.
	UpstreamTimeout time.Duration
}

func main() {
	var cfg Config
	flag.StringVar(&cfg.Objects, "objects", "", "objects file (Services, EndpointSlices, ServiceEntries)")
	flag.StringVar(&cfg.Namespace, "namespace", "default", "the pod's namespace")
	flag.StringVar(&cfg.ClusterDomain, "cluster-domain", "cluster.local", "cluster domain")
	flag.StringVar(&cfg.Addr, "addr", "localhost:15053", "listen address, as the agent's DNS address")
	flag.BoolVar(&cfg.ForwardParallel, "forward-parallel", false, "query all upstream servers in parallel")
	flag.DurationVar(&cfg.UpstreamTimeout, "upstream-timeout", client.DefaultUpstreamTimeout, "upstream query timeout")
	flag.Parse()
	logger := slog.New(slog.NewTextHandler(os.Stderr, nil))
	if err := run(cfg, logger); err != nil {
		logger.Error("exit", "err", err)
		os.Exit(1)
	}
}

func run(cfg Config, logger *slog.Logger) error {
	if cfg.Objects == "" {
		return fmt.Errorf("--objects is required")
	}
	// Istio's own logging at its default level (info), no debug per query.
	opts := istiolog.DefaultOptions()
	opts.OutputPaths = []string{"stderr"}
	if err := istiolog.Configure(opts); err != nil {
		return err
	}

	f, err := os.Open(cfg.Objects)
	if err != nil {
		return err
	}
	objs, err := parseObjects(f)
	f.Close()
	if err != nil {
		return fmt.Errorf("%s: %w", cfg.Objects, err)
	}
	nt := buildNameTable(objs, cfg.ClusterDomain)

	// The agent passes ProxyDomain = <ns>.svc.<cluster domain>.
	proxyDomain := cfg.Namespace + ".svc." + cfg.ClusterDomain
	srv, err := client.NewLocalDNSServer(cfg.Namespace, proxyDomain, cfg.Addr,
		client.WithParallelForwarding(cfg.ForwardParallel),
		client.WithUpstreamTimeout(cfg.UpstreamTimeout))
	if err != nil {
		return err
	}
	srv.UpdateLookupTable(nt)
	srv.StartDNS()
	defer srv.Close()

	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	logger.Info("serving", "hosts", len(nt.Table), "addr", cfg.Addr, "uid", os.Getuid(),
		"services", len(objs.services), "serviceentries", len(objs.serviceEntries))
	<-ctx.Done()
	return nil
}

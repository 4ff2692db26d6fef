package main

import (
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net/netip"
	"strconv"
	"strings"

	"github.com/meshdns/meshdns/dnsengine"
	"github.com/meshdns/meshdns/dnsengine/cache"
	"github.com/meshdns/meshdns/nfq/rules"
	"github.com/meshdns/meshdns/observe"
	"github.com/meshdns/meshdns/resolvconf"
	"github.com/meshdns/meshdns/sync/model"
)

// podFlags locate the pod's DNS context.
type podFlags struct {
	resolvConf    string
	namespace     string
	clusterDomain string
}

func (p *podFlags) register(fs *flag.FlagSet) {
	fs.StringVar(&p.resolvConf, "resolv-conf", "/etc/resolv.conf", "the pod's resolv.conf: nameservers to capture, search list, namespace")
	fs.StringVar(&p.namespace, "namespace", "", "the pod's namespace (default: from the first search domain <ns>.svc.<cluster-domain>)")
	fs.StringVar(&p.clusterDomain, "cluster-domain", "cluster.local", "the Kubernetes cluster domain")
}

// podContext is what the pod's resolv.conf and flags say about its DNS.
type podContext struct {
	resolv    resolvconf.Config
	namespace string
}

func (p *podFlags) load(log *slog.Logger, required bool) (podContext, error) {
	var pc podContext
	rc, err := resolvconf.Load(p.resolvConf)
	if err != nil {
		if required {
			return pc, err
		}
		log.Warn("no resolv.conf", "path", p.resolvConf, "err", err)
	}
	for _, l := range rc.Ignored {
		log.Warn("resolv.conf line ignored", "path", p.resolvConf, "line", l)
	}
	pc.resolv = rc
	pc.namespace = p.namespace
	if pc.namespace == "" {
		pc.namespace, _ = rc.Namespace(p.clusterDomain)
	}
	pc.namespace = strings.ToLower(pc.namespace)
	return pc, nil
}

// ruleFlags say what the capture rules look like.
type ruleFlags struct {
	capture  string
	rules    string
	backend  string
	queueNum uint
	queues   uint
	mark     string
	// responses queues the nameservers' answers for the cache to learn
	// ("rules install" only; "run" decides from --cache-size).
	responses bool
}

func (r *ruleFlags) register(fs *flag.FlagSet, withRulesMode bool) {
	fs.StringVar(&r.capture, "capture", "nameservers", "which DNS traffic to capture: nameservers (resolv.conf's) or all (port 53 to any address)")
	if withRulesMode {
		fs.StringVar(&r.rules, "rules", "iptables", "rule management: iptables (install on start, remove on stop) or none")
	}
	fs.StringVar(&r.backend, "iptables-backend", "auto", "iptables backend: auto, nft or legacy")
	fs.UintVar(&r.queueNum, "queue-num", 5353, "first NFQUEUE number")
	fs.UintVar(&r.queues, "queues", 0, "number of queues (consumers) from --queue-num on; 0: one per CPU, at most 4")
	fs.StringVar(&r.mark, "mark", "0x20000/0x20000", "packet mark[/mask] of meshdns's own traffic, never captured")
	if !withRulesMode {
		fs.BoolVar(&r.responses, "capture-responses", true, "also queue the nameservers' answers, for the cache (as 'run' does with --cache-size > 0)")
	}
}

func (r *ruleFlags) config(pc podContext, log *slog.Logger, queues int) (rules.Config, error) {
	rc := rules.Config{
		QueueNum: uint16(r.queueNum),
		Queues:   uint16(queues),
		Backend:  r.backend,
		Logger:   log,
	}
	if r.queueNum > 65535 || int(r.queueNum)+queues-1 > 65535 {
		return rc, usageError{fmt.Errorf("--queue-num %d with %d queues is out of range", r.queueNum, queues)}
	}
	switch r.backend {
	case "auto", "nft", "legacy":
	default:
		return rc, usageError{fmt.Errorf("--iptables-backend %q: want auto, nft or legacy", r.backend)}
	}
	switch r.capture {
	case "all":
		rc.CaptureAll = true
	case "nameservers":
		rc.Nameservers = pc.resolv.Nameservers
		if len(rc.Nameservers) == 0 {
			return rc, fmt.Errorf("no nameserver in the resolv.conf: nothing to capture (use --capture all or fix --resolv-conf)")
		}
	default:
		return rc, usageError{fmt.Errorf("--capture %q: want nameservers or all", r.capture)}
	}
	mark, mask, err := parseMark(r.mark)
	if err != nil {
		return rc, usageError{err}
	}
	rc.Mark, rc.MarkMask = mark, mask
	rc.CaptureResponses = r.responses
	return rc, nil
}

func parseMark(s string) (mark, mask uint32, err error) {
	ms, masks, hasMask := strings.Cut(s, "/")
	m, err := strconv.ParseUint(ms, 0, 32)
	if err != nil || m == 0 {
		return 0, 0, fmt.Errorf("--mark %q: want a non-zero number, optionally /mask", s)
	}
	mk := m
	if hasMask {
		mk, err = strconv.ParseUint(masks, 0, 32)
		if err != nil || mk == 0 || m&^mk != 0 {
			return 0, 0, fmt.Errorf("--mark %q: bad mask", s)
		}
	}
	return uint32(m), uint32(mk), nil
}

// engineFlags set the answer policy.
type engineFlags struct {
	ttl          uint
	negativeTTL  uint
	ednsSize     uint
	podRecords   string
	zones        string
	autoAllocate bool
	namespaces   string

	cacheSize        uint
	cacheMaxTTL      uint
	cacheNegativeTTL uint
	cacheServfailTTL uint
	cacheStale       uint
	cachePrefetch    uint
}

func (e *engineFlags) register(fs *flag.FlagSet) {
	d := dnsengine.DefaultConfig()
	fs.UintVar(&e.ttl, "ttl", uint(d.TTL), "TTL of mesh answers, seconds")
	fs.UintVar(&e.negativeTTL, "negative-ttl", uint(d.NegativeTTL), "TTL of NXDOMAIN/NODATA answers (SOA minimum), seconds")
	fs.UintVar(&e.ednsSize, "edns-size", uint(d.EDNSSize), "largest UDP response to EDNS queries, bytes (512 without EDNS)")
	fs.StringVar(&e.podRecords, "pod-records", "insecure", "pod A records <a-b-c-d>.<ns>.pod.<zone>: insecure (as CoreDNS 'pods insecure') or disabled")
	fs.StringVar(&e.zones, "authoritative-zones", "", "comma-separated zones answered authoritatively, NXDOMAIN for unknown names (default: the cluster domain)")
	fs.BoolVar(&e.autoAllocate, "auto-allocate", true, "give ServiceEntry hosts without addresses automatic VIPs (240.240.0.0/16, 2001:2::/48)")
	fs.StringVar(&e.namespaces, "namespaces", "", "comma-separated namespaces whose names are loaded (default: all)")
	fs.UintVar(&e.cacheSize, "cache-size", uint(d.Cache.Size), "entries of the cache of upstream answers; 0 turns the cache off")
	fs.UintVar(&e.cacheMaxTTL, "cache-max-ttl", uint(d.Cache.MaxTTL), "cap on the TTL of cached positive answers, seconds (at most 604800)")
	fs.UintVar(&e.cacheNegativeTTL, "cache-negative-ttl", uint(d.Cache.NegativeTTL), "cap on the TTL of cached NXDOMAIN/NODATA answers, seconds")
	fs.UintVar(&e.cacheServfailTTL, "cache-servfail-ttl", uint(d.Cache.ServfailTTL), "how long SERVFAIL is cached, seconds; 0: never")
	fs.UintVar(&e.cacheStale, "cache-stale", uint(d.Cache.Stale), "serve expired entries this long past their TTL while refreshing them (RFC 8767), seconds; 0: off; 86400 is a sane production value")
	fs.UintVar(&e.cachePrefetch, "cache-prefetch", uint(d.Cache.Prefetch), "refresh an entry answered this many times when a hit finds it in the last tenth of its TTL; 0: off")
}

func (e *engineFlags) config() (dnsengine.Config, error) {
	c := dnsengine.DefaultConfig()
	if e.ttl > 1<<31-1 || e.negativeTTL > 1<<31-1 {
		return c, usageError{fmt.Errorf("--ttl and --negative-ttl must fit 31 bits")}
	}
	if e.ednsSize < 512 || e.ednsSize > 65535 {
		return c, usageError{fmt.Errorf("--edns-size %d: want 512..65535", e.ednsSize)}
	}
	pr, err := dnsengine.ParsePodRecords(e.podRecords)
	if err != nil {
		return c, usageError{err}
	}
	c.TTL, c.NegativeTTL, c.EDNSSize, c.PodRecords = uint32(e.ttl), uint32(e.negativeTTL), uint16(e.ednsSize), pr
	if e.cacheMaxTTL > cache.MaxTTL || e.cacheNegativeTTL > cache.MaxTTL || e.cacheServfailTTL > cache.MaxTTL {
		return c, usageError{fmt.Errorf("--cache-max-ttl, --cache-negative-ttl and --cache-servfail-ttl are at most %d (a week)", cache.MaxTTL)}
	}
	if e.cacheSize > 1<<24 || e.cacheStale > 1<<31-1 || e.cachePrefetch > 1<<31-1 {
		return c, usageError{fmt.Errorf("--cache-* value out of range")}
	}
	c.Cache.Size = int(e.cacheSize)
	c.Cache.MaxTTL, c.Cache.NegativeTTL, c.Cache.ServfailTTL = uint32(e.cacheMaxTTL), uint32(e.cacheNegativeTTL), uint32(e.cacheServfailTTL)
	c.Cache.Stale, c.Cache.Prefetch = uint32(e.cacheStale), uint32(e.cachePrefetch)
	return c, nil
}

// modelOptions are the options of the name table the flags ask for, in
// the cluster domain clusterDomain; the caller adds the nameservers, the
// logger and the serial.
func (e *engineFlags) modelOptions(clusterDomain string) model.Options {
	o := model.DefaultOptions()
	o.ClusterDomain = clusterDomain
	o.Zones = splitList(e.zones)
	o.Namespaces = splitList(e.namespaces)
	o.AutoAllocate = e.autoAllocate
	return o
}

func splitList(s string) []string {
	var out []string
	for _, f := range strings.Split(s, ",") {
		if f = strings.TrimSpace(f); f != "" {
			out = append(out, f)
		}
	}
	return out
}

// logFlags configure slog.
type logFlags struct {
	level  string
	format string
}

func (l *logFlags) register(fs *flag.FlagSet) {
	fs.StringVar(&l.level, "log-level", "info", "log level: debug, info, warn or error")
	fs.StringVar(&l.format, "log-format", "text", "log format: text or json")
}

func (l *logFlags) logger(w io.Writer) (*slog.Logger, error) {
	var lv slog.Level
	if err := lv.UnmarshalText([]byte(l.level)); err != nil {
		return nil, usageError{fmt.Errorf("--log-level %q: want debug, info, warn or error", l.level)}
	}
	opts := &slog.HandlerOptions{Level: lv}
	switch l.format {
	case "text":
		return slog.New(slog.NewTextHandler(w, opts)), nil
	case "json":
		return slog.New(slog.NewJSONHandler(w, opts)), nil
	}
	return nil, usageError{fmt.Errorf("--log-format %q: want text or json", l.format)}
}

// parseFlags parses args into fs, turning flag errors into usage errors.
func parseFlags(fs *flag.FlagSet, args []string) error {
	if err := fs.Parse(args); err != nil {
		if err == flag.ErrHelp {
			return err
		}
		return usageError{err}
	}
	return nil
}

// parseArgs parses args into fs, as parseFlags, wants no positional
// argument, and runs check (nil: none), the command's own checks of its
// flags before it touches the system.
func parseArgs(fs *flag.FlagSet, args []string, check func() error) error {
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return usageError{fmt.Errorf("unexpected arguments %q", fs.Args())}
	}
	if check == nil {
		return nil
	}
	return check()
}

func newFlagSet(name string, stderr io.Writer) *flag.FlagSet {
	fs := flag.NewFlagSet("meshdns "+name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	return fs
}

// nameservers renders addresses for logs.
func addrs(as []netip.Addr) string {
	s := make([]string, len(as))
	for i, a := range as {
		s[i] = a.String()
	}
	return strings.Join(s, ",")
}

// serveFlags are the flags of the commands that serve DNS, "run" and
// "node": the answer policy, the log, DNS over TCP, the name source and
// the metrics listener.
type serveFlags struct {
	engine engineFlags
	log    logFlags
	tcp    tcpFlags
	sourceFlags
	metrics string
}

func (s *serveFlags) register(fs *flag.FlagSet) {
	s.engine.register(fs)
	s.log.register(fs)
	s.tcp.register(fs)
	s.sourceFlags.register(fs)
	fs.StringVar(&s.metrics, "metrics-addr", observe.DefaultAddr, "address of /metrics, /healthz, /readyz, /debug/names and /debug/pprof; empty disables")
}

func (s *serveFlags) check() error {
	if err := s.sourceFlags.check(); err != nil {
		return err
	}
	return s.tcp.check()
}

// setup returns the logger writing to stderr and the engine's
// configuration the flags ask for, and sets the Go runtime's memory limit
// from the container's (memlimit.go).
func (s *serveFlags) setup(stderr io.Writer) (*slog.Logger, dnsengine.Config, error) {
	log, err := s.log.logger(stderr)
	if err != nil {
		return nil, dnsengine.Config{}, err
	}
	setMemoryLimit(log)
	ecfg, err := s.engine.config()
	return log, ecfg, err
}

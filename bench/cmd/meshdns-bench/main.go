package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"

	"github.com/meshdns/meshdns/bench/internal/harness"
	"github.com/meshdns/meshdns/bench/internal/names"
	"github.com/meshdns/meshdns/bench/internal/runas"
	"github.com/meshdns/meshdns/internal/loadgen"
)

const usage = `usage:
  meshdns-bench run [--quick] [flags]      run the benchmark (root)
  meshdns-bench load --spec FILE           run one load spec, print JSON (used by run)
  meshdns-bench runas UID GID -- PROG ...  exec PROG as UID/GID (used by run)
  meshdns-bench objects --dir DIR          write the generated name set's files
  meshdns-bench ab DIR                     the A/B of bench/scripts/ab.sh: medians of two binaries and their ratio
`

func main() {
	os.Exit(mainErr(os.Args[1:], os.Stdout, os.Stderr))
}

func mainErr(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return 2
	}
	var err error
	switch args[0] {
	case "run":
		err = cmdRun(args[1:], stdout, stderr)
	case "load":
		err = cmdLoad(args[1:], stdout)
	case "runas":
		err = runas.Exec(args[1:])
	case "objects":
		err = cmdObjects(args[1:])
	case "ab":
		err = cmdAB(args[1:], stdout)
	case "-h", "--help", "help":
		fmt.Fprint(stdout, usage)
		return 0
	default:
		fmt.Fprint(stderr, usage)
		return 2
	}
	if err != nil {
		fmt.Fprintln(stderr, "meshdns-bench:", err)
		return 1
	}
	return 0
}

func cmdRun(args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("meshdns-bench run", flag.ContinueOnError)
	fs.SetOutput(stderr)
	// --quick selects the preset the other flags' defaults come from, so
	// it is looked for before they are defined.
	fs.Bool("quick", false, "the two-minute smoke session (1 round, 1 s runs)")
	preset := harness.Full()
	for _, a := range args {
		if a == "--quick" || a == "-quick" || a == "--quick=true" {
			preset = harness.Quick()
		}
	}
	cfg := preset
	contenders := fs.String("contenders", strings.Join(cfg.Contenders, ","), "contenders, in first-round order")
	workloads := fs.String("workloads", strings.Join(cfg.Workloads, ","), "workloads: mesh, external, ndots, tcp-conn, tcp-pipe, tcp-external")
	rates := fs.String("rates", floats(cfg.Rates), "fixed rates (queries/s) for mesh and external")
	lookupRates := fs.String("lookup-rates", floats(cfg.LookupRates), "fixed rates (lookups/s) for ndots")
	tcpConnRates := fs.String("tcp-conn-rates", floats(cfg.TCPConnRates), "fixed rates (queries/s, a TCP connection each) for tcp-conn and tcp-external")
	tcpPipeRates := fs.String("tcp-pipe-rates", floats(cfg.TCPPipeRates), "fixed rates (queries/s) for tcp-pipe")
	fs.IntVar(&cfg.TCPConns, "tcp-conns", cfg.TCPConns, "long-lived TCP connections tcp-pipe spreads its queries over")
	fs.StringVar(&cfg.Label, "label", cfg.Label, "session label in the results and their file name (\"full\" adds no suffix)")
	fs.StringVar(&cfg.Upstream, "upstream", cfg.Upstream, "upstream server: dnsmasq or coredns")
	fs.IntVar(&cfg.Rounds, "rounds", cfg.Rounds, "rounds")
	fs.IntVar(&cfg.Names.Services, "services", cfg.Names.Services, "Kubernetes Services")
	fs.IntVar(&cfg.Names.HeadlessEvery, "headless-every", cfg.Names.HeadlessEvery, "every n-th Service is headless (0: none)")
	fs.IntVar(&cfg.Names.ServiceEntries, "serviceentries", cfg.Names.ServiceEntries, "ServiceEntries")
	fs.IntVar(&cfg.Names.External, "external", cfg.Names.External, "external names (upstream only)")
	fs.DurationVar(&cfg.DNSPerfDuration, "dnsperf-duration", cfg.DNSPerfDuration, "each dnsperf run (0: skip dnsperf)")
	fs.IntVar(&cfg.DNSPerfOutstanding, "dnsperf-outstanding", cfg.DNSPerfOutstanding, "dnsperf -q")
	fs.DurationVar(&cfg.FixedDuration, "fixed-duration", cfg.FixedDuration, "each fixed-rate run (0: skip)")
	fs.DurationVar(&cfg.IdleDuration, "idle-duration", cfg.IdleDuration, "the idle run: no DNS traffic, the contender's CPU time (0: skip)")
	fs.DurationVar(&cfg.Timeout, "timeout", cfg.Timeout, "a query unanswered after this is lost")
	fs.DurationVar(&cfg.WarmUp, "warm-up", cfg.WarmUp, "unrecorded warm-up per contender")
	fs.DurationVar(&cfg.Profile, "profile", cfg.Profile, "meshdns CPU profile length after the rounds (0: none)")
	meshdnsArgs := fs.String("meshdns-args", "", "extra arguments for `meshdns run`, space-separated")
	binDir := fs.String("bin-dir", "bench/bin", "where meshdns, meshdns-bench-istio, coredns and meshdns-bench-plot are")
	fs.StringVar(&cfg.Bins.Meshdns, "meshdns", "", "meshdns binary (default: BIN-DIR/meshdns)")
	fs.StringVar(&cfg.Bins.Istio, "istio", "", "bench/istio binary (default: BIN-DIR/meshdns-bench-istio)")
	fs.StringVar(&cfg.Bins.CoreDNS, "coredns", "", "coredns binary (default: BIN-DIR/coredns)")
	fs.StringVar(&cfg.Bins.Dnsmasq, "dnsmasq", "", "dnsmasq binary (default: from PATH)")
	fs.StringVar(&cfg.PlotBin, "plot", "", "plot program (default: BIN-DIR/meshdns-bench-plot if present)")
	fs.StringVar(&cfg.ResultsDir, "results", cfg.ResultsDir, "results directory")
	fs.BoolVar(&cfg.KeepWorkDir, "keep", false, "keep the work directory (generated files, process logs)")
	logLevel := fs.String("log-level", "info", "debug, info, warn or error")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("unexpected arguments %q", fs.Args())
	}
	var lvl slog.Level
	if err := lvl.UnmarshalText([]byte(*logLevel)); err != nil {
		return err
	}
	cfg.Logger = slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: lvl}))
	cfg.Contenders = split(*contenders)
	cfg.Workloads = split(*workloads)
	var err error
	if cfg.Rates, err = parseFloats(*rates); err != nil {
		return err
	}
	if cfg.LookupRates, err = parseFloats(*lookupRates); err != nil {
		return err
	}
	if cfg.TCPConnRates, err = parseFloats(*tcpConnRates); err != nil {
		return err
	}
	if cfg.TCPPipeRates, err = parseFloats(*tcpPipeRates); err != nil {
		return err
	}
	if *meshdnsArgs != "" {
		cfg.MeshdnsArgs = strings.Fields(*meshdnsArgs)
	}
	if cfg.Bins.Self, err = os.Executable(); err != nil {
		return err
	}
	inBinDir := func(p *string, name string, mustExist bool) {
		if *p != "" {
			return
		}
		cand := filepath.Join(*binDir, name)
		if _, err := os.Stat(cand); err == nil || !mustExist {
			*p, _ = filepath.Abs(cand)
		}
	}
	inBinDir(&cfg.Bins.Meshdns, "meshdns", false)
	inBinDir(&cfg.Bins.Istio, "meshdns-bench-istio", false)
	inBinDir(&cfg.Bins.CoreDNS, "coredns", false)
	inBinDir(&cfg.PlotBin, "meshdns-bench-plot", true)
	if cfg.Bins.Dnsmasq == "" {
		cfg.Bins.Dnsmasq, _ = exec.LookPath("dnsmasq")
	}

	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	res, err := harness.Session(ctx, cfg)
	if res != nil {
		md, rerr := os.ReadFile(res.Markdown)
		if rerr == nil {
			fmt.Fprintf(stdout, "%s\n", md)
		}
		fmt.Fprintf(stdout, "results: %s %s %s\n", res.JSON, res.Markdown, res.PNG)
	}
	return err
}

func split(s string) []string {
	var out []string
	for _, f := range strings.Split(s, ",") {
		if f = strings.TrimSpace(f); f != "" {
			out = append(out, f)
		}
	}
	return out
}

func floats(fs []float64) string {
	var s []string
	for _, f := range fs {
		s = append(s, strconv.FormatFloat(f, 'f', -1, 64))
	}
	return strings.Join(s, ",")
}

func parseFloats(s string) ([]float64, error) {
	var out []float64
	for _, f := range split(s) {
		v, err := strconv.ParseFloat(f, 64)
		if err != nil {
			return nil, fmt.Errorf("rate %q: %w", f, err)
		}
		out = append(out, v)
	}
	return out, nil
}

// cmdLoad runs one load spec and prints its result as JSON.
func cmdLoad(args []string, stdout io.Writer) error {
	fs := flag.NewFlagSet("meshdns-bench load", flag.ContinueOnError)
	specPath := fs.String("spec", "", "load spec (JSON)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	b, err := os.ReadFile(*specPath)
	if err != nil {
		return err
	}
	var spec loadgen.Spec
	if err := json.Unmarshal(b, &spec); err != nil {
		return fmt.Errorf("%s: %w", *specPath, err)
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	out, err := spec.Run(ctx)
	if err != nil {
		return err
	}
	return json.NewEncoder(stdout).Encode(out)
}

// cmdObjects writes the generated files (objects, hosts, zone, query
// lists) for use outside the harness.
func cmdObjects(args []string) error {
	fs := flag.NewFlagSet("meshdns-bench objects", flag.ContinueOnError)
	dir := fs.String("dir", "", "output directory")
	cfg := names.DefaultConfig()
	fs.IntVar(&cfg.Services, "services", cfg.Services, "Kubernetes Services")
	fs.IntVar(&cfg.ServiceEntries, "serviceentries", cfg.ServiceEntries, "ServiceEntries")
	fs.IntVar(&cfg.External, "external", cfg.External, "external names")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *dir == "" {
		return errors.New("objects: --dir is required")
	}
	set, err := names.Generate(cfg)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(*dir, 0o755); err != nil {
		return err
	}
	type file struct {
		name string
		fill func(io.Writer) error
	}
	all := names.HostsOptions{Mesh: true, External: true}
	for _, f := range []file{
		{"objects.yaml", set.WriteObjects},
		{"hosts.mesh", func(w io.Writer) error { return set.WriteHosts(w, names.HostsOptions{Mesh: true}) }},
		{"hosts.all", func(w io.Writer) error { return set.WriteHosts(w, all) }},
		{"root.zone", func(w io.Writer) error { return set.WriteZone(w, all) }},
		{"dnsperf.mesh", func(w io.Writer) error { return names.WriteDNSPerf(w, set.MeshQueries()) }},
		{"dnsperf.external", func(w io.Writer) error { return names.WriteDNSPerf(w, set.ExternalQueries()) }},
	} {
		fh, err := os.Create(filepath.Join(*dir, f.name))
		if err != nil {
			return err
		}
		if err := f.fill(fh); err != nil {
			fh.Close()
			return err
		}
		if err := fh.Close(); err != nil {
			return err
		}
	}
	return nil
}

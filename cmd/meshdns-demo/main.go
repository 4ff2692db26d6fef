package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/meshdns/meshdns/internal/clusterdns"
	"github.com/meshdns/meshdns/internal/netns"
	"github.com/meshdns/meshdns/internal/nsproc"
)

// Timeouts of the demo's steps.
const (
	servingTimeout = 30 * time.Second
	stopTimeout    = 10 * time.Second
)

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

// options are the parsed command line.
type options struct {
	meshdns   string
	objects   string
	prefix    string
	noMeshdns bool
	verbose   bool
	extra     []string
}

func parse(args []string, stderr io.Writer) (options, error) {
	var o options
	fs := flag.NewFlagSet("meshdns-demo", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&o.meshdns, "meshdns", "", "meshdns binary (default: meshdns beside this binary, else ./bin/meshdns)")
	fs.StringVar(&o.objects, "objects", "examples/objects.yaml", "objects file for meshdns run --objects")
	fs.StringVar(&o.prefix, "prefix", "demo", "namespace name prefix: mdt-<prefix>-pod, mdt-<prefix>-up")
	fs.BoolVar(&o.noMeshdns, "no-meshdns", false, "only build the topology and run the lookups without meshdns")
	fs.BoolVar(&o.verbose, "verbose", false, "show meshdns's log and every upstream query")
	fs.Func("meshdns-arg", "extra argument for meshdns run (repeatable)", func(s string) error { o.extra = append(o.extra, s); return nil })
	if err := fs.Parse(args); err != nil {
		return o, err
	}
	if fs.NArg() > 0 {
		return o, fmt.Errorf("unexpected arguments %q", fs.Args())
	}
	return o, nil
}

func run(args []string, stdout, stderr io.Writer) int {
	o, err := parse(args, stderr)
	if errors.Is(err, flag.ErrHelp) {
		return 0
	}
	if err != nil {
		fmt.Fprintln(stderr, "meshdns-demo:", err)
		return 2
	}
	if os.Geteuid() != 0 {
		fmt.Fprintln(stderr, "meshdns-demo: must run as root (it creates network namespaces)")
		return 1
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	d := &demo{opts: o, out: stdout}
	err = d.run(ctx)
	if terr := d.teardown(); terr != nil {
		fmt.Fprintln(stderr, "meshdns-demo: teardown:", terr)
		err = errors.Join(err, terr)
	}
	switch {
	case ctx.Err() != nil:
		fmt.Fprintln(stderr, "meshdns-demo: interrupted; everything torn down")
		return 130
	case err != nil:
		fmt.Fprintln(stderr, "meshdns-demo:", err)
		return 1
	case len(d.failures) > 0:
		fmt.Fprintf(stdout, "\nFAILED: %d expectation(s) not met:\n", len(d.failures))
		for _, f := range d.failures {
			fmt.Fprintln(stdout, "  - "+f)
		}
		return 1
	}
	fmt.Fprintf(stdout, "\nOK: all %d expectations met; namespaces removed.\n", d.checks)
	return 0
}

// demo holds the demo's state, so teardown can undo whatever was built.
type demo struct {
	opts options
	out  io.Writer

	topo   *netns.Topology
	up     *clusterdns.Server
	mesh   *nsproc.Process
	runner *runner
	steps  int

	checks   int
	failures []string
}

func (d *demo) step(title string) {
	d.steps++
	fmt.Fprintf(d.out, "\n== %d. %s\n", d.steps, title)
}

// expect records a check; msg is printed when it fails.
func (d *demo) expect(ok bool, msg string) {
	d.checks++
	if !ok {
		d.failures = append(d.failures, msg)
		fmt.Fprintln(d.out, "  FAIL: "+msg)
	}
}

func (d *demo) run(ctx context.Context) error {
	var bin, objects string
	if !d.opts.noMeshdns {
		var err error
		self, _ := os.Executable()
		if bin, err = findMeshdns(d.opts.meshdns, self); err != nil {
			return err
		}
		if objects, err = filepath.Abs(d.opts.objects); err != nil {
			return err
		}
		if _, err := os.Stat(objects); err != nil {
			return fmt.Errorf("--objects: %w", err)
		}
	}

	removed, err := netns.CleanupStale(ctx, d.opts.prefix)
	if err != nil {
		return fmt.Errorf("removing a previous run's namespaces: %w", err)
	}
	if len(removed) > 0 {
		fmt.Fprintf(d.out, "removed namespaces left by an earlier run: %s\n", strings.Join(removed, ", "))
	}
	if err := d.setup(ctx); err != nil {
		return err
	}

	d.step("without meshdns: the upstream answers everything")
	d.lookups(ctx, phaseBefore)
	if d.opts.noMeshdns || ctx.Err() != nil {
		return nil
	}

	d.step("with meshdns running in the pod namespace")
	args := append([]string{"run", "--objects", objects, "--log-format", "text", "--log-level", "info"}, d.opts.extra...)
	fmt.Fprintf(d.out, "  ip netns exec %s %s %s\n", d.topo.Pod, bin, strings.Join(args, " "))
	var echo io.Writer
	if d.opts.verbose {
		echo = d.out
	}
	start := time.Now()
	if d.mesh, err = startMeshdns(d.topo.Pod, bin, args, echo); err != nil {
		return err
	}
	if err := d.mesh.WaitReady(ctx, servingTimeout); err != nil {
		return err
	}
	fmt.Fprintf(d.out, "  serving after %s\n", roundDur(time.Since(start)))
	rules, err := queueRules(ctx, d.topo.Pod)
	d.expect(err == nil, fmt.Sprintf("listing the pod's rules: %v", err))
	d.expect(len(rules) > 0, "meshdns is serving but the pod namespace has no queue rule")
	fmt.Fprintf(d.out, "  queue rules in the pod namespace: %s\n", ruleSummary(rules))
	if d.opts.verbose {
		for _, r := range rules {
			fmt.Fprintln(d.out, "    "+r)
		}
	}
	d.lookups(ctx, phaseWith)
	if ctx.Err() != nil {
		return nil
	}

	d.step("after meshdns stopped (SIGTERM): its rules are gone, the upstream answers again")
	killed, exitErr := d.mesh.Terminate(stopTimeout)
	d.expect(!killed, fmt.Sprintf("meshdns did not exit within %s of SIGTERM and was killed", stopTimeout))
	d.expect(exitErr == nil, fmt.Sprintf("meshdns exited with %v; its log:\n%s", exitErr, logText(d.mesh)))
	fmt.Fprintf(d.out, "  meshdns exited: %s\n", exitText(exitErr))
	rules, err = queueRules(ctx, d.topo.Pod)
	d.expect(err == nil, fmt.Sprintf("listing the pod's rules: %v", err))
	d.expect(len(rules) == 0, fmt.Sprintf("queue rules left after meshdns stopped: %q", rules))
	fmt.Fprintf(d.out, "  queue rules left: %s\n", ruleSummary(rules))
	d.lookups(ctx, phaseAfter)
	return nil
}

func exitText(err error) string {
	if err == nil {
		return "status 0"
	}
	return err.Error()
}

// setup builds the namespaces and starts the upstream in its namespace.
func (d *demo) setup(ctx context.Context) error {
	topo, err := netns.New(ctx, netns.Config{Prefix: d.opts.prefix, ResolvConf: resolvConf})
	if err != nil {
		return err
	}
	d.topo = topo
	var log *slog.Logger
	if d.opts.verbose {
		log = slog.New(slog.NewTextHandler(d.out, &slog.HandlerOptions{Level: slog.LevelInfo}))
	}
	up, err := clusterdns.New(clusterdns.Config{Zone: clusterdns.ExampleZone, Logger: log})
	if err != nil {
		return err
	}
	var udp []net.PacketConn
	var tcp []net.Listener
	for _, a := range []string{topo.UpstreamV4.String(), topo.UpstreamV6.String()} {
		addr := net.JoinHostPort(a, "53")
		pc, err := netns.ListenUDP(topo.Upstream, "udp", addr)
		if err != nil {
			return err
		}
		udp = append(udp, pc)
		ln, err := netns.ListenTCP(topo.Upstream, "tcp", addr)
		if err != nil {
			return err
		}
		tcp = append(tcp, ln)
	}
	if err := up.Serve(udp, tcp); err != nil {
		return err
	}
	d.up = up
	d.runner = &runner{pod: topo.Pod, nameserver: topo.UpstreamV4, up: up}

	fmt.Fprintf(d.out, "pod namespace       %-16s %s, %s on %s\n", topo.Pod, topo.PodV4, topo.PodV6, topo.Link)
	fmt.Fprintf(d.out, "upstream namespace  %-16s %s, %s: a test DNS server (internal/clusterdns)\n", topo.Upstream, topo.UpstreamV4, topo.UpstreamV6)
	fmt.Fprintf(d.out, "                    it knows the external names, and answers mesh names with decoys\n")
	fmt.Fprintf(d.out, "                    (198.19.x.x / fd53:19::x, TTL %d) so you can see who answered\n", clusterdns.DefaultTTL)
	fmt.Fprintf(d.out, "pod resolv.conf     %s\n", strings.ReplaceAll(strings.TrimSpace(resolvConf), "\n", " | "))
	fmt.Fprintln(d.out, "ANSWERED BY: meshdns = the name never reached the upstream and the answer is not its decoy;")
	fmt.Fprintln(d.out, "             upstream = the upstream's own records. TIME: the whole tool run; RTT: the query alone.")
	return nil
}

// lookups runs every demo lookup and checks it for the phase.
func (d *demo) lookups(ctx context.Context, p phase) {
	var outs []outcome
	for _, l := range demoLookups() {
		if ctx.Err() != nil {
			return
		}
		outs = append(outs, d.runner.run(ctx, l))
	}
	printTable(d.out, outs, d.opts.verbose)
	for _, o := range outs {
		bad := expectations(p, o)
		d.checks++
		if len(bad) > 0 {
			d.checks--
			for _, b := range bad {
				d.expect(false, fmt.Sprintf("step %d: %s", d.steps, b))
			}
		}
	}
}

// teardown stops meshdns and the upstream and removes the namespaces.
func (d *demo) teardown() error {
	var errs []error
	if d.mesh != nil {
		if killed, _ := d.mesh.Terminate(stopTimeout); killed {
			errs = append(errs, errors.New("meshdns had to be killed"))
		}
	}
	if d.up != nil {
		if err := d.up.Stop(); err != nil {
			errs = append(errs, err)
		}
	}
	if d.topo != nil {
		if err := d.topo.Close(); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

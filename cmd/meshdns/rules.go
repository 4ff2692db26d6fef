package main

import (
	"context"
	"fmt"
	"io"
	"runtime"

	"github.com/meshdns/meshdns/nfq"
)

// cmdRules installs or removes the capture rules without consuming the
// queue: for an init container, or to clean up after a crash.
func cmdRules(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 || (args[0] != "install" && args[0] != "remove") {
		return usageError{fmt.Errorf("want: meshdns rules install|remove [flags]")}
	}
	action := args[0]
	fs := newFlagSet("rules "+action, stderr)
	var pf podFlags
	var rf ruleFlags
	var lf logFlags
	pf.register(fs)
	rf.register(fs, false)
	lf.register(fs)
	if err := parseFlags(fs, args[1:]); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return usageError{fmt.Errorf("unexpected arguments %q", fs.Args())}
	}
	log, err := lf.logger(stderr)
	if err != nil {
		return err
	}
	pc, err := pf.load(log, rf.capture != "all" && action == "install")
	if err != nil {
		return err
	}
	rc, err := rf.config(pc, log, queueCount(rf.queues))
	if err != nil && action == "install" {
		return err
	}
	if action == "install" {
		if err := nfq.Install(ctx, rc); err != nil {
			return err
		}
		log.Info("rules installed", "capture", rf.capture, "nameservers", addrs(rc.Nameservers), "queue", rc.QueueNum, "queues", rc.Queues)
		return nil
	}
	if err := nfq.Remove(ctx, rc); err != nil {
		return err
	}
	log.Info("rules removed")
	return nil
}

// queueCount resolves --queues 0 to one queue per CPU, at most 4.
func queueCount(flagValue uint) int {
	if flagValue > 0 {
		return int(flagValue)
	}
	return min(max(runtime.NumCPU(), 1), 4)
}

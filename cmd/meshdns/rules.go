package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"runtime"

	"github.com/meshdns/meshdns/nfq/rules"
)

// rulesFlags are the flags of "meshdns rules install|remove".
type rulesFlags struct {
	pod   podFlags
	rules ruleFlags
	log   logFlags
}

// newRulesFlags returns the flag set of "meshdns rules <action>" and the
// flags it fills.
func newRulesFlags(action string, stderr io.Writer) (*flag.FlagSet, *rulesFlags) {
	fs := newFlagSet("rules "+action, stderr)
	f := &rulesFlags{}
	f.pod.register(fs)
	f.rules.register(fs, false)
	f.log.register(fs)
	return fs, f
}

// cmdRules installs or removes the capture rules without consuming the
// queue: for an init container, or to clean up after a crash.
func cmdRules(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 || (args[0] != "install" && args[0] != "remove") {
		return usageError{fmt.Errorf("want: meshdns rules install|remove [flags]")}
	}
	action := args[0]
	fs, f := newRulesFlags(action, stderr)
	pf, rf, lf := &f.pod, &f.rules, &f.log
	if err := parseArgs(fs, args[1:], nil); err != nil {
		return err
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
		if err := rules.Install(ctx, rc); err != nil {
			return err
		}
		log.Info("rules installed", "capture", rf.capture, "nameservers", addrs(rc.Nameservers), "queue", rc.QueueNum, "queues", rc.Queues)
		return nil
	}
	if err := rules.Remove(ctx, rc); err != nil {
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

package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
)

// usageError marks errors in the command line: exit status 2.
type usageError struct{ error }

const usage = `meshdns answers mesh DNS names inside the pod, without a listener.

Usage:
  meshdns run --objects FILE [flags]       consume the queue and answer mesh names
  meshdns rules install|remove [flags]     install or remove the capture rules only
  meshdns node --cluster-dns IP [flags]    one per node: every captured pod answered in its own namespace
  meshdns replay --objects FILE [flags] IN.pcap OUT.pcap
  meshdns version

Run "meshdns <command> -h" for the flags of a command.
`

func main() {
	os.Exit(realMain(os.Args[1:], os.Stdout, os.Stderr))
}

func realMain(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return 2
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	var err error
	switch args[0] {
	case "run":
		err = cmdRun(ctx, args[1:], stdout, stderr)
	case "rules":
		err = cmdRules(ctx, args[1:], stdout, stderr)
	case "node":
		err = cmdNode(ctx, args[1:], stdout, stderr)
	case "replay":
		err = cmdReplay(ctx, args[1:], stdout, stderr)
	case "version":
		fmt.Fprintln(stdout, version())
	case "-h", "--help", "help":
		fmt.Fprint(stdout, usage)
	default:
		fmt.Fprintf(stderr, "meshdns: unknown command %q\n\n%s", args[0], usage)
		return 2
	}
	if err == nil || errors.Is(err, flag.ErrHelp) {
		return 0
	}
	fmt.Fprintf(stderr, "meshdns %s: %v\n", args[0], err)
	var ue usageError
	if errors.As(err, &ue) {
		return 2
	}
	return 1
}

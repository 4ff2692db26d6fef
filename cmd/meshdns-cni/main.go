package main

import (
	"context"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"syscall"

	"github.com/containernetworking/cni/pkg/skel"
	"github.com/containernetworking/cni/pkg/version"

	"github.com/meshdns/meshdns/node/cniplugin"
)

func main() {
	// "meshdns-cni install": the DaemonSet's installer. A runtime never
	// passes arguments; it sets CNI_COMMAND.
	if len(os.Args) > 1 && os.Args[1] == "install" && os.Getenv("CNI_COMMAND") == "" {
		ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
		err := cmdInstall(ctx, os.Args[2:], os.Stderr)
		stop()
		if err != nil && err != flag.ErrHelp {
			fmt.Fprintf(os.Stderr, "meshdns-cni install: %v\n", err)
			os.Exit(1)
		}
		return
	}
	// The runtime keeps a plugin's stderr in its own log.
	p := &cniplugin.Plugin{Log: slog.New(slog.NewTextHandler(os.Stderr, nil))}
	skel.PluginMainFuncs(skel.CNIFuncs{Add: p.Add, Del: p.Del, Check: p.Check},
		version.PluginSupports("0.4.0", "1.0.0", "1.1.0"), "meshdns-cni: meshdns capture rules in the pod's network namespace")
}

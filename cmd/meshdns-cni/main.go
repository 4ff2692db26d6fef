package main

import (
	"log/slog"
	"os"

	"github.com/containernetworking/cni/pkg/skel"
	"github.com/containernetworking/cni/pkg/version"

	"github.com/meshdns/meshdns/node/cniplugin"
)

func main() {
	// The runtime keeps a plugin's stderr in its own log.
	p := &cniplugin.Plugin{Log: slog.New(slog.NewTextHandler(os.Stderr, nil))}
	skel.PluginMainFuncs(skel.CNIFuncs{Add: p.Add, Del: p.Del, Check: p.Check},
		version.PluginSupports("0.4.0", "1.0.0", "1.1.0"), "meshdns-cni: meshdns capture rules in the pod's network namespace")
}

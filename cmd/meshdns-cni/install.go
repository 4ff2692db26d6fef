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
	"path/filepath"
	"strings"

	"github.com/meshdns/meshdns/node/cniplugin"
)

// installFlags are the flags of "meshdns-cni install", the DaemonSet's CNI
// install container: it copies this binary into the node's CNI bin
// directory, chains it into the node's conflist, stays up, and undoes both
// when it is stopped (the DaemonSet deleted or rolled).
type installFlags struct {
	confDir, binDir, socket, nameservers, backend string
	captureAll, cache, tcpResets, keep            bool
	queueNum                                      uint
}

func newInstallFlags(w io.Writer) (*flag.FlagSet, *installFlags) {
	fs := flag.NewFlagSet("meshdns-cni install", flag.ContinueOnError)
	fs.SetOutput(w)
	f := &installFlags{}
	fs.StringVar(&f.confDir, "conf-dir", "/host/etc/cni/net.d", "the node's CNI configuration directory (mounted)")
	fs.StringVar(&f.binDir, "bin-dir", "/host/opt/cni/bin", "the node's CNI plugin directory (mounted)")
	fs.StringVar(&f.socket, "agent-socket", cniplugin.DefaultSocket, "the node agent's socket, as the node sees the path")
	fs.StringVar(&f.nameservers, "nameservers", "", "comma-separated nameservers whose DNS is captured (the kubelet's --cluster-dns)")
	fs.BoolVar(&f.captureAll, "capture-all", false, "capture port 53 to any address")
	fs.BoolVar(&f.cache, "cache", true, "queue the nameservers' answers for the agent's per-pod cache")
	fs.BoolVar(&f.tcpResets, "tcp-resets", true, "queue the nameservers' TCP RSTs for the agent (it answers DNS over TCP: meshdns node --tcp on)")
	fs.StringVar(&f.backend, "iptables-backend", "auto", "iptables backend in the pods: auto, nft or legacy")
	fs.UintVar(&f.queueNum, "queue-num", cniplugin.DefaultQueueNum, "NFQUEUE number in every pod (the agent's --queue-num)")
	fs.BoolVar(&f.keep, "keep", false, "leave the plugin installed on exit")
	return fs, f
}

// entry is meshdns-cni's conflist entry; it is checked with the plugin's
// own parser before anything is written.
func (f *installFlags) entry() (map[string]any, error) {
	e := map[string]any{"type": "meshdns-cni", "agentSocket": f.socket, "captureAll": f.captureAll,
		"cache": f.cache, "tcpResets": f.tcpResets, "queueNum": f.queueNum, "iptablesBackend": f.backend}
	if f.nameservers != "" {
		e["nameservers"] = strings.Split(f.nameservers, ",")
	}
	check := map[string]any{"cniVersion": "1.0.0", "name": "check"}
	for k, v := range e {
		check[k] = v
	}
	b, err := json.Marshal(check)
	if err != nil {
		return nil, err
	}
	if _, err := cniplugin.Parse(b); err != nil {
		return nil, err
	}
	return e, nil
}

func cmdInstall(ctx context.Context, args []string, stderr io.Writer) error {
	fs, f := newInstallFlags(stderr)
	if err := fs.Parse(args); err != nil {
		return err
	}
	log := slog.New(slog.NewTextHandler(stderr, nil))
	entry, err := f.entry()
	if err != nil {
		return err
	}
	self, err := os.Executable()
	if err != nil {
		return err
	}
	bin, err := os.ReadFile(self)
	if err != nil {
		return err
	}
	dst := filepath.Join(f.binDir, "meshdns-cni")
	if err := cniplugin.WriteAtomic(dst, bin, 0o755); err != nil {
		return fmt.Errorf("installing %s: %w", dst, err)
	}
	conf, err := cniplugin.Conflist(f.confDir)
	if err != nil {
		return err
	}
	b, err := os.ReadFile(conf)
	if err != nil {
		return err
	}
	out, err := cniplugin.Chain(b, entry)
	if err != nil {
		return fmt.Errorf("%s: %w", conf, err)
	}
	if err := cniplugin.WriteAtomic(conf, out, 0o644); err != nil {
		return err
	}
	log.Info("installed", "binary", dst, "conflist", conf)
	<-ctx.Done()
	if f.keep {
		return nil
	}
	return uninstall(conf, dst, log)
}

func uninstall(conf, bin string, log *slog.Logger) error {
	b, err := os.ReadFile(conf)
	if err != nil {
		return err
	}
	out, changed, err := cniplugin.Unchain(b)
	if err != nil {
		return fmt.Errorf("%s: %w", conf, err)
	}
	if changed {
		if err := cniplugin.WriteAtomic(conf, out, 0o644); err != nil {
			return err
		}
	}
	if err := os.Remove(bin); err != nil && !errors.Is(err, os.ErrNotExist) {
		return err
	}
	log.Info("uninstalled", "binary", bin, "conflist", conf)
	return nil
}

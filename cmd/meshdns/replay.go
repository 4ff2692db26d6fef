package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/meshdns/meshdns/dnsengine"
	"github.com/meshdns/meshdns/replay"
	"github.com/meshdns/meshdns/sync/model"
	"github.com/meshdns/meshdns/sync/objects"
)

// cmdReplay runs a capture through the engine the kernel path uses.
func cmdReplay(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("replay", stderr)
	var pf podFlags
	var ef engineFlags
	var lf logFlags
	pf.register(fs)
	ef.register(fs)
	lf.register(fs)
	objPath := fs.String("objects", "", "file of Kubernetes objects to answer from (required)")
	asJSON := fs.Bool("json", false, "print the summary as JSON")
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: meshdns replay --objects FILE [flags] IN.pcap OUT.pcap")
		fs.PrintDefaults()
	}
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if *objPath == "" {
		return usageError{errors.New("--objects FILE is required")}
	}
	if fs.NArg() != 2 {
		return usageError{errors.New("want IN.pcap OUT.pcap")}
	}
	log, err := lf.logger(stderr)
	if err != nil {
		return err
	}
	ecfg, err := ef.config()
	if err != nil {
		return err
	}
	// A capture is replayed as fast as it can be read: the cache would
	// learn and answer on the wall clock, not the capture's, so replay
	// shows the name table's answers only.
	ecfg.Cache.Size = 0
	pc, err := pf.load(log, pf.resolvConf != "/etc/resolv.conf")
	if err != nil {
		return err
	}
	ecfg.PodNamespace = pc.namespace
	objs, _, err := objects.Load(*objPath)
	if err != nil {
		return err
	}
	opts := ef.modelOptions(pf.clusterDomain)
	opts.Nameservers = pc.resolv.Nameservers
	if fi, err := os.Stat(*objPath); err == nil {
		opts.Serial = uint32(fi.ModTime().Unix()) // deterministic for a given file
	}
	tab, rep, err := model.Build(objs, opts)
	if err != nil {
		return err
	}
	for _, p := range rep.Problems {
		log.Warn("object skipped", "problem", p.String())
	}
	eng, err := dnsengine.New(ecfg, dnsengine.StaticRegistry{T: tab})
	if err != nil {
		return err
	}
	in, err := os.Open(fs.Arg(0))
	if err != nil {
		return err
	}
	defer in.Close()
	out, err := os.Create(fs.Arg(1))
	if err != nil {
		return err
	}
	sum, err := replay.Run(replay.Config{Processor: eng, Logger: log}, in, out)
	if cerr := out.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("%s: %w", fs.Arg(0), err)
	}
	if *asJSON {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(sum)
	}
	_, err = io.WriteString(stdout, sum.Text())
	return err
}

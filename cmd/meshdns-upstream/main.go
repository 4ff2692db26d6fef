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
	"os/signal"
	"sort"
	"syscall"
	"time"

	"github.com/meshdns/meshdns/internal/clusterdns"
	"github.com/miekg/dns"
)

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

// options are the parsed command line.
type options struct {
	listen   []string
	zone     string
	origin   string
	ttl      uint
	delay    time.Duration
	marker   bool
	stats    bool
	logLevel slog.Level
}

func parse(args []string, stderr io.Writer) (options, error) {
	var o options
	fs := flag.NewFlagSet("meshdns-upstream", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Func("listen", "address to serve UDP and TCP on, ip:port (repeatable; default 127.0.0.1:5353)", func(s string) error { o.listen = append(o.listen, s); return nil })
	fs.StringVar(&o.zone, "zone", "", "zone file to serve (default: the built-in example zone)")
	fs.StringVar(&o.origin, "origin", ".", "origin of relative names in --zone")
	fs.UintVar(&o.ttl, "ttl", clusterdns.DefaultTTL, "TTL of records that set none")
	fs.DurationVar(&o.delay, "delay", 0, "hold every answer back this long")
	fs.BoolVar(&o.marker, "marker", false, "add a TXT "+clusterdns.MarkerName+" record to every response")
	fs.BoolVar(&o.stats, "stats", false, "print the query counts as JSON on stdout on exit")
	level := fs.String("log-level", "info", "debug, info, warn or error")
	if err := fs.Parse(args); err != nil {
		return o, err
	}
	if fs.NArg() > 0 {
		return o, fmt.Errorf("unexpected arguments %q", fs.Args())
	}
	if err := o.logLevel.UnmarshalText([]byte(*level)); err != nil {
		return o, fmt.Errorf("--log-level: %w", err)
	}
	if o.ttl > 1<<31-1 {
		return o, fmt.Errorf("--ttl %d is too large", o.ttl)
	}
	if o.delay < 0 {
		return o, errors.New("--delay must not be negative")
	}
	if len(o.listen) == 0 {
		o.listen = []string{"127.0.0.1:5353"}
	}
	return o, nil
}

func run(args []string, stdout, stderr io.Writer) int {
	o, err := parse(args, stderr)
	if errors.Is(err, flag.ErrHelp) {
		return 0
	}
	if err != nil {
		fmt.Fprintln(stderr, "meshdns-upstream:", err)
		return 2
	}
	log := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: o.logLevel}))
	zone := clusterdns.ExampleZone
	if o.zone != "" {
		b, err := os.ReadFile(o.zone)
		if err != nil {
			log.Error("read zone", "err", err)
			return 1
		}
		zone = string(b)
	}
	s, err := clusterdns.New(clusterdns.Config{
		Zone: zone, Origin: o.origin, TTL: uint32(o.ttl),
		Delay: o.delay, Marker: o.marker, Logger: log,
	})
	if err != nil {
		log.Error("load zone", "err", err)
		return 1
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	if err := s.ListenAndServe(o.listen...); err != nil {
		log.Error("listen", "err", err)
		return 1
	}
	<-ctx.Done()
	if err := s.Stop(); err != nil {
		log.Error("stop", "err", err)
	}
	log.Info("queries received", "udp", s.Totals().UDP, "tcp", s.Totals().TCP)
	if o.stats {
		if err := writeStats(stdout, s); err != nil {
			log.Error("stats", "err", err)
			return 1
		}
	}
	return 0
}

// stats is the JSON printed by --stats.
type stats struct {
	UDP     uint64       `json:"udp"`
	TCP     uint64       `json:"tcp"`
	Queries []queryCount `json:"queries"`
}

type queryCount struct {
	Name  string `json:"name"`
	Type  string `json:"type"`
	Count uint64 `json:"count"`
}

func writeStats(w io.Writer, s *clusterdns.Server) error {
	t := s.Totals()
	st := stats{UDP: t.UDP, TCP: t.TCP, Queries: []queryCount{}}
	for k, n := range s.Counts() {
		typ := dns.TypeToString[k.Type]
		if typ == "" {
			typ = fmt.Sprintf("TYPE%d", k.Type)
		}
		st.Queries = append(st.Queries, queryCount{Name: k.Name, Type: typ, Count: n})
	}
	sort.Slice(st.Queries, func(i, j int) bool {
		a, b := st.Queries[i], st.Queries[j]
		if a.Name != b.Name {
			return a.Name < b.Name
		}
		return a.Type < b.Type
	})
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(st)
}

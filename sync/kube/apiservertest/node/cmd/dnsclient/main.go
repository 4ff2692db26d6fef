// Command dnsclient is the app of the real-node tests' pods: a static Go
// resolver client run in the app container (`ctr tasks exec`) that resolves
// names through the pod's kubelet-written /etc/resolv.conf, as a Go
// application in a pod does.
//
//	dnsclient sleep                       block until SIGTERM (the container's main process)
//	dnsclient lookup NAME...              one A lookup per name, one JSON line each
//	dnsclient loop -for D -every I NAME   A lookups until D has passed or stdin ends; a JSON summary
//	dnsclient load -for D -workers N NAME...   concurrent A lookups; a JSON summary
//	dnsclient tcp -server ADDR            one TCP connection; a query per stdin line (a name), a JSON line per answer
//
// Its output is JSON so the test reads it without guessing.
package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"os"
	"os/signal"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/miekg/dns"
)

func main() {
	if len(os.Args) < 2 {
		fmt.Fprintln(os.Stderr, "usage: dnsclient sleep|lookup|loop|load|tcp ...")
		os.Exit(2)
	}
	var err error
	switch os.Args[1] {
	case "sleep":
		sig := make(chan os.Signal, 1)
		signal.Notify(sig, syscall.SIGTERM, syscall.SIGINT)
		<-sig
	case "lookup":
		err = lookupCmd(os.Args[2:])
	case "loop":
		err = loopCmd(os.Args[2:])
	case "load":
		err = loadCmd(os.Args[2:])
	case "tcp":
		err = tcpCmd(os.Args[2:])
	default:
		err = fmt.Errorf("unknown command %q", os.Args[1])
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "dnsclient:", err)
		os.Exit(1)
	}
}

// Result is one lookup.
type Result struct {
	Name  string   `json:"name"`
	Addrs []string `json:"addrs,omitempty"` // sorted
	Err   string   `json:"err,omitempty"`
}

func lookup(name string) Result {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	ips, err := net.DefaultResolver.LookupIP(ctx, "ip4", name)
	r := Result{Name: name}
	if err != nil {
		r.Err = err.Error()
		return r
	}
	for _, ip := range ips {
		r.Addrs = append(r.Addrs, ip.String())
	}
	slices.Sort(r.Addrs)
	return r
}

func lookupCmd(names []string) error {
	enc := json.NewEncoder(os.Stdout)
	for _, n := range names {
		if err := enc.Encode(lookup(n)); err != nil {
			return err
		}
	}
	return nil
}

// Run is a stretch of consecutive lookups with the same outcome.
type Run struct {
	Answer string `json:"answer"` // addresses joined by ",", or "error: ..."
	Count  int    `json:"count"`
}

// Summary is what loop and load print.
type Summary struct {
	Name   string `json:"name,omitempty"`
	OK     int64  `json:"ok"`
	Failed int64  `json:"failed"`
	// Runs (loop only): the outcomes in order, consecutive equal ones merged.
	Runs []Run `json:"runs,omitempty"`
	// Answers (load only): how many lookups got each answer.
	Answers map[string]int64 `json:"answers,omitempty"`
}

func outcome(r Result) string {
	if r.Err != "" {
		return "error: " + r.Err
	}
	return strings.Join(r.Addrs, ",")
}

func loopCmd(args []string) error {
	fs := flag.NewFlagSet("loop", flag.ContinueOnError)
	dur := fs.Duration("for", 10*time.Second, "how long to go on at most")
	every := fs.Duration("every", 50*time.Millisecond, "pause between lookups")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() != 1 {
		return errors.New("loop: one name")
	}
	// The caller ends the loop by closing stdin.
	var eof atomic.Bool
	go func() { _, _ = io.Copy(io.Discard, os.Stdin); eof.Store(true) }()
	s := Summary{Name: fs.Arg(0)}
	end := time.Now().Add(*dur)
	for time.Now().Before(end) && !eof.Load() {
		r := lookup(s.Name)
		if r.Err != "" {
			s.Failed++
		} else {
			s.OK++
		}
		o := outcome(r)
		if n := len(s.Runs); n > 0 && s.Runs[n-1].Answer == o {
			s.Runs[n-1].Count++
		} else {
			s.Runs = append(s.Runs, Run{Answer: o, Count: 1})
		}
		time.Sleep(*every)
	}
	return json.NewEncoder(os.Stdout).Encode(s)
}

func loadCmd(args []string) error {
	fs := flag.NewFlagSet("load", flag.ContinueOnError)
	dur := fs.Duration("for", 10*time.Second, "how long to go on")
	workers := fs.Int("workers", 8, "concurrent lookups")
	if err := fs.Parse(args); err != nil {
		return err
	}
	names := fs.Args()
	if len(names) == 0 || *workers < 1 || *workers > 256 {
		return errors.New("load: names and 1-256 workers")
	}
	var ok, failed atomic.Int64
	var mu sync.Mutex
	answers := map[string]int64{}
	end := time.Now().Add(*dur)
	var wg sync.WaitGroup
	for w := range *workers {
		wg.Go(func() {
			for i := w; time.Now().Before(end); i++ {
				r := lookup(names[i%len(names)])
				if r.Err != "" {
					failed.Add(1)
				} else {
					ok.Add(1)
				}
				mu.Lock()
				if len(answers) < 1000 {
					answers[outcome(r)]++
				}
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	return json.NewEncoder(os.Stdout).Encode(Summary{OK: ok.Load(), Failed: failed.Load(), Answers: answers})
}

// TCPAnswer is one answer on the tcp command's connection.
type TCPAnswer struct {
	Name   string   `json:"name"`
	Rcode  string   `json:"rcode,omitempty"`
	Answer []string `json:"answer,omitempty"` // A record addresses
	Err    string   `json:"err,omitempty"`
}

func tcpCmd(args []string) error {
	fs := flag.NewFlagSet("tcp", flag.ContinueOnError)
	server := fs.String("server", "", "nameserver address ip:port")
	if err := fs.Parse(args); err != nil {
		return err
	}
	// No keep-alive probes, as glibc's and musl's resolvers: while the
	// sidecar is down a probe would reach the real nameserver, which
	// knows no such connection and resets it.
	d := net.Dialer{Timeout: 10 * time.Second, KeepAlive: -1}
	c, err := d.Dial("tcp", *server)
	if err != nil {
		return err
	}
	defer c.Close()
	co := &dns.Conn{Conn: c}
	enc := json.NewEncoder(os.Stdout)
	sc := bufio.NewScanner(os.Stdin)
	for sc.Scan() {
		name := strings.TrimSpace(sc.Text())
		if name == "" {
			continue
		}
		a := TCPAnswer{Name: name}
		m := new(dns.Msg)
		m.SetQuestion(dns.Fqdn(name), dns.TypeA)
		_ = c.SetDeadline(time.Now().Add(10 * time.Second))
		if err := co.WriteMsg(m); err != nil {
			a.Err = err.Error()
		} else if r, err := co.ReadMsg(); err != nil {
			a.Err = err.Error()
		} else {
			a.Rcode = dns.RcodeToString[r.Rcode]
			for _, rr := range r.Answer {
				if x, ok := rr.(*dns.A); ok {
					a.Answer = append(a.Answer, x.A.String())
				}
			}
		}
		if err := enc.Encode(a); err != nil {
			return err
		}
		if a.Err != "" {
			return errors.New(a.Err)
		}
	}
	return sc.Err()
}

package main

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"os/exec"
	"strings"
	"time"

	"github.com/meshdns/meshdns/internal/clusterdns"
	"github.com/meshdns/meshdns/internal/lookupout"
	"github.com/meshdns/meshdns/internal/netns"
	"github.com/miekg/dns"
)

// The tools a lookup can use inside the pod namespace.
const (
	toolGetent = "getent" // getent hosts NAME: glibc, search list, A and AAAA
	toolDig    = "dig"    // dig NAME TYPE: the name as given, no search list
	toolGo     = "go"     // a miekg/dns query from a socket in the pod namespace
)

// lookupTimeout bounds one lookup.
const lookupTimeout = 15 * time.Second

// lookup is one query the demo makes.
type lookup struct {
	Query string // the name as typed
	Type  uint16 // dig and go: the query type; getent asks for A and AAAA
	Tool  string
	FQDN  string // the name the query becomes after the search list
	Mesh  bool   // a mesh name: meshdns must answer it while running
	Empty bool   // meshdns's answer has no records (NOERROR, no data)
}

// label is the lookup as shown in the table.
func (l lookup) label() string {
	if l.Tool == toolGetent {
		return l.Query
	}
	return l.Query + " " + dns.TypeToString[l.Type]
}

// outcome is a lookup's result.
type outcome struct {
	lookup
	Status   string   // DNS rcode name, or getent's "found"/"not found"
	Answers  []record // answer records
	Wall     time.Duration
	RTT      time.Duration // dig's query time or the go client's round trip; 0 if unknown
	Upstream map[clusterdns.Key]uint64
	By       string // who answered: meshdns, upstream, none, unclear, mixed
	Err      error
}

// Who answered.
const (
	byMeshdns  = "meshdns"
	byUpstream = "upstream"
	byNone     = "none"
	byUnclear  = "unclear"
	byMixed    = "mixed"
)

// runner runs lookups inside the pod namespace.
type runner struct {
	pod        string // namespace
	nameserver netip.Addr
	up         *clusterdns.Server
}

func (r *runner) run(ctx context.Context, l lookup) outcome {
	ctx, cancel := context.WithTimeout(ctx, lookupTimeout)
	defer cancel()
	o := outcome{lookup: l}
	before := r.up.Counts()
	start := time.Now()
	switch l.Tool {
	case toolGetent:
		r.getent(ctx, &o)
	case toolDig:
		r.dig(ctx, &o)
	case toolGo:
		r.goQuery(ctx, &o)
	default:
		o.Err = fmt.Errorf("unknown tool %q", l.Tool)
	}
	o.Wall = time.Since(start)
	o.Upstream = delta(before, r.up.Counts())
	o.By = classify(o, r.up)
	return o
}

func (r *runner) getent(ctx context.Context, o *outcome) {
	out, err := netns.Command(ctx, r.pod, "getent", "hosts", o.Query).Output()
	var ee *exec.ExitError
	if errors.As(err, &ee) && ee.ExitCode() == 2 {
		o.Status = "not found"
		return
	}
	if err != nil {
		o.Err = fmt.Errorf("getent: %w", err)
		return
	}
	o.Answers, o.Err = getentRecords(string(out))
	o.Status = "found"
}

func (r *runner) dig(ctx context.Context, o *outcome) {
	out, err := netns.Command(ctx, r.pod, "dig", "+tries=1", "+time=3", o.Query, dns.TypeToString[o.Type]).Output()
	d, perr := lookupout.ParseDig(string(out))
	if perr != nil {
		o.Err = errors.Join(perr, err)
		return
	}
	o.Status, o.Answers, o.RTT = d.Status, digRecords(d), d.QueryTime
}

func (r *runner) goQuery(ctx context.Context, o *outcome) {
	conn, err := netns.Dial(ctx, r.pod, "udp", net.JoinHostPort(r.nameserver.String(), "53"))
	if err != nil {
		o.Err = err
		return
	}
	c := &dns.Conn{Conn: conn}
	defer c.Close()
	deadline, _ := ctx.Deadline()
	c.SetDeadline(deadline)
	m := new(dns.Msg).SetQuestion(dns.Fqdn(o.Query), o.Type)
	start := time.Now()
	if err := c.WriteMsg(m); err != nil {
		o.Err = err
		return
	}
	resp, err := c.ReadMsg()
	o.RTT = time.Since(start)
	if err != nil {
		o.Err = err
		return
	}
	o.Status = dns.RcodeToString[resp.Rcode]
	for _, rr := range resp.Answer {
		o.Answers = append(o.Answers, recordOf(rr))
	}
}

// recordOf turns a miekg/dns record into a record as dig prints it.
func recordOf(rr dns.RR) record {
	h := rr.Header()
	data := strings.TrimPrefix(rr.String(), h.String())
	return record{Name: h.Name, TTL: h.Ttl, Type: dns.TypeToString[h.Rrtype], Data: strings.TrimSpace(data)}
}

// delta returns the counts in after that grew since before.
func delta(before, after map[clusterdns.Key]uint64) map[clusterdns.Key]uint64 {
	d := map[clusterdns.Key]uint64{}
	for k, v := range after {
		if v > before[k] {
			d[k] = v - before[k]
		}
	}
	return d
}

// classify decides who answered a lookup: the upstream if every answer is
// one its zone holds for the name; meshdns if the name never reached the
// upstream and the answer (if any) is not the upstream's.
func classify(o outcome, up *clusterdns.Server) string {
	if o.Err != nil {
		return byNone
	}
	reached := uint64(0)
	fqdn := strings.ToLower(dns.Fqdn(o.FQDN))
	for k, n := range o.Upstream {
		if k.Name == fqdn {
			reached += n
		}
	}
	types := []uint16{o.Type}
	if o.Tool == toolGetent {
		types = []uint16{dns.TypeA, dns.TypeAAAA}
	}
	theirs := map[string]bool{}
	for _, t := range types {
		_, rrs := up.Lookup(fqdn, t)
		for _, rr := range rrs {
			theirs[answerKey(recordOf(rr))] = true
		}
	}
	if len(o.Answers) == 0 {
		if reached > 0 {
			return byUpstream
		}
		return byMeshdns
	}
	fromUp := 0
	for _, a := range o.Answers {
		if theirs[answerKey(a)] {
			fromUp++
		}
	}
	switch {
	case fromUp == len(o.Answers):
		return byUpstream
	case fromUp > 0:
		return byMixed
	case reached == 0:
		return byMeshdns
	default:
		return byUnclear
	}
}

// answerKey identifies an answer by type and data, addresses in canonical
// form, names in lowercase.
func answerKey(r record) string {
	data := r.Data
	if a, err := netip.ParseAddr(data); err == nil {
		data = a.String()
	} else {
		data = strings.ToLower(data)
	}
	return r.Type + " " + data
}

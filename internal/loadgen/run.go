package loadgen

import (
	"context"
	"fmt"
	"math/rand/v2"
	"net"
	"sync"
	"sync/atomic"
	"time"

	"github.com/miekg/dns"
	"golang.org/x/net/ipv4"
	"golang.org/x/net/ipv6"
)

// maxWrongSamples is how many wrong answers a Result describes.
const maxWrongSamples = 20

// readBufSize is the receive buffer of a lookup: larger than any UDP answer
// the suite expects (EDNS sizes up to 4096).
const readBufSize = 4096

// Run sends c's schedule and returns what became of every query. It returns
// an error only for a bad Config; a cancelled ctx stops the schedule (later
// queries are NotSent) and Run still returns a Result.
func Run(ctx context.Context, c Config) (*Result, error) {
	n, err := c.schedule()
	if err != nil {
		return nil, err
	}
	c = c.withDefaults()
	r := &run{cfg: c, lookups: make([][]compiled, len(c.Lookups))}
	perCycle := 0
	r.first = make([]int, len(c.Lookups)+1)
	for i, l := range c.Lookups {
		r.first[i] = perCycle
		for _, q := range l.Queries {
			cq, err := compile(q, c.EDNSSize)
			if err != nil {
				return nil, fmt.Errorf("loadgen: lookup %d: %w", i, err)
			}
			r.lookups[i] = append(r.lookups[i], cq)
		}
		perCycle += len(l.Queries)
	}
	r.first[len(c.Lookups)] = perCycle
	r.perCycle = perCycle
	total := (n/len(c.Lookups))*perCycle + r.first[n%len(c.Lookups)]
	r.records = make([]Record, total)
	r.interval = time.Duration(float64(time.Second) / c.Rate) // as pace spaces them
	for i := range n {
		at := r.due(i)
		l := i % len(c.Lookups)
		base := r.index(i)
		for j := range r.lookups[l] {
			r.records[base+j] = Record{At: at, Sent: at, Lookup: int32(l), Query: int8(j), Mesh: r.lookups[l][j].mesh, Latency: -1}
		}
	}
	c.Logger.Info("load starting", "server", c.Server, "lookups_per_s", c.Rate, "queries_per_s", c.QueryRate(),
		"duration", c.Duration, "queries", total)
	r.start = time.Now()
	r.pace(ctx, n)
	r.wg.Wait()
	res := &Result{
		Start:        r.start,
		Rate:         c.Rate,
		QueryRate:    c.QueryRate(),
		Duration:     c.Duration,
		Timeout:      c.Timeout,
		Records:      r.records,
		DialErrors:   int(r.dialErrors.Load()),
		Stray:        int(r.stray.Load()),
		Late:         int(r.late.Load()),
		WrongSamples: r.wrongSamples,
		lookups:      r.lookups,
	}
	s := res.Summary()
	c.Logger.Info("load done", "sent", s.Sent, "local", s.Local, "upstream", s.Upstream, "wrong", s.Wrong,
		"lost", s.Lost, "not_sent", s.NotSent, "p99_us", s.Latency.P99)
	return res, nil
}

// run is one Run in progress.
type run struct {
	cfg      Config
	lookups  [][]compiled
	first    []int // index of lookup i's first query within a cycle
	perCycle int
	interval time.Duration // between lookups
	start    time.Time
	records  []Record // written by each lookup's goroutine at its own indices

	wg         sync.WaitGroup
	inFlight   atomic.Int64
	dialErrors atomic.Int64
	stray      atomic.Int64
	late       atomic.Int64

	mu           sync.Mutex
	wrongSamples []string
}

func (r *run) due(i int) time.Duration { return time.Duration(i) * r.interval }

func (r *run) index(i int) int {
	return (i/len(r.lookups))*r.perCycle + r.first[i%len(r.lookups)]
}

// pace starts lookup i at start+due(i), for i in [0, n) (the pacer
// catches up in a burst when it falls behind: open loop); the lookups a
// cancelled ctx leaves unsent are NotSent.
func (r *run) pace(ctx context.Context, n int) {
	bufs := &sync.Pool{New: func() any { b := make([]byte, readBufSize); return &b }}
	fired := 0
	pace(ctx, r.cfg.Rate, n, func(i int, due time.Time) {
		if i == 0 {
			r.start = due // the schedule's start: due(i) counts from it
		}
		fired = i + 1
		if r.inFlight.Load() >= int64(r.cfg.MaxInFlight) {
			r.mark(i, NotSent)
			return
		}
		r.inFlight.Add(1)
		r.wg.Add(1)
		go r.lookup(i, bufs)
	})
	for i := fired; i < n; i++ {
		r.mark(i, NotSent)
	}
}

// mark sets the class of every query of lookup i.
func (r *run) mark(i int, c Class) {
	base := r.index(i)
	for j := range r.lookups[i%len(r.lookups)] {
		r.records[base+j].Class = c
	}
}

// lookup sends lookup i's queries from one new socket and reads their
// answers until all came or its deadline passed.
func (r *run) lookup(i int, bufs *sync.Pool) {
	defer r.wg.Done()
	defer r.inFlight.Add(-1)
	qs := r.lookups[i%len(r.lookups)]
	base := r.index(i)
	conn, err := r.cfg.dialer().DialUDP(r.cfg.Server)
	if err != nil {
		if r.dialErrors.Add(1) == 1 {
			r.cfg.Logger.Warn("dial failed", "err", err)
		}
		r.mark(i, NotSent)
		return
	}
	defer conn.Close()

	ids := make([]uint16, len(qs))
	msgs := make([][]byte, len(qs))
	for j := range qs {
		ids[j] = uint16(rand.Uint32())
		for k := 0; k < j; k++ {
			if ids[k] == ids[j] {
				ids[j]++
				k = -1
			}
		}
		msgs[j] = append([]byte(nil), qs[j].wire...)
		setID(msgs[j], ids[j])
	}
	// Latency counts from just before the send; windows and recoveries go
	// by when it returned.
	before := time.Since(r.start)
	if err := send(conn, msgs, r.cfg.Server.Addr().Is6() && !r.cfg.Server.Addr().Is4In6()); err != nil {
		if r.dialErrors.Add(1) == 1 {
			r.cfg.Logger.Warn("send failed", "err", err)
		}
		r.mark(i, NotSent)
		return
	}
	// Stamped once the send returned: by then the queries have gone
	// through the kernel's output path (into a queue, when captured).
	sent := time.Since(r.start)
	for j := range qs {
		r.records[base+j].Sent = sent
	}
	// The kernel stamps each datagram as it arrives (SO_TIMESTAMPNS), so
	// neither a latency nor a loss depends on when this goroutine gets to
	// run: on a starved machine the answers wait in the socket, and are
	// judged by their arrival when read. readSlack leaves room for that.
	stamped := enableTimestamps(conn) == nil
	conn.SetReadDeadline(r.start.Add(before + r.cfg.Timeout + readSlack))
	bp := bufs.Get().(*[]byte)
	defer bufs.Put(bp)
	buf := *bp
	var oob [128]byte
	left := len(qs)
	for left > 0 {
		nb, arrived, err := readStamped(conn, buf, oob[:], stamped)
		if err != nil {
			if ne, ok := err.(net.Error); ok && ne.Timeout() {
				// Whatever is still in the socket was read too late by
				// us, not necessarily answered too late.
				conn.SetReadDeadline(time.Time{})
				for left > 0 {
					nb, arrived, err := drainOne(conn, buf, oob[:], stamped)
					if err != nil {
						break
					}
					if r.take(qs, ids, base, buf[:nb], arrived.Sub(r.start)-before) {
						left--
					}
				}
				return // the rest stay Lost
			}
			// ECONNREFUSED (an ICMP error) and the like: keep reading
			// until the deadline, as a resolver would.
			continue
		}
		if r.take(qs, ids, base, buf[:nb], arrived.Sub(r.start)-before) {
			left--
		}
	}
}

// readSlack is how long after a query's timeout its socket is still read,
// for answers that arrived in time but were not read yet.
const readSlack = time.Second

// take accounts for one datagram that arrived lat after the lookup's
// queries were sent; it reports whether it answered one of them.
func (r *run) take(qs []compiled, ids []uint16, base int, b []byte, lat time.Duration) bool {
	resp, ok := parseResponse(b)
	if !ok {
		r.stray.Add(1)
		return false
	}
	j := -1
	for k := range qs {
		if ids[k] == resp.id && r.records[base+k].Latency < 0 && r.records[base+k].Class == Lost {
			j = k
			break
		}
	}
	if j < 0 {
		r.stray.Add(1)
		return false
	}
	q := &qs[j]
	rec := &r.records[base+j]
	if lat > r.cfg.Timeout {
		r.late.Add(1)
		rec.Class = Lost // answered, but after the timeout: lost to the client
		rec.Latency = -1
		return true
	}
	rec.Latency = max(lat, 0)
	if resp.name != q.name || resp.qtype != q.qtype {
		rec.Class = Wrong
		r.sample(fmt.Sprintf("%s %s: answer to another question %s %s", q.name, dns.TypeToString[q.qtype], resp.name, dns.TypeToString[resp.qtype]))
		return true
	}
	rec.Class = classify(q, resp.signature)
	if rec.Class == Wrong {
		r.sample(fmt.Sprintf("%s %s: got %s, want local %q or upstream %q", q.name, dns.TypeToString[q.qtype], resp.signature, q.local, q.upstream))
	}
	return true
}

func (r *run) sample(s string) {
	r.mu.Lock()
	if len(r.wrongSamples) < maxWrongSamples {
		r.wrongSamples = append(r.wrongSamples, s)
	}
	r.mu.Unlock()
}

// send writes msgs on conn (connected to an IPv6 server when v6), all in
// one sendmmsg(2) when there are several (as glibc sends A and AAAA).
func send(conn *net.UDPConn, msgs [][]byte, v6 bool) error {
	if len(msgs) == 1 {
		_, err := conn.Write(msgs[0])
		return err
	}
	batch := make([]ipv4.Message, len(msgs))
	for i, m := range msgs {
		batch[i].Buffers = [][]byte{m}
	}
	var sent int
	var err error
	if v6 {
		sent, err = ipv6.NewPacketConn(conn).WriteBatch(batch, 0)
	} else {
		sent, err = ipv4.NewPacketConn(conn).WriteBatch(batch, 0)
	}
	for err == nil && sent < len(msgs) { // a partial batch: send the rest one by one
		_, err = conn.Write(msgs[sent])
		sent++
	}
	return err
}

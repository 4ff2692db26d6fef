package loadgen

import (
	"context"
	"crypto/rand"
	"encoding/binary"
	"errors"
	"net"
	"sync"
	"time"
)

// udpPair is a PairExchanger over one connected UDP socket, as one
// getaddrinfo call uses one socket.
type udpPair struct {
	conn    *net.UDPConn
	timeout time.Duration
	buf     []byte
	queries int
	lost    int
}

// ExchangePair implements PairExchanger.
func (p *udpPair) ExchangePair(name string) (Reply, Reply, error) {
	var ids [2]byte
	_, _ = rand.Read(ids[:])
	id := binary.BigEndian.Uint16(ids[:])
	qa, err := AppendQuery(nil, id, name, 1)
	if err != nil {
		return Reply{}, Reply{}, err
	}
	q6, err := AppendQuery(nil, id+1, name, 28)
	if err != nil {
		return Reply{}, Reply{}, err
	}
	deadline := time.Now().Add(p.timeout)
	_ = p.conn.SetDeadline(deadline)
	p.queries += 2
	if _, err := p.conn.Write(qa); err != nil {
		p.lost += 2
		return Reply{}, Reply{}, err
	}
	if _, err := p.conn.Write(q6); err != nil {
		p.lost += 2
		return Reply{}, Reply{}, err
	}
	var ra, r6 Reply
	var gotA, got6 bool
	for !gotA || !got6 {
		n, err := p.conn.Read(p.buf)
		if err != nil {
			if !gotA {
				p.lost++
			}
			if !got6 {
				p.lost++
			}
			return ra, r6, err
		}
		if r, err := ParseReply(p.buf[:n], qa); err == nil && !gotA {
			ra, gotA = r, true
		} else if r, err := ParseReply(p.buf[:n], q6); err == nil && !got6 {
			r6, got6 = r, true
		}
	}
	return ra, r6, nil
}

// Lookups runs glibc-style lookups of cfg.Names (cycled) at cfg.Rate
// lookups per second for cfg.Duration, each on its own socket in its own
// goroutine, and records every lookup's latency from its scheduled start.
func Lookups(ctx context.Context, cfg Config) (*LookupResult, error) {
	n, err := cfg.events()
	if err != nil {
		return nil, err
	}
	if len(cfg.Names) == 0 {
		return nil, errors.New("loadgen: no names")
	}
	if cfg.Ndots <= 0 {
		cfg.Ndots = 1
	}
	res := &LookupResult{Target: cfg.Rate, Lookups: 0}
	var (
		mu                      sync.Mutex
		lat                     = make([]int64, 0, n)
		svc                     = make([]int64, 0, n)
		found, notFound, failed int
		queries, lost           int
		wg                      sync.WaitGroup
	)
	lags, start := pace(ctx, cfg.Rate, n, func(i int, due time.Time) {
		res.Lookups++
		wg.Add(1)
		name := cfg.Names[i%len(cfg.Names)]
		go func() {
			defer wg.Done()
			began := time.Now()
			p := &udpPair{timeout: cfg.Timeout, buf: make([]byte, 4096)}
			var o Outcome
			conn, err := cfg.dialer().DialUDP(cfg.Server)
			if err == nil {
				p.conn = conn
				o = Resolve(p, name, cfg.Search, cfg.Ndots)
				conn.Close()
			} else {
				o.Err = err
			}
			d := time.Since(due)
			sd := time.Since(began)
			mu.Lock()
			defer mu.Unlock()
			queries += p.queries
			lost += p.lost
			switch {
			case o.Err != nil:
				failed++
			case o.Found:
				found++
				lat, svc = append(lat, int64(d)), append(svc, int64(sd))
			default:
				notFound++
				lat, svc = append(lat, int64(d)), append(svc, int64(sd))
			}
		}()
	})
	elapsed := time.Since(start)
	wg.Wait()
	res.Found, res.NotFound, res.Failed = found, notFound, failed
	res.Queries, res.Lost = queries, lost
	if res.Lookups > 0 {
		res.QueriesPerLookup = float64(queries) / float64(res.Lookups)
	}
	res.Timing, res.Offered = timing(lat, svc, lags, res.Lookups, elapsed, cfg.Duration)
	return res, nil
}

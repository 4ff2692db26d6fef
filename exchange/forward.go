package exchange

import (
	"encoding/binary"
	"errors"
	"net/netip"
)

// Forward sends query to server and calls done with the answer, whose ID
// is the query's, or an error. It never blocks; done is called exactly
// once, from another goroutine unless the query is refused at once
// (ErrMalformed, ErrBusy past Config.MaxInFlight or Config.MaxBytes,
// ErrClosed). query
// is not modified and not kept after done; the answer is valid until done
// returns.
func (c *Client) Forward(query []byte, server netip.AddrPort, done func(resp []byte, err error)) {
	c.stats.queries.Add(1)
	if _, _, ok := parseQuestion(query); !ok || query[2]&0x80 != 0 {
		c.refuse(done, ErrMalformed)
		return
	}
	cost := forwardCost(len(query), c.cfg.UDPSize)
	select {
	case c.fwdSem <- struct{}{}:
	default:
		c.refuse(done, ErrBusy)
		return
	}
	if !c.reserve(cost) {
		<-c.fwdSem
		c.refuse(done, ErrBusy)
		return
	}
	if !c.start() {
		c.unreserve(cost)
		<-c.fwdSem
		c.refuse(done, ErrClosed)
		return
	}
	go func() {
		defer c.wg.Done()
		resp, held, err := c.exchange(query, server)
		if err != nil {
			c.stats.failures.Add(1)
			c.log.Debug("forward failed", "server", server, "err", err)
		}
		done(resp, err)
		c.unreserve(cost + held)
		<-c.fwdSem
	}()
}

// forwardCost is what a forwarded query holds of the byte budget before
// any TCP answer: its copy and a UDP receive buffer.
func forwardCost(queryLen int, udpSize uint16) int { return queryLen + int(udpSize) + 1 }

func (c *Client) refuse(done func([]byte, error), err error) {
	if errors.Is(err, ErrBusy) {
		c.stats.busy.Add(1)
	}
	c.stats.failures.Add(1)
	done(nil, err)
}

// Exchange forwards query to server and waits for the answer (tests and
// tools; the byte budget is not applied).
func (c *Client) Exchange(query []byte, server netip.AddrPort) ([]byte, error) {
	resp, held, err := c.exchange(query, server)
	c.unreserve(held)
	return resp, err
}

// exchange asks server query's question: over UDP first, each attempt
// under a new ID from a new socket; over TCP when the answer is truncated
// (or larger than the UDP size asked for), and at once for zone
// transfers. The answer carries query's ID. held is what the answer holds
// of the byte budget (TCP answers), to be given back once it is used.
func (c *Client) exchange(query []byte, server netip.AddrPort) (resp []byte, held int, err error) {
	q, qEnd, ok := parseQuestion(query)
	if !ok || query[2]&0x80 != 0 {
		return nil, 0, ErrMalformed
	}
	s, err := c.server(server)
	if err != nil {
		return nil, 0, err
	}
	out := append([]byte(nil), query...)
	if q.qtype == 251 || q.qtype == 252 { // IXFR, AXFR: TCP only
		return s.tcpExchange(out, query, q)
	}
	size := capEDNS(out, qEnd, c.cfg.UDPSize)
	buf := make([]byte, int(size)+1)
	for range c.cfg.Attempts {
		id := newID()
		binary.BigEndian.PutUint16(out, id)
		n, err := c.udpAttempt(out, id, q, s.addr, buf)
		switch {
		case errors.Is(err, ErrTimeout):
			c.stats.timeouts.Add(1)
			continue
		case err != nil:
			return nil, 0, err
		case n > int(size) || buf[2]&0x02 != 0: // TC, or more than asked for
			c.stats.truncated.Add(1)
			return s.tcpExchange(out, query, q)
		}
		copy(buf, query[:2])
		return buf[:n], 0, nil
	}
	return nil, 0, ErrTimeout
}

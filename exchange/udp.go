package exchange

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"syscall"
	"time"
)

// udpAttempt sends out (a query with ID id and question q) to addr from a
// fresh socket connected to addr, and waits up to Config.Timeout for its
// answer, read into buf: the kernel picks the source port at random and
// delivers only datagrams from addr; of those, one that does not answer
// the query (another ID or question: a spoof, a late duplicate) is counted
// and skipped, and so is an ICMP error, so neither ends the wait for the
// real answer. It returns the answer's length.
func (c *Client) udpAttempt(out []byte, id uint16, q question, addr netip.AddrPort, buf []byte) (int, error) {
	c.stats.udp.Add(1)
	ctx, cancel := context.WithTimeout(c.ctx, c.cfg.Timeout)
	defer cancel()
	ended := func() error {
		if c.ctx.Err() != nil {
			return ErrClosed
		}
		return ErrTimeout
	}
	conn, err := c.cfg.Dial(ctx, "udp", addr.String())
	if err != nil {
		if ctx.Err() != nil {
			return 0, ended()
		}
		return 0, fmt.Errorf("exchange: %w", err)
	}
	defer conn.Close()
	stop := context.AfterFunc(ctx, func() { conn.SetReadDeadline(time.Unix(1, 0)) })
	defer stop()
	if _, err := conn.Write(out); err != nil {
		return 0, fmt.Errorf("exchange: %w", err)
	}
	for {
		n, err := conn.Read(buf)
		switch {
		case ctx.Err() != nil:
			return 0, ended()
		case errors.Is(err, syscall.ECONNREFUSED):
			continue // an ICMP error report, perhaps forged: wait on
		case err != nil:
			return 0, fmt.Errorf("exchange: %w", err)
		case !answers(buf[:n], id, q):
			c.stats.mismatched.Add(1)
			continue
		}
		return n, nil
	}
}

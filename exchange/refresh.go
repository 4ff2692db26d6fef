package exchange

import (
	"context"
	"errors"
	"net/netip"

	"github.com/meshdns/meshdns/dnsengine/cache"
)

// Learner takes the answers to refresh queries: *dnsengine.Engine.
type Learner interface {
	LearnRefresh(req cache.RefreshRequest, msg []byte) cache.Outcome
}

// Refresh queues req for Run; it never blocks and returns false when the
// queue is full.
func (c *Client) Refresh(req cache.RefreshRequest) bool {
	select {
	case c.queue <- req:
		return true
	default:
		c.stats.refreshDropped.Add(1)
		return false
	}
}

// Run sends the queued refresh queries, each in its own exchange (at most
// Config.MaxRefreshes at once, within the byte budget; others are
// dropped), and hands their answers to l, until ctx is done or the Client
// is closed. It returns nil.
func (c *Client) Run(ctx context.Context, l Learner) error {
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-c.ctx.Done():
			return nil
		case req := <-c.queue:
			c.refresh(req, l)
		}
	}
}

// refreshCost is what a refresh holds of the byte budget: its query (at
// most a 255-byte name, the header and an OPT record) and a receive
// buffer.
func refreshCost(udpSize uint16) int { return 512 + int(udpSize) + 1 }

func (c *Client) refresh(req cache.RefreshRequest, l Learner) {
	cost := refreshCost(c.cfg.UDPSize)
	select {
	case c.refSem <- struct{}{}:
	default:
		c.stats.refreshDropped.Add(1)
		return
	}
	if !c.reserve(cost) {
		<-c.refSem
		c.stats.refreshDropped.Add(1)
		return
	}
	if !c.start() {
		c.unreserve(cost)
		<-c.refSem
		return
	}
	go func() {
		defer c.wg.Done()
		defer func() { c.unreserve(cost); <-c.refSem }()
		id := newID()
		out, err := refreshQuery(&req, id, c.cfg.UDPSize)
		if err != nil {
			c.log.Debug("refresh: query", "name", req.NameString(), "err", err)
			return
		}
		q, _, _ := parseQuestion(out)
		to := netip.AddrPortFrom(req.Server.Unmap(), c.cfg.ServerPort)
		buf := make([]byte, int(c.cfg.UDPSize)+1)
		c.stats.refreshes.Add(1)
		n, err := c.udpAttempt(out, id, q, to, buf)
		if err != nil {
			if errors.Is(err, ErrTimeout) {
				c.stats.timeouts.Add(1)
			}
			c.log.Debug("refresh: no answer", "server", to, "name", req.NameString(), "err", err)
			return
		}
		if o := l.LearnRefresh(req, buf[:n]); o == cache.Learned {
			c.stats.learned.Add(1)
		} else {
			c.stats.rejected.Add(1)
			c.log.Debug("refresh: answer not learned", "server", to, "name", req.NameString(), "outcome", o.String())
		}
	}()
}

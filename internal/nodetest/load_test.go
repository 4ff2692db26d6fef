package nodetest

import (
	"context"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/miekg/dns"

	"github.com/meshdns/meshdns/internal/netns"
)

// queryLoad keeps workers UDP clients per pod asking name of the cluster
// DNS back to back, each query given timeout to be answered (no retry), so
// a query dropped anywhere counts as lost. stop ends it and returns the
// counts.
type queryLoad struct {
	answered, lost, local atomic.Int64
	cancel                context.CancelFunc
	wg                    sync.WaitGroup
}

func startQueryLoad(t *testing.T, pods []*Pod, name string, workers int, timeout time.Duration) *queryLoad {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	l := &queryLoad{cancel: cancel}
	for _, p := range pods {
		for range workers {
			c, err := netns.Dial(ctx, p.NS, "udp4", ClusterDNS.String()+":53")
			if err != nil {
				cancel()
				t.Fatal(err)
			}
			l.wg.Add(1)
			go func() {
				defer l.wg.Done()
				defer c.Close()
				buf := make([]byte, 1500)
				m := new(dns.Msg)
				m.SetQuestion(name, dns.TypeA)
				for id := uint16(1); ctx.Err() == nil; id++ {
					m.Id = id
					q, _ := m.Pack()
					if _, err := c.Write(q); err != nil {
						l.lost.Add(1)
						continue
					}
					_ = c.SetReadDeadline(time.Now().Add(timeout))
					for {
						n, err := c.Read(buf)
						if err != nil {
							l.lost.Add(1)
							break
						}
						var r dns.Msg
						if r.Unpack(buf[:n]) != nil || r.Id != id {
							continue // a late answer to an earlier query
						}
						l.answered.Add(1)
						if r.Authoritative {
							l.local.Add(1)
						}
						break
					}
				}
			}()
		}
	}
	return l
}

func (l *queryLoad) stop() (answered, lost, local int64) {
	l.cancel()
	l.wg.Wait()
	return l.answered.Load(), l.lost.Load(), l.local.Load()
}

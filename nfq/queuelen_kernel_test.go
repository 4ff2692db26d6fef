package nfq

import (
	"context"
	"sync/atomic"
	"testing"
	"time"

	"github.com/meshdns/meshdns/internal/netns/netnstest"
)

// TestKernelQueueLenZero: after Source.SetQueueLen(0) the kernel queues
// nothing more (new packets pass at once, with the consumer still bound
// and stalled), while the packets queued before it are still delivered:
// none lost.
func TestKernelQueueLenZero(t *testing.T) {
	netnstest.RequireRoot(t)
	for _, open := range readers {
		t.Run(open.name, func(t *testing.T) {
			pod, up := newTopology(t)
			const port, queue, before, after = 9998, 78, 5, 10
			queueUDP(t, pod, port, queue)
			got := udpSink(t, up, port)
			cfg, err := Config{NetNS: netnsFD(t, pod), MaxQueueLen: 100}.withDefaults()
			if err != nil {
				t.Fatal(err)
			}
			src, err := open.fn(queue, cfg)
			if err != nil {
				t.Fatal(err)
			}
			stall := make(chan struct{})
			var delivered atomic.Int64
			ctx, cancel := context.WithCancel(context.Background())
			deliver := func(batch []Packet) {
				for _, p := range batch {
					if delivered.Add(1) == 1 {
						<-stall // the consumer is busy: the rest wait in the kernel
					}
					if err := src.Verdict(p.ID, Accept, nil); err != nil {
						t.Error(err)
					}
				}
			}
			if err := src.Start(ctx, deliver, func(error) {}); err != nil {
				t.Fatal(err)
			}
			defer func() { cancel(); src.Close() }()
			sendUDP(t, pod, port, before)
			time.Sleep(200 * time.Millisecond)
			if n := got.Load(); n != 0 {
				t.Fatalf("%d passed with the queue bound and stalled, want 0", n)
			}
			if err := src.SetQueueLen(0); err != nil {
				t.Fatal(err)
			}
			sendUDP(t, pod, port, after)
			time.Sleep(200 * time.Millisecond)
			if n := got.Load(); n != after {
				t.Fatalf("after SetQueueLen(0), %d of %d new packets passed with the consumer stalled", n, after)
			}
			close(stall)
			deadline := time.Now().Add(5 * time.Second)
			for got.Load() < before+after && time.Now().Before(deadline) {
				time.Sleep(10 * time.Millisecond)
			}
			if n, d := got.Load(), delivered.Load(); n != before+after || d != before {
				t.Fatalf("%d arrived of %d sent, %d delivered to the consumer (want %d): packets queued before SetQueueLen(0) lost", n, before+after, d, before)
			}
		})
	}
}

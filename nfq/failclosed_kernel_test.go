package nfq

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/meshdns/meshdns/internal/netns/netnstest"
)

// TestKernelFailClosed: a queue whose consumer has stopped reading (its
// deliver call blocks) holds MaxQueueLen packets; the kernel passes the
// rest on when the queue fails open, as the DNS queues do, and drops them
// when it fails closed (Config.FailClosed), as the reset queue does. Both
// readers, 4 packets held, 20 sent.
func TestKernelFailClosed(t *testing.T) {
	netnstest.RequireRoot(t)
	for _, open := range readers {
		for _, closed := range []bool{false, true} {
			t.Run(fmt.Sprintf("%s/fail-closed=%v", open.name, closed), func(t *testing.T) {
				pod, up := newTopology(t)
				const port, queue, held, sent = 9999, 77, 4, 20
				queueUDP(t, pod, port, queue)
				got := udpSink(t, up, port)

				cfg, err := Config{NetNS: netnsFD(t, pod), MaxQueueLen: held, FailClosed: closed}.withDefaults()
				if err != nil {
					t.Fatal(err)
				}
				src, err := open.fn(queue, cfg)
				if err != nil {
					t.Fatal(err)
				}
				stall := make(chan struct{})
				ctx, cancel := context.WithCancel(context.Background())
				if err := src.Start(ctx, func([]Packet) { <-stall }, func(error) {}); err != nil {
					t.Fatal(err)
				}
				defer func() { cancel(); close(stall); src.Close() }()

				sendUDP(t, pod, port, sent)
				time.Sleep(300 * time.Millisecond) // what passes arrives in microseconds
				switch n := got.Load(); {
				case closed && n != 0:
					t.Errorf("fail-closed queue of %d, %d sent: %d passed, want 0", held, sent, n)
				case !closed && n != sent-held:
					t.Errorf("fail-open queue of %d, %d sent: %d passed, want %d", held, sent, n, sent-held)
				}
			})
		}
	}
}

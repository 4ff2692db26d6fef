package nfq

import (
	"context"
	"errors"
	"testing"

	"github.com/meshdns/meshdns/internal/netns/netnstest"
	"golang.org/x/sys/unix"
)

// TestKernelBindTaken: a queue bound by one socket is not bound by another:
// the kernel's refusal (EPERM) reaches the second reader, from the bind's
// acknowledgement (the batch reader binds in Open, go-nfqueue in Start).
// Each reader against the other and itself.
func TestKernelBindTaken(t *testing.T) {
	netnstest.RequireRoot(t)
	const queue = 51
	for _, first := range readers {
		for _, second := range readers {
			t.Run(first.name+"/"+second.name, func(t *testing.T) {
				cfg, err := Config{NetNS: netnsFD(t, newNetns(t, "bind"))}.withDefaults()
				if err != nil {
					t.Fatal(err)
				}
				ctx, cancel := context.WithCancel(context.Background())
				defer cancel()
				bind := func(open OpenFunc) (Source, error) {
					src, err := open(queue, cfg)
					if err != nil {
						return nil, err
					}
					if err := src.Start(ctx, func([]Packet) {}, func(error) {}); err != nil {
						src.Close()
						return nil, err
					}
					return src, nil
				}
				src, err := bind(first.fn)
				if err != nil {
					t.Fatal(err)
				}
				defer func() { cancel(); src.Close() }()
				if other, err := bind(second.fn); !errors.Is(err, unix.EPERM) {
					if other != nil {
						other.Close()
					}
					t.Fatalf("second bind of queue %d: err %v, want EPERM", queue, err)
				}
			})
		}
	}
}

package podevent

import (
	"context"
	"errors"
	"fmt"
	"net"
	"path/filepath"
	"strings"
	"sync"
	"testing"
)

func TestSendServe(t *testing.T) {
	sock := filepath.Join(t.TempDir(), "agent.sock")
	var mu sync.Mutex
	var got []Event
	s, err := Listen(sock, func(_ context.Context, e Event) error {
		if e.Name == "refused" {
			return errors.New("no such pod")
		}
		if e.Name == "unlabelled" {
			return fmt.Errorf("pod %s: %w", e.Name, ErrNotCaptured)
		}
		mu.Lock()
		got = append(got, e)
		mu.Unlock()
		return nil
	}, nil)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- s.Serve(ctx) }()

	add := Event{Op: OpAdd, Namespace: "shop", Name: "web-1", UID: "u1", ContainerID: "c1", NetNS: "/run/netns/x"}
	if err := Send(ctx, sock, add); err != nil {
		t.Fatal(err)
	}
	if err := Send(ctx, sock, Event{Op: OpDel, ContainerID: "c1"}); err != nil {
		t.Fatal(err)
	}
	err = Send(ctx, sock, Event{Op: OpAdd, Namespace: "shop", Name: "refused", ContainerID: "c2", NetNS: "/x"})
	if err == nil || !strings.Contains(err.Error(), "no such pod") {
		t.Fatalf("refused event: %v", err)
	}
	// A pod the agent leaves alone: a reply the plugin tells from an error.
	err = Send(ctx, sock, Event{Op: OpAdd, Namespace: "shop", Name: "unlabelled", ContainerID: "c3", NetNS: "/x"})
	if !errors.Is(err, ErrNotCaptured) {
		t.Fatalf("unlabelled pod: %v, want ErrNotCaptured", err)
	}
	for _, bad := range []Event{{Op: "boot", ContainerID: "c"}, {Op: OpAdd, ContainerID: "c"}, {Op: OpDel}} {
		if err := Send(ctx, sock, bad); err == nil {
			t.Errorf("%+v accepted", bad)
		}
	}
	// A peer sending garbage without a newline gets an error reply, not a hang.
	c, err := net.Dial("unix", sock)
	if err != nil {
		t.Fatal(err)
	}
	c.Write([]byte(strings.Repeat("x", MaxLine+10)))
	buf := make([]byte, 256)
	n, _ := c.Read(buf)
	c.Close()
	if !strings.Contains(string(buf[:n]), `"ok":false`) {
		t.Errorf("oversized line: reply %q", buf[:n])
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(got) != 2 || got[0] != add || got[1].Op != OpDel {
		t.Fatalf("events = %+v", got)
	}
	if err := Send(context.Background(), sock, add); err == nil {
		t.Fatal("send to a stopped agent succeeded")
	}
}

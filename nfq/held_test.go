package nfq

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"testing/synctest"
	"time"
)

// holdHandler holds packets starting with 'h', keeping their handles
// under the token in their second byte; with 'e' it releases the packet
// itself before returning (an answer quicker than the Handler's return).
// Others are accepted.
type holdHandler struct {
	mu    sync.Mutex
	held  map[byte]*HeldPacket
	holds int
}

func (h *holdHandler) Handle(pkt []byte) (Verdict, []byte) { return Accept, nil }

func (h *holdHandler) HandleHold(pkt []byte, p *Holdable) (Verdict, []byte) {
	if len(pkt) < 2 || (pkt[0] != 'h' && pkt[0] != 'e') {
		return Accept, nil
	}
	hp := p.Hold()
	h.mu.Lock()
	h.holds++
	if h.held == nil {
		h.held = map[byte]*HeldPacket{}
	}
	h.held[pkt[1]] = hp
	h.mu.Unlock()
	if pkt[0] == 'e' {
		hp.Release(AcceptModified, []byte("early"))
	}
	return Hold, nil
}

// release releases the packet held under tok.
func (h *holdHandler) release(tok byte, v Verdict, out []byte) {
	h.mu.Lock()
	hp := h.held[tok]
	h.mu.Unlock()
	hp.Release(v, out)
}

func startHeld(t *testing.T, cfg Config) (*Consumer, *FakeSource, *holdHandler, context.CancelFunc) {
	fs := &FakeSources{}
	src := fs.Queue(0)
	h := &holdHandler{}
	cfg.Open = fs.Open
	c, err := New(cfg, h)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(t.Context())
	if err := c.Start(ctx); err != nil {
		t.Fatal(err)
	}
	return c, src, h, cancel
}

// TestHeldVerdicts: held packets get no verdict until released, then the
// released one; a release before the handler returns works; the rest of the queue
// goes on meanwhile.
func TestHeldVerdicts(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		c, src, h, cancel := startHeld(t, Config{})
		idH1 := src.Feed([]byte("h\x01"))
		idH2 := src.Feed([]byte("h\x02"))
		idA := src.Feed([]byte("accept"))
		idE := src.Feed([]byte("e\x03"))
		synctest.Wait()
		want := fmt.Sprint([]FakeVerdict{{idA, Accept, nil}, {idE, AcceptModified, []byte("early")}})
		if got := fmt.Sprint(src.Verdicts()); got != want {
			t.Fatalf("before release: %s, want %s", got, want)
		}
		if hc := c.Held(); hc.Waiting != 2 || hc.Held != 3 || hc.Released != 1 {
			t.Fatalf("held counts %+v", hc)
		}
		h.release(2, Drop, nil)
		go h.release(1, AcceptModified, []byte("answer")) // from another goroutine
		synctest.Wait()
		got := src.Verdicts()
		if len(got) != 4 || fmt.Sprint(got[2:]) != fmt.Sprint([]FakeVerdict{{idH2, Drop, nil}, {idH1, AcceptModified, []byte("answer")}}) {
			t.Fatalf("after release: %v", got)
		}
		cs := c.Counters()
		if cs.Packets.Load() != 4 || cs.Modified.Load() != 2 || cs.Dropped.Load() != 1 || cs.Accepted.Load() != 1 {
			t.Errorf("counters: packets %d modified %d dropped %d accepted %d", cs.Packets.Load(), cs.Modified.Load(),
				cs.Dropped.Load(), cs.Accepted.Load())
		}
		// A bad late packet is accepted unmodified, as a bad immediate one.
		id := src.Feed([]byte("h\x04"))
		synctest.Wait()
		h.release(4, AcceptModified, nil)
		if v := src.Verdicts(); v[len(v)-1].ID != id || v[len(v)-1].Verdict != Accept {
			t.Errorf("empty late packet: %v", v[len(v)-1])
		}
		if h.holds != 4 {
			t.Errorf("%d holds", h.holds)
		}
		cancel()
		if err := c.Wait(); err != nil {
			t.Fatal(err)
		}
	})
}

// TestHeldDrain: at stop the consumer waits for held packets (up to
// DrainMax) before closing the queue; releases after that are lost.
func TestHeldDrain(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		c, src, h, cancel := startHeld(t, Config{DrainMax: 2 * time.Second})
		id := src.Feed([]byte("h\x01"))
		src.Feed([]byte("h\x02"))
		synctest.Wait()
		cancel()
		time.Sleep(500 * time.Millisecond)
		if src.Closed() {
			t.Fatal("queue closed with packets held")
		}
		h.release(1, Drop, nil)
		if err := c.Wait(); err != nil { // packet 2 is never released: DrainMax
			t.Fatal(err)
		}
		if v := src.Verdicts(); len(v) != 1 || v[0].ID != id {
			t.Fatalf("verdicts %v", v)
		}
		h.release(2, Drop, nil)
		if hc := c.Held(); hc.Lost != 1 || len(src.Verdicts()) != 1 {
			t.Fatalf("release after stop: %+v, %d verdicts", hc, len(src.Verdicts()))
		}
	})
}

// TestHeldPlainHandler: a plain Handler returning Hold gets Accept.
func TestHeldPlainHandler(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		fs := &FakeSources{}
		src := fs.Queue(0)
		c, err := New(Config{Open: fs.Open}, HandlerFunc(func([]byte) (Verdict, []byte) { return Hold, nil }))
		if err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithCancel(t.Context())
		if err := c.Start(ctx); err != nil {
			t.Fatal(err)
		}
		src.Feed([]byte("x"))
		synctest.Wait()
		if v := src.Verdicts(); len(v) != 1 || v[0].Verdict != Accept {
			t.Fatalf("verdicts %v", v)
		}
		cancel()
		c.Wait()
	})
}

// TestHeldOnce: a held packet gets exactly one verdict, its release's,
// whatever the handler does after holding it (returns another verdict,
// panics) and however often the handle is released.
func TestHeldOnce(t *testing.T) {
	for _, c := range []struct {
		name  string
		after func() (Verdict, []byte) // the handler's return after Hold
	}{
		{"hold", func() (Verdict, []byte) { return Hold, nil }},
		{"accept", func() (Verdict, []byte) { return Accept, nil }},
		{"modified", func() (Verdict, []byte) { return AcceptModified, []byte("batch") }},
		{"panic", func() (Verdict, []byte) { panic("after hold") }},
	} {
		t.Run(c.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				var hp *HeldPacket
				fs := &FakeSources{}
				src := fs.Queue(0)
				cons, err := New(Config{Open: fs.Open}, holdFunc(func(_ []byte, p *Holdable) (Verdict, []byte) {
					hp = p.Hold()
					return c.after()
				}))
				if err != nil {
					t.Fatal(err)
				}
				ctx, cancel := context.WithCancel(t.Context())
				if err := cons.Start(ctx); err != nil {
					t.Fatal(err)
				}
				id := src.Feed([]byte("x"))
				synctest.Wait()
				if v := src.Verdicts(); len(v) != 0 {
					t.Fatalf("verdicts before the release: %v", v)
				}
				hp.Release(Drop, nil)
				hp.Release(Accept, nil)
				want := fmt.Sprint([]FakeVerdict{{id, Drop, nil}})
				if got := fmt.Sprint(src.Verdicts()); got != want {
					t.Fatalf("verdicts %s, want %s", got, want)
				}
				if hc := cons.Held(); hc != (HeldCounts{Held: 1, Released: 1}) {
					t.Fatalf("held counts %+v", hc)
				}
				cancel()
				cons.Wait()
			})
		})
	}
}

// holdFunc is a HoldHandler of a function.
type holdFunc func(pkt []byte, p *Holdable) (Verdict, []byte)

func (f holdFunc) Handle(pkt []byte) (Verdict, []byte) { return Accept, nil }

func (f holdFunc) HandleHold(pkt []byte, p *Holdable) (Verdict, []byte) { return f(pkt, p) }

// nopSource is a Source that takes verdicts and keeps nothing.
type nopSource struct{}

func (nopSource) Start(context.Context, func([]Packet), func(error)) error { return nil }
func (nopSource) Verdict(uint32, Verdict, []byte) error                    { return nil }
func (nopSource) LateVerdict(uint32, Verdict, []byte) error                { return nil }
func (nopSource) SetQueueLen(uint32) error                                 { return nil }
func (nopSource) Close() error                                             { return nil }

// TestHeldAllocs: a HoldHandler's packet that is not held allocates
// nothing on the consumer's side (the *Holdable is the queue's); one that
// is held and released allocates its handle, one object. Budgets: 0 and 1.
func TestHeldAllocs(t *testing.T) {
	var hp *HeldPacket
	hold := false
	c, err := New(Config{}, holdFunc(func(pkt []byte, p *Holdable) (Verdict, []byte) {
		if hold {
			hp = p.Hold()
			return Hold, nil
		}
		return AcceptModified, pkt
	}))
	if err != nil {
		t.Fatal(err)
	}
	w := &worker{c: c, src: nopSource{}, buf: make([]byte, 0, MaxPacket)}
	pkt := Packet{ID: 1, Payload: []byte("packet")}
	for _, c := range []struct {
		hold   bool
		budget float64
	}{{false, 0}, {true, 1}} {
		hold = c.hold
		allocs := testing.AllocsPerRun(1000, func() {
			w.serve(&pkt)
			if hold {
				hp.Release(Drop, nil)
			}
		})
		if allocs != c.budget {
			t.Errorf("held %v: %v allocations per packet, budget %v", c.hold, allocs, c.budget)
		}
	}
}

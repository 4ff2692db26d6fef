package model

import "context"

// Fake is a Source for tests: each Objects sent with Push is handed to the
// update function of a running Run, in order.
type Fake struct {
	ch chan *Objects
}

// NewFake returns a Fake whose Push blocks once buffer updates are waiting.
func NewFake(buffer int) *Fake { return &Fake{ch: make(chan *Objects, buffer)} }

// Push queues objs for Run. It blocks while the buffer is full and no Run
// takes them, or until ctx is done.
func (f *Fake) Push(ctx context.Context, objs *Objects) error {
	select {
	case f.ch <- objs:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// Run implements Source.
func (f *Fake) Run(ctx context.Context, update func(*Objects)) error {
	for {
		select {
		case <-ctx.Done():
			return nil
		case o := <-f.ch:
			update(o)
		}
	}
}

var _ Source = (*Fake)(nil)

package nfq

import (
	"context"
	"errors"
	"slices"
	"testing"
	"testing/synctest"
)

// TestFakeSourceBatches: the packets fed before a delivery come in one
// batch, up to fakeBatch; a receive error ends the batch before it and is
// reported once that batch is delivered.
func TestFakeSourceBatches(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		f := NewFakeSource()
		for range fakeBatch + 2 {
			f.Feed([]byte("x"))
		}
		boom := errors.New("boom")
		f.Fail(boom)
		var sizes []int
		var failed error
		ctx, cancel := context.WithCancel(t.Context())
		defer cancel()
		if err := f.Start(ctx, func(b []Packet) { sizes = append(sizes, len(b)) }, func(err error) { failed = err }); err != nil {
			t.Fatal(err)
		}
		synctest.Wait()
		if want := []int{fakeBatch, 2}; !slices.Equal(sizes, want) || failed != boom {
			t.Errorf("batches of %v and error %v; want %v and %v", sizes, failed, want, boom)
		}
		cancel()
		f.Close()
	})
}

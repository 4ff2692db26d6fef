package model

import (
	"context"
	"testing"
)

func TestFake(t *testing.T) {
	f := NewFake(2)
	a, b := &Objects{}, &Objects{ServiceEntries: []*ServiceEntry{{Name: "x"}}}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	if err := f.Push(ctx, a); err != nil {
		t.Fatal(err)
	}
	if err := f.Push(ctx, b); err != nil {
		t.Fatal(err)
	}
	var got []*Objects
	done := make(chan error)
	go func() {
		done <- f.Run(ctx, func(o *Objects) {
			got = append(got, o)
			if len(got) == 2 {
				cancel()
			}
		})
	}()
	if err := <-done; err != nil {
		t.Fatalf("Run: %v", err)
	}
	if len(got) != 2 || got[0] != a || got[1] != b {
		t.Fatalf("updates %v, want [a b] in order", got)
	}
	if got[1].Len() != 1 || (*Objects)(nil).Len() != 0 {
		t.Error("Len")
	}
	// A full buffer with nobody running: Push gives up with the context.
	full := NewFake(0)
	if err := full.Push(ctx, a); err == nil {
		t.Error("Push on a cancelled context succeeded")
	}
}

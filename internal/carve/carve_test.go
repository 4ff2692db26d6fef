package carve

import (
	"testing"
	"unsafe"
)

func TestTake(t *testing.T) {
	var chunk []uint32
	a := Take(&chunk, 3)
	b := Take(&chunk, 2)
	if len(a) != 3 || cap(a) != 3 || len(b) != 2 || cap(b) != 2 {
		t.Fatalf("lengths and capacities: a %d/%d, b %d/%d", len(a), cap(a), len(b), cap(b))
	}
	if next(a) != unsafe.Pointer(&b[0]) {
		t.Error("b does not follow a in one chunk")
	}
	a = append(a, 7) // beyond its capacity: a new array, b untouched
	if b[0] != 0 {
		t.Errorf("an append to a reached b: %d", b[0])
	}
	if got, want := len(chunk), ChunkBytes/4-5; got != want {
		t.Errorf("left in the chunk: %d, want %d", got, want)
	}
}

func TestTakeNewChunk(t *testing.T) {
	var chunk []uint64
	per := ChunkBytes / 8
	first := Take(&chunk, per-1)
	next := Take(&chunk, 2) // does not fit: a new chunk
	if &first[0] == &next[0] || len(chunk) != per-2 {
		t.Errorf("a new chunk was not taken: %d left", len(chunk))
	}
	big := Take(&chunk, 3*per) // larger than a chunk: a chunk of its own size
	if len(big) != 3*per || len(chunk) != 0 {
		t.Errorf("a request over a chunk: %d elements, %d left", len(big), len(chunk))
	}
	for _, x := range big {
		if x != 0 {
			t.Fatal("not zeroed")
		}
	}
}

func TestCopy(t *testing.T) {
	src := []byte("abc")
	own := Copy(nil, src)
	if string(own) != "abc" || unsafe.SliceData(own) == unsafe.SliceData(src) {
		t.Errorf("own copy %q cap %d", own, cap(own))
	}
	if Copy[byte](nil, nil) != nil {
		t.Error("a copy of nothing is not nil")
	}
	var chunk []byte
	c := Copy(&chunk, src)
	d := Copy(&chunk, []byte("de"))
	if string(c) != "abc" || string(d) != "de" || cap(c) != 3 || next(c) != unsafe.Pointer(&d[0]) {
		t.Errorf("carved copies %q %q", c, d)
	}
}

// next is where the element after the last of s would be.
func next[T any](s []T) unsafe.Pointer {
	var zero T
	return unsafe.Add(unsafe.Pointer(unsafe.SliceData(s)), uintptr(len(s))*unsafe.Sizeof(zero))
}

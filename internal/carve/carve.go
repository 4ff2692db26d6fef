package carve

import "unsafe"

// ChunkBytes is the size of a chunk, about: large enough that each is an
// allocation with a span of its own (over 32 KB) and small enough that
// the last, partly used, wastes little.
const ChunkBytes = 64 << 10

// Take returns n zeroed elements of *chunk, with capacity n (an append to
// them cannot reach the next caller's), first replacing *chunk by a new
// chunk of about ChunkBytes (or of n elements, if more) when it has fewer
// than n left.
func Take[T any](chunk *[]T, n int) []T {
	if len(*chunk) < n {
		var zero T
		*chunk = make([]T, max(ChunkBytes/max(int(unsafe.Sizeof(zero)), 1), n))
	}
	s := (*chunk)[:n:n]
	*chunk = (*chunk)[n:]
	return s
}

// Copy returns a copy of src carved from *chunk or, with chunk nil, in an
// allocation of its own (nil for an empty src).
func Copy[T any](chunk *[]T, src []T) []T {
	if chunk == nil {
		return append([]T(nil), src...)
	}
	return append(Take(chunk, len(src))[:0], src...)
}

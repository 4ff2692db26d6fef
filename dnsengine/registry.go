package dnsengine

import "sync/atomic"

// Registry hands the engine the current name table. Table returns nil while
// no table has been loaded; the engine then passes every packet through.
// Implementations must be safe for concurrent use and must not block.
type Registry interface {
	Table() *Table
}

// AtomicRegistry is the production Registry: writers Store a new immutable
// snapshot, readers load it without locks.
type AtomicRegistry struct {
	p atomic.Pointer[Table]
}

// Table returns the current snapshot, or nil before the first Store.
func (r *AtomicRegistry) Table() *Table { return r.p.Load() }

// Store publishes t as the current snapshot.
func (r *AtomicRegistry) Store(t *Table) { r.p.Store(t) }

// StaticRegistry is a Registry fixed to one table, for tests and replay.
type StaticRegistry struct{ T *Table }

// Table returns the fixed table.
func (r StaticRegistry) Table() *Table { return r.T }

package dnsengine

import "hash/maphash"

// A table numbers its Services: the reverse index (revIndex) names the
// groups holding a reverse name by these ids, which a Service keeps while
// it is in the table, whatever versions of its group replace each other.
// An id finds its group in two loads, without hashing the Service's name;
// the ids of removed Services are handed out again (Table.free).

// idLeaves is the number of ids a leaf of groupIDs holds: an update
// replacing a group copies the leaf of its id (1 KB) and the slice of
// leaves (a pointer for each idLeaves Services).
const idLeaves = 128

// groupIDs holds the group of each Service id, in leaves copied on write.
type groupIDs []*[idLeaves]*Group

// get returns the group of id.
func (x groupIDs) get(id uint32) *Group { return x[id/idLeaves][id%idLeaves] }

// revHash returns the hash of the reverse name w that places it in the
// reverse index.
func (t *Table) revHash(w []byte) uint64 { return maphash.Bytes(t.seed, w) &^ t.hashClear }

// groupHash returns the hash of the wire name of a Service, key, that
// places its group in the group index.
func (t *Table) groupHash(key []byte) uint64 { return maphash.Bytes(t.seed, key) &^ t.hashClear }

// Package carve hands out many small arrays from a few large chunks, for
// data that is built at once and kept long: the groups of a name table's
// first build (dnsengine) and the objects the model keeps packed
// (sync/model).
//
// Allocated one by one, such arrays fall between the garbage their
// building leaves, and once that is collected the holes keep whole spans
// of the heap in use, partly free, for as long as the arrays live. A chunk
// is one large allocation with a span of its own, holding nothing but
// them. A chunk lives while any array carved from it does, so a caller
// carves only what it builds at once (a first build) and allocates later
// replacements on their own: its chunks then never hold more than that
// first build.
package carve

package dnsengine

import (
	"slices"

	"github.com/meshdns/meshdns/internal/carve"
)

// The groups of a table's first build, built one after another, are
// carved from shared chunks (internal/carve) instead of each array being
// allocated on its own. Building a group leaves garbage (the builder's
// maps, the model's scratch) between the arrays it keeps, and the holes it
// leaves once collected kept 8-14 MB of spans in use at 100,000 endpoints,
// about a fifth of the heap (bench/results/nametable/source-rss.txt). Only
// a first build carves (TableBuilder.CarveGroups): a group rebuilt later
// is allocated on its own, so the chunks never hold more than the first
// build's groups, however many of them changes replace.

// carver holds the chunks the groups (and, for TableUpdate.Carve, the
// index shards) are carved from.
type carver struct {
	nodes   []node
	recs    []record
	bytes   []byte
	words   []uint32
	groups  []Group
	entries []groupEntry
	rows    []epRow
}

// CarveGroups makes the groups b builds from now on share chunks of
// memory (on), or be allocated each on its own (off, the default): on for
// a table's first build, off after it.
func (b *TableBuilder) CarveGroups(on bool) {
	switch {
	case !on:
		b.carve = nil
	case b.carve == nil:
		b.carve = &carver{}
	}
}

// The arrays of a finished segment: copies of the builder's, carved when
// b carves, else each in an allocation of its own.
func (b *TableBuilder) ownNodes(src []node) []node {
	if b.carve == nil {
		return carve.Copy(nil, src)
	}
	return carve.Copy(&b.carve.nodes, src)
}

func (b *TableBuilder) ownRecs(src []record) []record {
	if b.carve == nil {
		return carve.Copy(nil, src)
	}
	return carve.Copy(&b.carve.recs, src)
}

func (b *TableBuilder) ownRows(src []epRow) []epRow {
	if b.carve == nil {
		return carve.Copy(nil, src)
	}
	return carve.Copy(&b.carve.rows, src)
}

func (b *TableBuilder) ownBytes(src []byte) []byte {
	if b.carve == nil {
		return carve.Copy(nil, src)
	}
	return carve.Copy(&b.carve.bytes, src)
}

func (b *TableBuilder) ownWords(src []uint32) []uint32 {
	if b.carve == nil {
		return carve.Copy(nil, src)
	}
	return carve.Copy(&b.carve.words, src)
}

// indexWords returns n zeroed index words. An allocation of its own is
// rounded up to its size class, and every word of it is used.
func (b *TableBuilder) indexWords(n int) []uint32 {
	if b.carve == nil {
		w := slices.Grow([]uint32(nil), n)
		return w[:cap(w)]
	}
	return carve.Take(&b.carve.words, n)
}

// newGroup returns a zero group header.
func (b *TableBuilder) newGroup() *Group {
	if b.carve == nil {
		return new(Group)
	}
	return &carve.Take(&b.carve.groups, 1)[0]
}

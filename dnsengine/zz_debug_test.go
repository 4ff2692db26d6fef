package dnsengine

import (
	"fmt"
	"testing"
)

var DebugSizes = debugSizes

func debugSizes(t *Table) string {
	return fmt.Sprintf("nodes %d/%d recs %d/%d arena %d/%d index %d srcs %d lists %d glue %d wild %d",
		len(t.nodes), cap(t.nodes), len(t.recs), cap(t.recs), len(t.arena), cap(t.arena), len(t.index), len(t.srcs), len(t.srcLists), len(t.glueOrder), len(t.wild))
}

var _ = testing.Short

package dnsengine

import (
	"github.com/meshdns/meshdns/dnsengine/verdict"
	"github.com/meshdns/meshdns/dnsengine/wire"
)

// Hooks for the external differential tests (differential_test.go): the
// reference table of reference_test.go and the message-level answer both
// tables give.

// TableRows returns the endpoints of t's groups held as rows
// (table_rows.go): the tests check that the grouped tables they compare
// have some.
func TableRows(t *Table) int {
	n := 0
	t.segments(func(s *segment) { n += len(s.rows) })
	return n
}

// TableRowNames returns the dashed names of the rows of t's groups.
func TableRowNames(t *Table) []string {
	var out []string
	t.segments(func(s *segment) {
		for i := range s.rows {
			var buf [wire.MaxNameLen]byte
			out = append(out, wire.DecodeName(s.rowName(&buf, s.rowNode(i))))
		}
	})
	return out
}

// RefBuilder builds the reference table.
type RefBuilder = refBuilder

// RefTable is the reference table.
type RefTable = refTable

// NewRefBuilder returns a reference builder.
func NewRefBuilder(cfg TableConfig) (*RefBuilder, error) { return newRefBuilder(cfg) }

// AnswerMessage answers the DNS query msg from t (a *Table or a *RefTable)
// as Process does for a UDP query, the response written over a copy of msg
// in a buffer of room bytes. It returns nil when the query is passed through.
func (e *Engine) AnswerMessage(t any, msg []byte, room int) ([]byte, verdict.Reason) {
	var q wire.Query
	if r := wire.ParseQuery(msg, &q); r != 0 {
		return nil, r
	}
	limit := q.Limit(e.cfg.EDNSSize)
	buf := make([]byte, room)
	copy(buf, msg)
	limit = min(limit, room)
	var n int
	var r verdict.Reason
	switch tab := t.(type) {
	case *Table:
		n, r, _ = e.respond(tab, buf, &q, limit)
	case *refTable:
		n, r, _ = e.refRespond(tab, buf, &q, limit)
	}
	if n == 0 {
		return nil, r
	}
	return buf[:n], r
}

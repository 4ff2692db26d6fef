package main

import (
	"context"
	"log/slog"
	"sync"
	"sync/atomic"

	"github.com/meshdns/meshdns/dnsengine"
	"github.com/meshdns/meshdns/nfq/rules"
)

// queryFilter keeps the rules' query filter (rules.QueryFilter) in step
// with the name table, for an engine without a cache: only the UDP
// queries that may ask for a name the table holds (Table.Apexes) or a
// single-label name the engine answers are queued; the rest go to the
// nameserver without a round trip through meshdns. A table whose apexes
// change (a ServiceEntry host added or gone) reinstalls the rules, off
// the table's path: the store only hands the table over.
type queryFilter struct {
	rc     rules.Config // the rules, Filter aside
	single bool         // the engine answers single-label names
	log    *slog.Logger
	latest atomic.Pointer[dnsengine.Table]
	kick   chan struct{}

	mu     sync.Mutex
	cur    *rules.QueryFilter // installed; nil: every query
	closed bool               // the rules are being removed: install nothing more
	// off: the rules with a filter could not be installed (a kernel
	// without xt_string or xt_u32): every query is queued from then on.
	off bool
}

func newQueryFilter(rc rules.Config, single bool, log *slog.Logger) *queryFilter {
	return &queryFilter{rc: rc, single: single, log: log, kick: make(chan struct{}, 1)}
}

// of returns the filter for t; nil for no table yet (queue every query:
// the engine passes them on until it has one).
func (q *queryFilter) of(t *dnsengine.Table) *rules.QueryFilter {
	if t == nil {
		return nil
	}
	return rules.NewQueryFilter(t.Apexes(), q.single)
}

// stored takes a table the store has published; it never blocks.
func (q *queryFilter) stored(t *dnsengine.Table) {
	q.latest.Store(t)
	select {
	case q.kick <- struct{}{}:
	default:
	}
}

// install installs rc with the filter of t (the first install; run
// follows the tables after it).
func (q *queryFilter) install(ctx context.Context, t *dnsengine.Table) error {
	q.mu.Lock()
	defer q.mu.Unlock()
	return q.installLocked(ctx, q.of(t))
}

// installLocked installs the rules with f; if that fails with a filter,
// it installs them without one and turns the filter off: a missing match
// module must not leave the pod without its rules, nor meshdns without a
// start. It fails only when no rules could be installed.
func (q *queryFilter) installLocked(ctx context.Context, f *rules.QueryFilter) error {
	rc := q.rc
	rc.Filter = f
	err := rules.Install(ctx, rc)
	if err == nil {
		q.cur = f
		q.log.Info("query filter", "queued", f.String())
		return nil
	}
	if f == nil {
		return err
	}
	rc.Filter = nil
	if err2 := rules.Install(ctx, rc); err2 != nil {
		return err2 // the previous rules stay; the next table tries again
	}
	q.log.Warn("rules with a query filter not installed: every query is queued from now on", "err", err)
	q.cur, q.off = nil, true
	return nil
}

// run reinstalls the rules whenever the latest table's filter differs
// from the installed one, until ctx is done or close is called. An
// install that fails with a filter turns it off (installLocked); one that
// fails otherwise leaves the previous rules, which queue a superset or
// miss the new names only, and is tried again with the next table.
func (q *queryFilter) run(ctx context.Context) {
	for {
		select {
		case <-ctx.Done():
			return
		case <-q.kick:
		}
		f := q.of(q.latest.Load())
		q.mu.Lock()
		if !q.closed && !q.off && !f.Equal(q.cur) {
			if err := q.installLocked(ctx, f); err != nil {
				q.log.Error("query filter not updated", "err", err)
			}
		}
		q.mu.Unlock()
	}
}

// close stops reinstalling: after it the rules may be removed.
func (q *queryFilter) close() {
	q.mu.Lock()
	q.closed = true
	q.mu.Unlock()
}

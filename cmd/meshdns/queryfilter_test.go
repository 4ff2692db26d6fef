package main

import (
	"context"
	"errors"
	"log/slog"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/meshdns/meshdns/dnsengine"
	"github.com/meshdns/meshdns/nfq/rules"
)

// filterTable is a table of cluster.local holding the ServiceEntry hosts
// given.
func filterTable(t *testing.T, hosts ...string) *dnsengine.Table {
	t.Helper()
	b, err := dnsengine.NewTableBuilder(dnsengine.TableConfig{ClusterDomain: "cluster.local"})
	if err != nil {
		t.Fatal(err)
	}
	for _, h := range hosts {
		if err := b.AddAddress(h, netip.MustParseAddr("10.120.0.1"), ""); err != nil {
			t.Fatal(err)
		}
	}
	return b.Build()
}

// TestQueryFilterFollowsTables: the first install queues every query
// until there is a table; each table whose apexes differ reinstalls the
// rules with its filter, one whose apexes are the same does not; after
// close nothing is installed.
func TestQueryFilterFollowsTables(t *testing.T) {
	fake := &rules.FakeRunner{}
	rc := rules.Config{Nameservers: []netip.Addr{netip.MustParseAddr("10.96.0.10")}, Runner: fake, Backend: rules.BackendNFT}
	q := newQueryFilter(rc, true, slog.New(slog.DiscardHandler))
	restores := func() []string {
		var out []string
		for _, c := range fake.Calls() {
			if strings.Contains(c.Name, "restore") {
				out = append(out, c.Stdin)
			}
		}
		return out
	}
	waitRestores := func(n int) []string {
		t.Helper()
		for end := time.Now().Add(5 * time.Second); time.Now().Before(end); time.Sleep(10 * time.Millisecond) {
			if r := restores(); len(r) >= n {
				return r
			}
		}
		t.Fatalf("%d restores, want %d", len(restores()), n)
		return nil
	}

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	if err := q.install(ctx, nil); err != nil {
		t.Fatal(err)
	}
	if r := waitRestores(1); strings.Contains(r[0], "--hex-string") || !strings.Contains(r[0], "--dport 53 -j NFQUEUE") {
		t.Fatalf("first install without a table: want every query queued:\n%s", r[0])
	}
	go q.run(ctx)

	q.stored(filterTable(t, "payments.example.com."))
	r := waitRestores(2)
	for _, want := range []string{`|07636c7573746572056c6f63616c00|`, `|087061796d656e7473076578616d706c6503636f6d00|`, "-m u32"} {
		if !strings.Contains(r[1], want) {
			t.Errorf("install for the table: no %s:\n%s", want, r[1])
		}
	}
	// The same apexes in a new table: nothing to do. Then one more host.
	q.stored(filterTable(t, "payments.example.com."))
	q.stored(filterTable(t, "payments.example.com.", "new.example.io."))
	r = waitRestores(3)
	if !strings.Contains(r[2], `|036e6577076578616d706c6502696f00|`) {
		t.Errorf("install for the new host:\n%s", r[2])
	}
	time.Sleep(100 * time.Millisecond)
	if n := len(restores()); n != 3 {
		t.Errorf("%d restores, want 3: a table with the same apexes reinstalled the rules", n)
	}

	q.close()
	q.stored(filterTable(t, "other.example.com."))
	time.Sleep(100 * time.Millisecond)
	if n := len(restores()); n != 3 {
		t.Errorf("%d restores after close, want 3", n)
	}
}

// noMatchRunner fails iptables-restore when its input holds a string or
// u32 match, as on a kernel without xt_string or xt_u32.
type noMatchRunner struct{ rules.FakeRunner }

func (r *noMatchRunner) Run(ctx context.Context, stdin []byte, name string, args ...string) ([]byte, error) {
	out, err := r.FakeRunner.Run(ctx, stdin, name, args...)
	if strings.Contains(name, "restore") && (strings.Contains(string(stdin), "-m string") || strings.Contains(string(stdin), "-m u32")) {
		return nil, errors.New("iptables-restore: Couldn't load match `string'")
	}
	return out, err
}

// TestQueryFilterUnavailable: when the rules with a filter cannot be
// installed, the rules without one are, meshdns starts, and no table
// tries the filter again.
func TestQueryFilterUnavailable(t *testing.T) {
	r := &noMatchRunner{}
	rc := rules.Config{Nameservers: []netip.Addr{netip.MustParseAddr("10.96.0.10")}, Runner: r, Backend: rules.BackendNFT}
	q := newQueryFilter(rc, false, slog.New(slog.DiscardHandler))
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	if err := q.install(ctx, filterTable(t, "payments.example.com.")); err != nil {
		t.Fatalf("install: %v, want the rules without the filter", err)
	}
	var last string
	n := 0
	for _, c := range r.Calls() {
		if strings.Contains(c.Name, "restore") {
			last, n = c.Stdin, n+1
		}
	}
	if n != 2 || strings.Contains(last, "-m string") || !strings.Contains(last, "--dport 53 -j NFQUEUE") {
		t.Fatalf("%d restores, the last:\n%s\nwant 2, the last queueing every query", n, last)
	}
	go q.run(ctx)
	q.stored(filterTable(t, "new.example.io."))
	time.Sleep(100 * time.Millisecond)
	restores := 0
	for _, c := range r.Calls() {
		if strings.Contains(c.Name, "restore") {
			restores++
		}
	}
	if restores != 2 {
		t.Errorf("%d restores after a new table, want 2: the filter was tried again", restores)
	}
}

package loadgen

import (
	"testing"
	"time"
)

func recs(spec ...any) []Record {
	// spec: pairs of (at ms int, class Class); odd mesh flag by class Local.
	var out []Record
	for i := 0; i < len(spec); i += 2 {
		at := time.Duration(spec[i].(int)) * time.Millisecond
		c := spec[i+1].(Class)
		lat := time.Duration(-1)
		if c.Answered() {
			lat = time.Duration(spec[i].(int)+1) * time.Millisecond
		}
		out = append(out, Record{At: at, Sent: at, Class: c, Latency: lat, Mesh: true})
	}
	return out
}

func TestConverge(t *testing.T) {
	start := time.Unix(1000, 0)
	for _, tc := range []struct {
		name   string
		recs   []Record
		from   int // ms
		want   time.Duration
		wantOK bool
	}{
		{"all good", recs(0, Local, 100, Local, 200, Local), 0, 0, true},
		{"recovers", recs(0, Local, 100, Upstream, 200, Upstream, 300, Local, 400, Local), 50, 250 * time.Millisecond, true},
		{"flaps", recs(100, Upstream, 200, Local, 300, Upstream, 400, Local), 0, 400 * time.Millisecond, true},
		{"never", recs(100, Upstream, 200, Local, 300, Lost), 0, 0, false},
		{"nothing after", recs(100, Local), 500, 0, false},
		{"bad before from ignored", recs(100, Lost, 600, Local), 500, 0, true},
		{"not sent skipped", recs(100, Upstream, 200, NotSent, 300, Local), 0, 300 * time.Millisecond, true},
	} {
		r := &Result{Start: start, Records: tc.recs}
		got, ok := r.Converge(start.Add(time.Duration(tc.from)*time.Millisecond), time.Time{}, Mesh, IsLocal)
		if got != tc.want || ok != tc.wantOK {
			t.Errorf("%s: Converge = %v, %v; want %v, %v", tc.name, got, ok, tc.want, tc.wantOK)
		}
	}
	// A span ending before a later failure.
	r := &Result{Start: start, Records: recs(100, Upstream, 200, Local, 300, Upstream, 400, Local)}
	if got, ok := r.Converge(start, start.Add(250*time.Millisecond), Mesh, IsLocal); got != 200*time.Millisecond || !ok {
		t.Errorf("bounded span: %v, %v", got, ok)
	}
	if _, ok := r.Converge(start, start.Add(50*time.Millisecond), Mesh, IsLocal); ok {
		t.Errorf("empty span: ok")
	}
}

func TestWindowAndTimeline(t *testing.T) {
	start := time.Unix(1000, 0)
	r := &Result{Start: start, Records: recs(0, Local, 500, Upstream, 999, Lost, 1000, Wrong, 1500, NotSent, 2500, Local)}
	w := r.Window(start.Add(500*time.Millisecond), start.Add(1500*time.Millisecond))
	if w.Sent != 3 || w.Upstream != 1 || w.Lost != 1 || w.Wrong != 1 || w.NotSent != 0 {
		t.Errorf("window %+v", w.Counts)
	}
	tl := r.Timeline()
	if len(tl) != 3 || tl[0].Sent != 3 || tl[1].Sent != 1 || tl[1].NotSent != 1 || tl[2].Local != 1 {
		t.Errorf("timeline %+v", tl)
	}
	if tl[0].MaxUS != 501_000 {
		t.Errorf("second 0 max %v µs, want 501000", tl[0].MaxUS)
	}
	if s := r.Summary(); s.Sent != 5 || s.Answered() != 4 || s.SendLag.Max != 0 {
		t.Errorf("summary %+v", s)
	}
	// A query sent late counts where it was sent, and its lag shows.
	r.Records[0].Sent = 1200 * time.Millisecond
	if w := r.Window(start.Add(time.Second), start.Add(2*time.Second)); w.Sent != 2 || w.Local != 1 || w.SendLag.Max != 1_200_000 {
		t.Errorf("late query: window %+v", w)
	}
}

package loadgen

import (
	"time"

	"github.com/miekg/dns"

	"github.com/meshdns/meshdns/internal/loadgen/stats"
)

// Record is what became of one query.
type Record struct {
	// At is when its lookup was scheduled, and Sent when the call that
	// sent its queries returned (At when it was not sent), from
	// Result.Start. Windows, timelines and recoveries go by Sent.
	At, Sent time.Duration
	// Latency is from just before the send to the answer's arrival (the
	// kernel's timestamp); negative when there was none in time.
	Latency time.Duration
	// Lookup and Query locate it in Config.Lookups.
	Lookup int32
	Query  int8
	// Mesh is set for a mesh name (one with a Local answer).
	Mesh  bool
	Class Class
}

// Result is the outcome of a Run.
type Result struct {
	// Start is when the schedule began (Record.At is relative to it).
	Start time.Time
	// Rate (lookups/s), QueryRate (queries/s), Duration and Timeout are
	// the run's.
	Rate, QueryRate   float64
	Duration, Timeout time.Duration
	// Records holds one entry per query, in schedule order.
	Records []Record
	// DialErrors counts lookups the generator could not send.
	DialErrors int
	// Stray counts datagrams that matched no outstanding query.
	Stray int
	// Late counts answers that arrived after the timeout (their queries
	// are Lost).
	Late int
	// WrongSamples describes the first wrong answers.
	WrongSamples []string

	lookups [][]compiled
}

// Counts are numbers of queries by class.
type Counts struct {
	Sent     int `json:"sent"`
	Local    int `json:"local"`
	Upstream int `json:"upstream"`
	Wrong    int `json:"wrong"`
	Lost     int `json:"lost"`
	NotSent  int `json:"not_sent"`
}

func (c *Counts) add(rec Record) {
	switch rec.Class {
	case NotSent:
		c.NotSent++
		return
	case Local:
		c.Local++
	case Upstream:
		c.Upstream++
	case Wrong:
		c.Wrong++
	default:
		c.Lost++
	}
	c.Sent++
}

// Answered is Local+Upstream+Wrong.
func (c Counts) Answered() int { return c.Local + c.Upstream + c.Wrong }

// Summary is the totals of a set of queries.
type Summary struct {
	Counts
	// Latency is of the answered queries, in microseconds.
	Latency stats.Latency `json:"latency"`
	// SendLag is how late the generator sent queries after their
	// scheduled time (a busy machine shows here, not as latency).
	SendLag stats.Latency `json:"send_lag"`
}

// Second is one second of the timeline: the queries scheduled in it.
type Second struct {
	Second int `json:"second"`
	Counts
	// MaxUS is the slowest answer's latency, in microseconds.
	MaxUS float64 `json:"max_us"`
}

// Summary sums every query.
func (r *Result) Summary() Summary { return summarize(r.Records) }

// Window sums the queries sent in [from, to).
func (r *Result) Window(from, to time.Time) Summary {
	f, t := from.Sub(r.Start), to.Sub(r.Start)
	var recs []Record
	for _, rec := range r.Records {
		if rec.Sent >= f && rec.Sent < t {
			recs = append(recs, rec)
		}
	}
	return summarize(recs)
}

func summarize(recs []Record) Summary {
	var s Summary
	lat := make([]int64, 0, len(recs))
	lag := make([]int64, 0, len(recs))
	for _, rec := range recs {
		s.add(rec)
		if rec.Class.Answered() {
			lat = append(lat, int64(rec.Latency))
		}
		if rec.Class != NotSent {
			lag = append(lag, int64(rec.Sent-rec.At))
		}
	}
	s.Latency = stats.Summarize(lat)
	s.SendLag = stats.Summarize(lag)
	return s
}

// Timeline counts the queries by the second they were sent in.
func (r *Result) Timeline() []Second {
	var out []Second
	for _, rec := range r.Records {
		s := int(max(rec.Sent, 0) / time.Second)
		for len(out) <= s {
			out = append(out, Second{Second: len(out)})
		}
		out[s].add(rec)
		if rec.Class.Answered() {
			out[s].MaxUS = max(out[s].MaxUS, stats.Micros(int64(rec.Latency)))
		}
	}
	return out
}

// Converge measures a recovery: how long after from the queries selected
// by relevant started, for good, to satisfy good. Going by the time queries
// were sent, and looking only at those sent in [from, to) (to zero: until
// the end), it finds the last relevant query that does not satisfy good,
// and returns when the next relevant query was sent, minus from; 0 when
// none fails. ok is false when no relevant query satisfying good came after
// the last failing one (never recovered), or none was sent in the span.
func (r *Result) Converge(from, to time.Time, relevant, good func(Record) bool) (time.Duration, bool) {
	f := from.Sub(r.Start)
	end := time.Duration(1<<63 - 1)
	if !to.IsZero() {
		end = to.Sub(r.Start)
	}
	in := func(rec Record) bool {
		return rec.Class != NotSent && rec.Sent >= f && rec.Sent < end && relevant(rec)
	}
	lastBad := time.Duration(-1)
	seen := false
	for _, rec := range r.Records {
		if !in(rec) {
			continue
		}
		seen = true
		if !good(rec) && rec.Sent > lastBad {
			lastBad = rec.Sent
		}
	}
	if !seen {
		return 0, false
	}
	if lastBad < 0 {
		return 0, true
	}
	next := time.Duration(-1)
	for _, rec := range r.Records {
		if in(rec) && rec.Sent > lastBad && (next < 0 || rec.Sent < next) {
			next = rec.Sent
		}
	}
	if next < 0 {
		return 0, false
	}
	return next - f, true
}

// Describe names a record's query: "web.default.svc.cluster.local. AAAA".
func (r *Result) Describe(rec Record) string {
	if int(rec.Lookup) >= len(r.lookups) || int(rec.Query) >= len(r.lookups[rec.Lookup]) {
		return "?"
	}
	q := r.lookups[rec.Lookup][rec.Query]
	return q.name + " " + dns.TypeToString[q.qtype]
}

// Time returns the wall-clock time a record was sent at.
func (r *Result) Time(rec Record) time.Time { return r.Start.Add(rec.Sent) }

// Mesh and External select records for Converge and filters.
func Mesh(rec Record) bool     { return rec.Mesh }
func External(rec Record) bool { return !rec.Mesh }

// Any selects every record.
func Any(Record) bool { return true }

// IsLocal and IsCorrect are conditions for Converge.
func IsLocal(rec Record) bool { return rec.Class == Local }

// IsCorrect: answered correctly, by meshdns or the upstream.
func IsCorrect(rec Record) bool { return rec.Class == Local || rec.Class == Upstream }

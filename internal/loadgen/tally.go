package loadgen

import (
	"time"

	"github.com/meshdns/meshdns/internal/loadgen/stats"
)

// FixedResult is the outcome of one FixedRate, TCPConn or TCPPipe run.
type FixedResult struct {
	// Target is the configured rate; Offered is what the pacer achieved
	// (sent / schedule length).
	Target  float64 `json:"target_qps"`
	Offered float64 `json:"offered_qps"`
	Sent    int     `json:"sent"`
	// Answered counts replies within the timeout; Lost the rest (no reply,
	// or one too late). SendErrors are queries the kernel refused.
	Answered   int `json:"answered"`
	Lost       int `json:"lost"`
	SendErrors int `json:"send_errors"`
	// OK: NOERROR with an answer of the asked type; NoData: NOERROR
	// without; NXDomain, ServFail, Other: by rcode.
	OK       int `json:"ok"`
	NoData   int `json:"nodata"`
	NXDomain int `json:"nxdomain"`
	ServFail int `json:"servfail"`
	Other    int `json:"other_rcode"`
	// Truncated replies (TC set).
	Truncated int `json:"truncated"`
	// Timing: per answered query.
	Timing

	// DNS over TCP only (TCPConn, TCPPipe).
	//
	// Connections is how many TCP connections were opened: one per query
	// for TCPConn; for TCPPipe the first ones plus Reconnects.
	Connections int `json:"tcp_connections,omitempty"`
	// ConnErrors counts connections that could not be opened, were
	// refused or reset, or closed before their answer (TCPConn), and
	// failed attempts to replace a connection (TCPPipe).
	ConnErrors int `json:"tcp_conn_errors,omitempty"`
	// Reconnects counts TCPPipe connections the server closed or reset
	// and the generator replaced; Resent the queries it sent again on the
	// new connection (their latency still runs from their first
	// schedule).
	Reconnects int `json:"tcp_reconnects,omitempty"`
	Resent     int `json:"tcp_resent,omitempty"`
	// ConnectLatency (TCPConn) is from connect() to the generator's poller
	// seeing the connection established: the handshake, as the client
	// sees it.
	ConnectLatency *stats.Latency `json:"tcp_connect_latency,omitempty"`
}

// LookupResult is the outcome of one Lookups run.
type LookupResult struct {
	Target  float64 `json:"target_lps"`
	Offered float64 `json:"offered_lps"`
	Lookups int     `json:"lookups"`
	// Found lookups got an address; NotFound ended in NXDOMAIN/NODATA
	// after the whole search; Failed ended on a timeout or socket error.
	Found    int `json:"found"`
	NotFound int `json:"not_found"`
	Failed   int `json:"failed"`
	// Queries is every query sent (A and AAAA counted separately); Lost
	// those without a reply within the timeout.
	Queries int `json:"queries"`
	Lost    int `json:"lost"`
	// QueriesPerLookup = Queries / Lookups.
	QueriesPerLookup float64 `json:"queries_per_lookup"`
	// Timing: per lookup that ended (found or not), from its scheduled
	// start to the last reply used; ServiceLatency from the lookup
	// goroutine's start.
	Timing
}

// Timing is the latency figures of a FixedRate, TCPConn, TCPPipe or
// Lookups run, in microseconds.
type Timing struct {
	// Latency runs from the scheduled send time to the kernel's receive
	// timestamp: what a client with this arrival pattern sees, stalls of
	// the sending machine included.
	Latency stats.Latency `json:"latency"`
	// ServiceLatency runs from the actual send instead: the same without
	// the generator's own lateness.
	ServiceLatency stats.Latency `json:"service_latency"`
	// SendLag is how late the pacer sent. A large tail means the
	// generator was descheduled (by the system under test competing for
	// the CPUs, or by anything else on the machine).
	SendLag stats.Latency `json:"send_lag"`
	// Seconds is the schedule length.
	Seconds float64 `json:"seconds"`
}

// timing summarises a run's samples (nanoseconds, sorted in place) and
// returns them with the rate the pacer achieved: sent events over the
// schedule's length d, or over elapsed when it took longer.
func timing(lat, svc, lags []int64, sent int, elapsed, d time.Duration) (Timing, float64) {
	t := Timing{
		Latency:        stats.Summarize(lat),
		ServiceLatency: stats.Summarize(svc),
		SendLag:        stats.Summarize(lags),
		Seconds:        d.Seconds(),
	}
	if elapsed <= 0 {
		return t, 0
	}
	return t, float64(sent) / max(elapsed.Seconds(), d.Seconds())
}

// tally collects one receiver's answers: latencies and rcode counts. It is
// written by one goroutine only.
type tally struct {
	// lat is from the scheduled send to the reply, svc from the actual
	// send (nanoseconds).
	lat, svc []int64
	// Rcode counts of answers within the timeout; late counts answers
	// after it (lost).
	ok, nodata, nx, sf, other, trunc, late int
}

// record counts reply r received at rx for a query scheduled at due and
// sent at sent (Unix ns). It returns false when the reply came after the
// timeout (counted late, not answered).
func (t *tally) record(r Reply, due, sent, rx int64, timeout time.Duration) bool {
	lat := rx - due
	if lat > int64(timeout) {
		t.late++
		return false
	}
	t.lat = append(t.lat, lat)
	if sent >= due && rx >= sent {
		t.svc = append(t.svc, rx-sent)
	}
	switch {
	case r.Rcode == RcodeSuccess && r.Answers > 0:
		t.ok++
	case r.Rcode == RcodeSuccess:
		t.nodata++
	case r.Rcode == RcodeNXDomain:
		t.nx++
	case r.Rcode == RcodeServFail:
		t.sf++
	default:
		t.other++
	}
	if r.Truncated {
		t.trunc++
	}
	return true
}

// merge adds t's counts to res and returns its samples appended to all
// and svc.
func (t *tally) merge(res *FixedResult, all, svc []int64) ([]int64, []int64) {
	res.OK += t.ok
	res.NoData += t.nodata
	res.NXDomain += t.nx
	res.ServFail += t.sf
	res.Other += t.other
	res.Truncated += t.trunc
	return append(all, t.lat...), append(svc, t.svc...)
}

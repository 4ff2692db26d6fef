package loadgen

import "time"

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
func (t *tally) merge(res *Result, all, svc []int64) ([]int64, []int64) {
	res.OK += t.ok
	res.NoData += t.nodata
	res.NXDomain += t.nx
	res.ServFail += t.sf
	res.Other += t.other
	res.Truncated += t.trunc
	return append(all, t.lat...), append(svc, t.svc...)
}

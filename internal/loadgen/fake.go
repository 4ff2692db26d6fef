package loadgen

import (
	"errors"
	"strings"
)

// ErrFakeTimeout is what FakeExchanger returns for names in Timeout.
var ErrFakeTimeout = errors.New("loadgen: fake timeout")

// FakeExchanger is a PairExchanger over a fixed zone, for tests. Names are
// absolute and compared case-insensitively.
type FakeExchanger struct {
	// A and AAAA map names to their number of answers; a name present in
	// either map (even with 0) exists, so the other type is NODATA.
	A, AAAA map[string]int
	// ServFail names answer SERVFAIL; Timeout names fail the exchange.
	ServFail, Timeout map[string]bool
	// Queries counts queries (two per pair).
	Queries int
}

// ExchangePair implements PairExchanger.
func (f *FakeExchanger) ExchangePair(name string) (Reply, Reply, error) {
	name = strings.ToLower(name)
	f.Queries += 2
	if f.Timeout[name] {
		return Reply{}, Reply{}, ErrFakeTimeout
	}
	if f.ServFail[name] {
		return Reply{Rcode: RcodeServFail}, Reply{Rcode: RcodeServFail}, nil
	}
	na, okA := f.A[name]
	n6, ok6 := f.AAAA[name]
	if !okA && !ok6 {
		return Reply{Rcode: RcodeNXDomain}, Reply{Rcode: RcodeNXDomain}, nil
	}
	return Reply{Answers: na}, Reply{Answers: n6}, nil
}

package loadgen

import (
	"strings"
)

// PairExchanger sends an A and an AAAA query for an absolute name in
// parallel from one socket and returns both replies, as glibc's
// send_dg does for getaddrinfo(AF_UNSPEC). An error means no usable pair
// (a timeout or a socket error).
type PairExchanger interface {
	ExchangePair(name string) (a, aaaa Reply, err error)
}

// Outcome is the result of one Resolve.
type Outcome struct {
	// Found is true when some name in the search got an A or AAAA answer.
	Found bool
	// Name is the absolute name that answered (empty if none).
	Name string
	// Tried lists the absolute names queried, in order.
	Tried []string
	// Err is the exchange error that ended the search, if any.
	Err error
}

// Resolve looks name up as glibc's res_search does for getaddrinfo with
// AF_UNSPEC (A and AAAA in parallel per candidate):
//   - a name ending in a dot is tried as is, and only as is;
//   - a name with at least ndots dots is tried as is first, then with each
//     search domain;
//   - otherwise each search domain is tried first, then the name as is.
//
// A candidate succeeds when either reply has an answer of its type; NXDOMAIN,
// NODATA and SERVFAIL move on to the next candidate (glibc keeps searching
// on all three); an exchange error (timeout) ends the search, as glibc's
// TRY_AGAIN without SERVFAIL does.
func Resolve(x PairExchanger, name string, search []string, ndots int) Outcome {
	var out Outcome
	try := func(abs string) bool {
		out.Tried = append(out.Tried, abs)
		a, aaaa, err := x.ExchangePair(abs)
		if err != nil {
			out.Err = err
			return true
		}
		if (a.Rcode == RcodeSuccess && a.Answers > 0) || (aaaa.Rcode == RcodeSuccess && aaaa.Answers > 0) {
			out.Found = true
			out.Name = abs
			return true
		}
		return false
	}
	if strings.HasSuffix(name, ".") {
		try(name)
		return out
	}
	dots := strings.Count(name, ".")
	triedAsIs := false
	if dots >= ndots {
		triedAsIs = true
		if try(name + ".") {
			return out
		}
	}
	for _, d := range search {
		if try(name + "." + strings.TrimSuffix(d, ".") + ".") {
			return out
		}
	}
	if !triedAsIs {
		try(name + ".")
	}
	return out
}

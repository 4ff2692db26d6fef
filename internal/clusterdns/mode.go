package clusterdns

import "fmt"

// Mode is how the server treats the queries it receives. Queries are counted
// in every mode.
type Mode int32

const (
	// Answer answers from the zone (the default).
	Answer Mode = iota
	// Drop sends nothing back: the client times out, as with a blackholed
	// upstream.
	Drop
	// ServFail answers every query with SERVFAIL.
	ServFail
	// Refused answers every query with REFUSED.
	Refused
)

// String returns the mode's name.
func (m Mode) String() string {
	switch m {
	case Answer:
		return "answer"
	case Drop:
		return "drop"
	case ServFail:
		return "servfail"
	case Refused:
		return "refused"
	}
	return fmt.Sprintf("Mode(%d)", int32(m))
}

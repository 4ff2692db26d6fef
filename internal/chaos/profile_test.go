package chaos_test

import (
	"os"
	"time"

	"github.com/meshdns/meshdns/internal/chaos"
)

// profile is the size of a run: the short form `make test` runs, or the
// long form of `make chaos`.
type profile struct {
	long bool
	mode string
	// rate is lookups per second; each lookup of the mix is an A+AAAA
	// pair, so queries per second are twice that.
	rate float64
	// timeout is how long a query may wait before it counts as lost.
	timeout time.Duration
	// cycles is how many times a fault is repeated.
	cycles int
	// steady is how long the load runs between faults.
	steady time.Duration
}

func getProfile() profile {
	if *longFlag || os.Getenv(chaos.LongEnv) == "1" {
		return profile{long: true, mode: "long", rate: 2500, timeout: 2 * time.Second, cycles: 8, steady: 4 * time.Second}
	}
	return profile{mode: "short", rate: 1000, timeout: 2 * time.Second, cycles: 1, steady: 1500 * time.Millisecond}
}

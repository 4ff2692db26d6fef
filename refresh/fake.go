package refresh

import (
	"sync"

	"github.com/meshdns/meshdns/dnsengine"
)

// FakeLearner is a Learner for tests: it records what it is given and
// answers Outcome.
type FakeLearner struct {
	Outcome dnsengine.CacheOutcome
	mu      sync.Mutex
	got     []Learned
}

// Learned is one call to FakeLearner.LearnRefresh.
type Learned struct {
	Req dnsengine.RefreshRequest
	Msg []byte
}

// LearnRefresh records the call.
func (f *FakeLearner) LearnRefresh(req dnsengine.RefreshRequest, msg []byte) dnsengine.CacheOutcome {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.got = append(f.got, Learned{Req: req, Msg: append([]byte(nil), msg...)})
	return f.Outcome
}

// Calls returns the calls so far.
func (f *FakeLearner) Calls() []Learned {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]Learned(nil), f.got...)
}

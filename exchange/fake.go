package exchange

import (
	"net/netip"
	"sync"

	"github.com/meshdns/meshdns/dnsengine/cache"
)

// FakeForwarder is a tcpstack.Forwarder for tests. With Answer set it
// answers every query at once, from inside Forward; otherwise each query
// waits until the test takes it with Pending and calls Reply or Fail.
type FakeForwarder struct {
	Answer func(query []byte, server netip.AddrPort) ([]byte, error)

	mu      sync.Mutex
	pending []*FakeCall
	count   int
}

// FakeCall is a query given to a FakeForwarder.
type FakeCall struct {
	Query  []byte
	Server netip.AddrPort
	done   func([]byte, error)
	once   sync.Once
}

// Forward records the query, or answers it with Answer.
func (f *FakeForwarder) Forward(query []byte, server netip.AddrPort, done func(resp []byte, err error)) {
	c := &FakeCall{Query: append([]byte(nil), query...), Server: server, done: done}
	f.mu.Lock()
	f.count++
	answer := f.Answer
	if answer == nil {
		f.pending = append(f.pending, c)
	}
	f.mu.Unlock()
	if answer != nil {
		c.finish(answer(c.Query, server))
	}
}

// Pending returns the queries not answered yet and forgets them.
func (f *FakeForwarder) Pending() []*FakeCall {
	f.mu.Lock()
	defer f.mu.Unlock()
	p := f.pending
	f.pending = nil
	return p
}

// Count returns the number of queries given to Forward.
func (f *FakeForwarder) Count() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.count
}

// Reply answers the call with resp.
func (c *FakeCall) Reply(resp []byte) { c.finish(resp, nil) }

// Fail fails the call with err.
func (c *FakeCall) Fail(err error) { c.finish(nil, err) }

func (c *FakeCall) finish(resp []byte, err error) {
	c.once.Do(func() { c.done(resp, err) })
}

// FakeLearner is a Learner for tests: it records what it is given and
// answers Outcome.
type FakeLearner struct {
	Outcome cache.Outcome
	mu      sync.Mutex
	got     []Learned
}

// Learned is one call to FakeLearner.LearnRefresh.
type Learned struct {
	Req cache.RefreshRequest
	Msg []byte
}

// LearnRefresh records the call.
func (f *FakeLearner) LearnRefresh(req cache.RefreshRequest, msg []byte) cache.Outcome {
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

package tcpstack

import "github.com/meshdns/meshdns/dnsengine/verdict"

// FakeAnswerer is an Answerer for tests: not Ready while NotReady is set,
// and answering with what Respond returns for a message (nil: forwarded).
// It may allocate, unlike the engine's.
type FakeAnswerer struct {
	NotReady bool
	Respond  func(msg []byte) []byte
}

// Ready reports !NotReady.
func (a *FakeAnswerer) Ready() bool { return !a.NotReady }

// Answer copies Respond's response into dst.
func (a *FakeAnswerer) Answer(msg, dst []byte) (int, verdict.Reason) {
	if a.NotReady || a.Respond == nil {
		return 0, verdict.ReasonNotOwned
	}
	resp := a.Respond(msg)
	if resp == nil {
		return 0, verdict.ReasonNotOwned
	}
	if len(resp) > len(dst) {
		return 0, verdict.ReasonNoRoom
	}
	return copy(dst, resp), verdict.ReasonAnswered
}

package cache

import (
	"fmt"
	"net/netip"

	"github.com/meshdns/meshdns/dnsengine/wire"
)

// Refresher sends meshdns's own queries to refresh cache entries (serve-
// stale and prefetch). Refresh must not block: it queues the request and
// returns false when it cannot take it. The answer comes back through
// LearnRefresh (through dnsengine.Engine.LearnRefresh). The production Refresher is exchange.Client; the
// fake is FakeRefresher.
type Refresher interface {
	Refresh(req RefreshRequest) bool
}

// RefreshRequest asks for one cache key to be fetched again from the
// upstream that answered it. It is a plain value: handing it over does not
// allocate.
type RefreshRequest struct {
	// Server is the upstream to ask (port 53).
	Server netip.Addr
	// Type and Class of the question.
	Type, Class uint16
	// DO and CD are the key's bits: the refresh query must set them too
	// (DO in an OPT record, CD in the header) for its answer to fit the key.
	DO, CD  bool
	nameLen uint8
	name    [wire.MaxNameLen]byte
}

// NewRefreshRequest builds a request for name (presentation format), for
// tests and tools.
func NewRefreshRequest(server netip.Addr, name string, qtype uint16, do, cd bool) (RefreshRequest, error) {
	w, err := wire.EncodeName(name)
	if err != nil {
		return RefreshRequest{}, err
	}
	if !server.IsValid() {
		return RefreshRequest{}, fmt.Errorf("dnsengine: invalid server address")
	}
	r := RefreshRequest{Server: server.Unmap(), Type: qtype, Class: wire.ClassINET, DO: do, CD: cd}
	r.setName(w)
	return r, nil
}

func (r *RefreshRequest) setName(w []byte) {
	r.nameLen = uint8(len(w) - 1) // len(w) <= 255; stored minus one so 255 fits
	for i, c := range w {
		r.name[i] = wire.Lower(c)
	}
}

// Name returns the question name in lowercase DNS wire format.
func (r *RefreshRequest) Name() []byte { return r.name[:int(r.nameLen)+1] }

// NameString returns the question name in presentation format.
func (r *RefreshRequest) NameString() string { return wire.DecodeName(r.Name()) }

// refreshRequestFor fills req from entry e of shard s; mu held.
func (s *cacheShard) refreshRequestFor(e *cacheEntry, req *RefreshRequest) {
	if e.serverLen == 4 {
		req.Server = netip.AddrFrom4([4]byte(e.server[:4]))
	} else {
		req.Server = netip.AddrFrom16(e.server)
	}
	req.Type, req.Class, req.DO, req.CD = e.qtype, e.qclass, e.do, e.cd
	req.setName(s.slot(e.slots[0])[wire.HeaderLen : wire.HeaderLen+int(e.nameLen)])
}

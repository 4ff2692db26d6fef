package clusterdns

import (
	"strings"
	"sync"
)

// Key is what queries are counted by: the query name in lowercase with a
// final dot, and the query type (dns.TypeA and so on).
type Key struct {
	Name string
	Type uint16
}

// Totals are the queries received, by transport.
type Totals struct {
	UDP, TCP uint64
}

// All is UDP plus TCP.
func (t Totals) All() uint64 { return t.UDP + t.TCP }

// counter counts queries; it is safe for concurrent use.
type counter struct {
	mu     sync.Mutex
	byKey  map[Key]uint64
	totals Totals
}

func newCounter() *counter { return &counter{byKey: map[Key]uint64{}} }

func (c *counter) add(k Key, tcp bool) {
	c.mu.Lock()
	c.byKey[k]++
	if tcp {
		c.totals.TCP++
	} else {
		c.totals.UDP++
	}
	c.mu.Unlock()
}

func (c *counter) snapshot() map[Key]uint64 {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := make(map[Key]uint64, len(c.byKey))
	for k, v := range c.byKey {
		out[k] = v
	}
	return out
}

// count sums the queries for name (any case, with or without the final
// dot) of type qtype, or of every type when qtype is 0.
func (c *counter) count(name string, qtype uint16) uint64 {
	name = canonical(name)
	c.mu.Lock()
	defer c.mu.Unlock()
	if qtype != 0 {
		return c.byKey[Key{name, qtype}]
	}
	var n uint64
	for k, v := range c.byKey {
		if k.Name == name {
			n += v
		}
	}
	return n
}

func (c *counter) total() Totals {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.totals
}

func (c *counter) reset() {
	c.mu.Lock()
	c.byKey = map[Key]uint64{}
	c.totals = Totals{}
	c.mu.Unlock()
}

// canonical lowercases name and adds the final dot.
func canonical(name string) string {
	name = strings.ToLower(name)
	if !strings.HasSuffix(name, ".") {
		name += "."
	}
	return name
}

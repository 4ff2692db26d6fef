package loadgen

import (
	"errors"
	"fmt"
	"log/slog"
	"math"
	"net/netip"
	"slices"
	"strings"
	"time"

	"github.com/miekg/dns"
)

// Defaults and bounds of Config.
const (
	DefaultTimeout    = 2 * time.Second
	DefaultMaxQueries = 2_000_000
	// DefaultSockets is how many sockets FixedRate and TCPPipe spread
	// their queries over when Config.Sockets is 0.
	DefaultSockets = 4
	// MaxEvents caps Rate*Duration for every engine so that a typo
	// cannot fill memory.
	MaxEvents = 5_000_000
)

// Config describes one run of any engine. Server, Rate, Duration and
// Timeout are common; the other fields belong to the engines named in
// their comments. The fields marked json:"-" cannot cross a process (the
// bench's Spec carries the rest to its generator process).
type Config struct {
	// Server is where queries go: the pod's nameserver, which the
	// interceptor captures.
	Server netip.AddrPort `json:"server"`
	// Rate is lookups per second (Run, Lookups) or queries per second
	// (FixedRate, TCPConn, TCPPipe); see QueryRate.
	Rate float64 `json:"rate"`
	// Duration is how long lookups or queries are scheduled for.
	Duration time.Duration `json:"duration"`
	// Timeout is how long a query may take before it counts as lost
	// (DefaultTimeout when 0). For Run it runs from when the lookup was
	// scheduled; Run returns at most Timeout after Duration. Lookups
	// waits this long for each A+AAAA pair.
	Timeout time.Duration `json:"timeout"`

	// Run: Lookups are sent in order, cycled until the schedule ends.
	Lookups []Lookup `json:"-"`
	// MaxQueries bounds Run's schedule: Run refuses a Rate and Duration
	// that would send more (DefaultMaxQueries when 0).
	MaxQueries int `json:"-"`
	// MaxInFlight bounds Run's lookups waiting for answers at once; a
	// lookup due beyond it is NotSent. 0 means Rate*Timeout*2 + 64.
	MaxInFlight int `json:"-"`
	// EDNSSize, when not 0, adds an OPT record with this UDP size to each
	// of Run's queries (glibc and musl send none by default).
	EDNSSize uint16 `json:"-"`
	// Dialer makes the socket of each lookup (Run, Lookups); nil means
	// LocalDialer.
	Dialer Dialer `json:"-"`
	// Logger; nil discards.
	Logger *slog.Logger `json:"-"`

	// Sockets is the number of UDP sockets FixedRate, or of TCP
	// connections TCPPipe, spreads queries over (DefaultSockets when 0).
	Sockets int `json:"sockets"`
	// Queries is the FixedRate, TCPConn and TCPPipe workload, cycled in
	// order.
	Queries []Question `json:"queries,omitempty"`
	// Names, Search and Ndots are the Lookups workload: names as passed
	// to getaddrinfo, cycled in order, and the resolv.conf search list
	// and ndots option.
	Names  []string `json:"names,omitempty"`
	Search []string `json:"search,omitempty"`
	Ndots  int      `json:"ndots,omitempty"`
}

// Question is one question of the FixedRate, TCPConn and TCPPipe
// workloads; Name is absolute.
type Question struct {
	Name string `json:"name"`
	Type uint16 `json:"type"`
}

// Lookup is what one client lookup sends: its queries leave together from
// one socket (one sendmmsg), with distinct message ids.
type Lookup struct {
	Queries []Query
}

// Query is one question and the answers that count as correct for it.
type Query struct {
	Name string // absolute or not; a final dot is added
	Type uint16
	// Local is meshdns's answer for a mesh name; nil for a name meshdns
	// must not answer (then any answer but Upstream is Wrong).
	Local *Expect
	// Upstream is the upstream server's answer. Required.
	Upstream *Expect
	// Mesh marks a mesh name, for Record.Mesh (set by Pair and Single
	// when Local is not nil).
	Mesh bool
}

// Expect is an answer a query may get, compared as a Signature: the rcode,
// the answer section's record data (order does not matter), and the types of
// the authority section's records.
type Expect struct {
	Rcode     int      // dns.RcodeSuccess, dns.RcodeNameError...
	Answer    []string // record data as miekg/dns prints it: "10.96.23.17", "www.example.org."
	Authority []uint16 // record types of the authority section (dns.TypeSOA)
}

// NoError expects NOERROR with answer records of the given data (none:
// NODATA without an SOA).
func NoError(rdata ...string) *Expect { return &Expect{Rcode: dns.RcodeSuccess, Answer: rdata} }

// NoData expects NOERROR without answer records, with authority records of
// the given types (an SOA for an authoritative NODATA).
func NoData(authority ...uint16) *Expect {
	return &Expect{Rcode: dns.RcodeSuccess, Authority: authority}
}

// NXDomain expects NXDOMAIN with authority records of the given types.
func NXDomain(authority ...uint16) *Expect {
	return &Expect{Rcode: dns.RcodeNameError, Authority: authority}
}

// Signature renders e as the string responses are compared by.
func (e *Expect) Signature() string {
	if e == nil {
		return ""
	}
	ans := slices.Clone(e.Answer)
	slices.Sort(ans)
	auth := make([]string, len(e.Authority))
	for i, t := range e.Authority {
		auth[i] = dns.TypeToString[t]
	}
	slices.Sort(auth)
	return signature(e.Rcode, ans, auth)
}

func signature(rcode int, answer, authTypes []string) string {
	rc := dns.RcodeToString[rcode]
	if rc == "" {
		rc = fmt.Sprintf("RCODE%d", rcode)
	}
	return rc + " [" + strings.Join(answer, " ") + "] auth[" + strings.Join(authTypes, " ") + "]"
}

// Single is a lookup of one query. local may be nil (not a mesh name).
func Single(name string, qtype uint16, local, upstream *Expect) Lookup {
	return Lookup{Queries: []Query{{Name: name, Type: qtype, Local: local, Upstream: upstream, Mesh: local != nil}}}
}

// Pair is a glibc getaddrinfo(AF_UNSPEC) lookup: A and AAAA for name from
// one socket. Local expectations may be nil (not a mesh name).
func Pair(name string, localA, upstreamA, localAAAA, upstreamAAAA *Expect) Lookup {
	return Lookup{Queries: []Query{
		{Name: name, Type: dns.TypeA, Local: localA, Upstream: upstreamA, Mesh: localA != nil},
		{Name: name, Type: dns.TypeAAAA, Local: localAAAA, Upstream: upstreamAAAA, Mesh: localAAAA != nil},
	}}
}

// QueryRate is the queries per second c's schedule sends.
func (c Config) QueryRate() float64 {
	if len(c.Lookups) == 0 {
		return 0
	}
	n := 0
	for _, l := range c.Lookups {
		n += len(l.Queries)
	}
	return c.Rate * float64(n) / float64(len(c.Lookups))
}

// events checks the fields every engine uses, fills in the defaults of
// Timeout and Sockets, and returns the number of lookups or queries to
// send: Rate*Duration, at least 1.
func (c *Config) events() (int, error) {
	if !c.Server.IsValid() {
		return 0, errors.New("loadgen: no server")
	}
	if c.Rate <= 0 || c.Rate > 1e6 || math.IsNaN(c.Rate) {
		return 0, fmt.Errorf("loadgen: rate %v: want (0, 1e6]", c.Rate)
	}
	if c.Duration <= 0 || c.Duration > 24*time.Hour {
		return 0, fmt.Errorf("loadgen: duration %v: want (0, 24h]", c.Duration)
	}
	if c.Timeout <= 0 {
		c.Timeout = DefaultTimeout
	}
	if c.Sockets <= 0 {
		c.Sockets = DefaultSockets
	}
	if c.Sockets > 256 {
		return 0, fmt.Errorf("loadgen: %d sockets: want at most 256", c.Sockets)
	}
	n := max(int(c.Rate*c.Duration.Seconds()), 1)
	if n > MaxEvents {
		return 0, fmt.Errorf("loadgen: %d events: more than %d", n, MaxEvents)
	}
	return n, nil
}

// queries checks the FixedRate, TCPConn and TCPPipe part of c and returns
// the number of queries to send and the Queries as templates with ID 0.
func (c *Config) queries() (int, [][]byte, error) {
	n, err := c.events()
	if err != nil {
		return 0, nil, err
	}
	t, err := queryTemplates(c.Queries)
	return n, t, err
}

// schedule checks Run's part of c and returns the number of lookups to
// send.
func (c *Config) schedule() (int, error) {
	n, err := c.events()
	if err != nil {
		return 0, err
	}
	if len(c.Lookups) == 0 {
		return 0, errors.New("loadgen: no lookups")
	}
	for i, l := range c.Lookups {
		if len(l.Queries) == 0 || len(l.Queries) > 16 {
			return 0, fmt.Errorf("loadgen: lookup %d has %d queries, want 1 to 16", i, len(l.Queries))
		}
		for _, q := range l.Queries {
			if q.Upstream == nil {
				return 0, fmt.Errorf("loadgen: lookup %d: %s has no Upstream answer", i, q.Name)
			}
			if _, ok := dns.IsDomainName(q.Name); !ok {
				return 0, fmt.Errorf("loadgen: lookup %d: bad name %q", i, q.Name)
			}
		}
	}
	max := c.MaxQueries
	if max == 0 {
		max = DefaultMaxQueries
	}
	if q := int(c.QueryRate() * c.Duration.Seconds()); q > max {
		return 0, fmt.Errorf("loadgen: %d queries scheduled, more than MaxQueries %d", q, max)
	}
	return n, nil
}

// withDefaults fills in Run's defaults (events has set Timeout's).
func (c Config) withDefaults() Config {
	if c.MaxInFlight <= 0 {
		c.MaxInFlight = int(c.Rate*c.Timeout.Seconds()*2) + 64
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
	return c
}

// dialer is c.Dialer, or LocalDialer.
func (c *Config) dialer() Dialer {
	if c.Dialer == nil {
		return LocalDialer{}
	}
	return c.Dialer
}

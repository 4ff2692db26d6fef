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

// Defaults of Config.
const (
	DefaultTimeout    = 2 * time.Second
	DefaultMaxQueries = 2_000_000
)

// Config describes one run.
type Config struct {
	// Server is where queries go: the pod's nameserver, which the
	// interceptor captures.
	Server netip.AddrPort
	// Lookups are sent in order, cycled until the schedule ends.
	Lookups []Lookup
	// Rate is lookups per second (queries per second is Rate times the
	// mean number of queries per lookup; see QueryRate).
	Rate float64
	// Duration is how long lookups are scheduled for.
	Duration time.Duration
	// Timeout is how long a lookup's socket waits for its answers after
	// the lookup was scheduled; a query unanswered by then is Lost
	// (DefaultTimeout when 0). Run returns at most Timeout after Duration.
	Timeout time.Duration
	// MaxQueries bounds the schedule: Run refuses a Rate and Duration that
	// would send more (DefaultMaxQueries when 0).
	MaxQueries int
	// MaxInFlight bounds the lookups waiting for answers at once; a lookup
	// due beyond it is NotSent. 0 means Rate*Timeout*2 + 64.
	MaxInFlight int
	// EDNSSize, when not 0, adds an OPT record with this UDP size to each
	// query (glibc and musl send none by default).
	EDNSSize uint16
	// Dialer makes each lookup's socket; nil means LocalDialer.
	Dialer Dialer
	// Logger; nil discards.
	Logger *slog.Logger
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

// schedule returns the number of lookups to send.
func (c Config) schedule() (int, error) {
	if !c.Server.IsValid() {
		return 0, errors.New("loadgen: no server")
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
	if c.Rate <= 0 || c.Rate > 1e6 || math.IsNaN(c.Rate) {
		return 0, fmt.Errorf("loadgen: rate %v: want (0, 1e6] lookups per second", c.Rate)
	}
	if c.Duration <= 0 || c.Duration > 24*time.Hour {
		return 0, fmt.Errorf("loadgen: duration %v: want (0, 24h]", c.Duration)
	}
	n := int(c.Rate * c.Duration.Seconds())
	if n < 1 {
		n = 1
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

func (c Config) withDefaults() Config {
	if c.Timeout <= 0 {
		c.Timeout = DefaultTimeout
	}
	if c.MaxInFlight <= 0 {
		c.MaxInFlight = int(c.Rate*c.Timeout.Seconds()*2) + 64
	}
	if c.Dialer == nil {
		c.Dialer = LocalDialer{}
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
	return c
}

package loadgen

import (
	"slices"
	"strings"

	"github.com/miekg/dns"
)

// Class is what became of one query.
type Class uint8

const (
	// Lost: no answer within the timeout.
	Lost Class = iota
	// Local: meshdns's answer for the name.
	Local
	// Upstream: the upstream's answer for the name.
	Upstream
	// Wrong: an answer that is neither (or meshdns's answer where only
	// the upstream's is right).
	Wrong
	// NotSent: the generator could not send the query.
	NotSent
	numClasses
)

var classNames = [numClasses]string{"lost", "local", "upstream", "wrong", "not_sent"}

func (c Class) String() string {
	if c < numClasses {
		return classNames[c]
	}
	return "unknown"
}

// Answered reports whether the query got any answer.
func (c Class) Answered() bool { return c == Local || c == Upstream || c == Wrong }

// response is what classify reads from a response.
type response struct {
	id        uint16
	name      string // question name, lowercase, absolute
	qtype     uint16
	signature string
}

// parseResponse reads a DNS response. ok is false for anything that is not
// a response with exactly one question.
func parseResponse(b []byte) (r response, ok bool) {
	var m dns.Msg
	if err := m.Unpack(b); err != nil || !m.Response || len(m.Question) != 1 {
		return r, false
	}
	r.id = m.Id
	r.name = strings.ToLower(dns.Fqdn(m.Question[0].Name))
	r.qtype = m.Question[0].Qtype
	ans := make([]string, 0, len(m.Answer))
	for _, rr := range m.Answer {
		ans = append(ans, rdata(rr))
	}
	slices.Sort(ans)
	auth := make([]string, 0, len(m.Ns))
	for _, rr := range m.Ns {
		auth = append(auth, dns.TypeToString[rr.Header().Rrtype])
	}
	slices.Sort(auth)
	r.signature = signature(m.Rcode, ans, auth)
	return r, true
}

// rdata is a record's data as miekg/dns prints it, without the header.
func rdata(rr dns.RR) string {
	s := rr.String()
	h := rr.Header().String()
	if strings.HasPrefix(s, h) {
		return strings.TrimSpace(s[len(h):])
	}
	return s
}

// classify decides the class of an answer to q with signature sig.
func classify(q *compiled, sig string) Class {
	switch {
	case q.local != "" && sig == q.local:
		return Local
	case sig == q.upstream:
		return Upstream
	}
	return Wrong
}

// compiled is a Query with its signatures rendered and its message
// encoded once.
type compiled struct {
	name            string // lowercase, absolute
	qtype           uint16
	local, upstream string
	mesh            bool
	wire            []byte // the query with ID 0 (AppendQuery, AppendOPT)
}

// compile renders q; ednsSize, when not 0, adds an OPT record.
func compile(q Query, ednsSize uint16) (compiled, error) {
	c := compiled{
		name:     strings.ToLower(dns.Fqdn(q.Name)),
		qtype:    q.Type,
		local:    q.Local.Signature(),
		upstream: q.Upstream.Signature(),
		mesh:     q.Mesh,
	}
	var err error
	if c.wire, err = AppendQuery(nil, 0, c.name, c.qtype); err != nil {
		return c, err
	}
	if ednsSize > 0 {
		c.wire = AppendOPT(c.wire, ednsSize)
	}
	return c, nil
}

package clusterdns

import (
	"time"

	"github.com/miekg/dns"
)

// ednsSize is the UDP payload size the server advertises.
const ednsSize = 1232

// ServeDNS answers one query; Server is a dns.Handler.
func (s *Server) ServeDNS(w dns.ResponseWriter, req *dns.Msg) {
	tcp := false
	if a := w.LocalAddr(); a != nil {
		tcp = a.Network() == "tcp"
	}
	if len(req.Question) > 0 {
		q := req.Question[0]
		s.count.add(Key{canonical(q.Name), q.Qtype}, tcp)
		s.log.Debug("query", "name", q.Name, "type", dns.TypeToString[q.Qtype], "tcp", tcp)
	} else {
		s.count.add(Key{}, tcp)
	}

	mode := Mode(s.mode.Load())
	if mode == Drop {
		return
	}
	if d := time.Duration(s.delay.Load()); d > 0 {
		s.mu.Lock()
		stopped := s.stopped
		s.mu.Unlock()
		t := time.NewTimer(d)
		select {
		case <-t.C:
		case <-stopped:
			t.Stop()
			return
		}
	}
	resp := s.respond(req, mode)
	if !tcp {
		size := dns.MinMsgSize
		if opt := req.IsEdns0(); opt != nil {
			size = max(int(opt.UDPSize()), dns.MinMsgSize)
		}
		resp.Truncate(size)
	}
	if err := w.WriteMsg(resp); err != nil {
		s.log.Debug("write", "err", err)
	}
}

// respond builds the response to req in the given mode (not Drop).
func (s *Server) respond(req *dns.Msg, mode Mode) *dns.Msg {
	resp := new(dns.Msg)
	switch {
	case len(req.Question) != 1 || req.Opcode != dns.OpcodeQuery:
		resp.SetRcode(req, dns.RcodeFormatError)
	case mode == ServFail:
		resp.SetRcode(req, dns.RcodeServerFailure)
	case mode == Refused:
		resp.SetRcode(req, dns.RcodeRefused)
	default:
		q := req.Question[0]
		rcode, answer := s.zone.lookup(q.Name, q.Qtype)
		resp.SetRcode(req, rcode)
		resp.Answer = answer
	}
	resp.RecursionAvailable = true
	if s.cfg.Marker {
		resp.Extra = append(resp.Extra, &dns.TXT{
			Hdr: dns.RR_Header{Name: MarkerName, Rrtype: dns.TypeTXT, Class: dns.ClassINET, Ttl: 0},
			Txt: []string{MarkerText},
		})
	}
	if req.IsEdns0() != nil {
		resp.SetEdns0(ednsSize, false)
	}
	return resp
}

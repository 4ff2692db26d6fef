package model

import (
	"cmp"
	"errors"
	"fmt"
	"math"
	"net/netip"
	"slices"

	"github.com/meshdns/meshdns/dnsengine"
)

// Build turns objs into a table. Objects that cannot be turned into names
// are skipped and listed in the Report; Build fails only on bad options.
// objs may be nil (an empty table).
func Build(objs *Objects, opts Options) (*dnsengine.Table, Report, error) {
	o, err := opts.normalize()
	if err != nil {
		return nil, Report{}, err
	}
	if objs != nil && objs.Changes != nil {
		return nil, Report{}, errors.New("model: Build needs complete objects, not a delta")
	}
	cfg := o.tableConfig()
	cfg.SizeHint = sizeHint(objs)
	b, err := dnsengine.NewTableBuilder(cfg)
	if err != nil {
		return nil, Report{}, fmt.Errorf("model: %w", err)
	}
	rep := build(objs, &o, b)
	return b.Build(), rep, nil
}

// Writer receives the names Build derives from objects. The engine's
// *dnsengine.TableBuilder is one; tests hand BuildInto a reference builder.
type Writer interface {
	AddAddress(name string, ip netip.Addr, src string) error
	AddWildcardAddress(pattern string, ip netip.Addr, src string) error
	AddCNAME(name, target, src string) error
	AddSRV(name string, priority, weight, port uint16, target, src string) error
	AddPTR(ip netip.Addr, target, src string) error
	AddPassThrough(name string) error
	// HasRecords reports whether name already owns records: before the
	// ServiceEntries are written, the names the Kubernetes objects own.
	HasRecords(name string) bool
}

// BuildInto writes the names of objs into w, which must have been made
// for the zones of opts.TableConfig. Build is BuildInto on a new
// TableBuilder.
func BuildInto(objs *Objects, opts Options, w Writer) (Report, error) {
	o, err := opts.normalize()
	if err != nil {
		return Report{}, err
	}
	return build(objs, &o, w), nil
}

// sizeHint estimates the records a table of objs holds: a Service's few
// (addresses, PTR, SRV) and per endpoint address its A, PTR and SRV
// records, so that the builder does not grow its buffers step by step.
func sizeHint(objs *Objects) int {
	if objs == nil {
		return 0
	}
	n := 8*len(objs.Services) + 8*len(objs.ServiceEntries)
	for _, es := range objs.EndpointSlices {
		if es == nil {
			continue
		}
		for _, e := range es.Endpoints {
			n += 6 * len(e.Addresses)
		}
	}
	return n
}

// TableConfig returns the zones and apex records a table built with opts
// needs.
func (opts Options) TableConfig() (dnsengine.TableConfig, error) {
	o, err := opts.normalize()
	if err != nil {
		return dnsengine.TableConfig{}, err
	}
	return o.tableConfig(), nil
}

func (o *options) tableConfig() dnsengine.TableConfig {
	return dnsengine.TableConfig{
		ClusterDomain: o.domain,
		Zones:         o.zones,
		Serial:        o.serial,
		Nameservers:   o.ns,
	}
}

// state is one run of Build.
type state struct {
	o   *options
	out Writer
	rep Report
	// svcNames holds the FQDN of every Service loaded, with records or
	// not. A ServiceEntry host that is one, or that the Kubernetes objects
	// added records to (Writer.HasRecords, asked before the ServiceEntries
	// write theirs), is skipped.
	svcNames map[string]bool
	// isService, when set, answers for svcNames (an incremental base
	// build asks the groups).
	isService func(fqdn string) bool
	// shadowed lists endpoint addresses that got no PTR because they are
	// a Service's cluster IP.
	shadowed []netip.Addr
	// ipRange: bounds of the cluster IPs, when known (Build's; for an
	// Incremental group, Incremental.ipRange, bounds of every cluster IP
	// it counted): an endpoint address outside them is no cluster IP
	// without a lookup.
	ipRange addrRange
	ips     []netip.Addr // checkServices' cluster IPs: an array for all its Services
	// checkChunks, if set, are the chunks checkServices carves its
	// results from (an Incremental's first Apply).
	checkChunks *checkChunks
	scratch     *buildScratch // reused from Service to Service (and by Incremental from group to group)
}

func build(objs *Objects, o *options, out Writer) Report {
	if objs == nil {
		objs = &Objects{}
	}
	s := &state{o: o, out: out, svcNames: make(map[string]bool, len(objs.Services)),
		scratch: &buildScratch{epIdx: map[epKey]*epAddr{}, labelIdx: map[string]int{}}}
	s.services(objs.Services, objs.EndpointSlices)
	s.serviceEntries(objs.ServiceEntries)
	slices.SortStableFunc(s.rep.Problems, func(a, b Problem) int {
		return cmp.Or(cmp.Compare(a.Kind, b.Kind), cmp.Compare(a.Namespace, b.Namespace), cmp.Compare(a.Name, b.Name))
	})
	return s.rep
}

func (s *state) problem(kind, ns, name, format string, args ...any) {
	p := Problem{Kind: kind, Namespace: ns, Name: name, Message: fmt.Sprintf(format, args...)}
	s.rep.Problems = append(s.rep.Problems, p)
	s.o.log.Debug("object skipped", "kind", kind, "namespace", ns, "name", name, "problem", p.Message)
}

// The add helpers report builder refusals (a name that is both a CNAME and
// something else) as problems of the object at hand. They return whether
// the record went in.

func (s *state) addAddress(kind, ns, name, owner string, ip netip.Addr, src string) bool {
	if err := s.out.AddAddress(owner, ip, src); err != nil {
		s.problem(kind, ns, name, "%v", err)
		return false
	}
	return true
}

func (s *state) addPTR(kind, ns, name string, ip netip.Addr, target, src string) {
	if err := s.out.AddPTR(ip, target, src); err != nil {
		s.problem(kind, ns, name, "%v", err)
	}
}

// srvPair is one (target, port) behind an SRV owner; port -1 stands for an
// object without ports, which CoreDNS counts in the weight but does not
// answer.
type srvPair struct {
	target string
	port   int32
}

// srvWeight is CoreDNS's weight for each of n records of one priority:
// floor(100/n), at least 1 (plugin/backend_lookup.go).
func srvWeight(n int) uint16 {
	w := 100.0 / float64(100*n) * 100
	weight := uint16(math.Floor(w))
	if weight == 0 {
		weight = 1
	}
	return weight
}

// addSRVs adds the SRV records of owner: priority 0, the CoreDNS weight
// for len(pairs), one record per distinct (target, port).
func (s *state) addSRVs(kind, ns, name, owner string, pairs []srvPair, src string) {
	if len(pairs) == 0 {
		return
	}
	w := srvWeight(len(pairs))
	// Usually few pairs (an endpoint's ports): a scan finds the repeats
	// without a map; a large headless Service's own name gets one.
	var seen map[srvPair]bool
	if len(pairs) > 16 {
		if s.scratch.seen == nil {
			s.scratch.seen = make(map[srvPair]bool, len(pairs))
		}
		seen = s.scratch.seen
		clear(seen)
	}
	for i, p := range pairs {
		if p.port < 1 || p.port > 65535 {
			continue
		}
		if seen != nil {
			if seen[p] {
				continue
			}
			seen[p] = true
		} else if slices.Contains(pairs[:i], p) {
			continue
		}
		if err := s.out.AddSRV(owner, 0, w, uint16(p.port), p.target, src); err != nil {
			s.problem(kind, ns, name, "%v", err)
		}
	}
}

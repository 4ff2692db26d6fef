package model

import (
	"encoding/binary"
	"errors"
	"net/netip"

	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
)

// The packed form of a Service or EndpointSlice holds only what the model
// reads of it (services.go, incremental.go), in a compact encoding of its
// own, and not its namespace and name (packed.Key holds them):
//
//   - a Service: its type, external name, cluster IPs, whether it
//     publishes not-ready addresses, and each port's name, protocol and
//     number;
//   - an EndpointSlice: its Service name label, its address type, each
//     port's name, protocol and number (each possibly unset), and each
//     endpoint's addresses, readiness (unset, true or false) and hostname.
//
// Strings the API uses often (types, protocols, "None") take a byte, an
// address that is an IP in its canonical text 4 or 16 bytes, and an
// endpoint with one IPv4 address (the common case) 5 bytes and its
// hostname. At 100,000 endpoints the groups' blocks of objects (keys
// and bodies, packed.go) are about 13 bytes an endpoint, against 44 for
// the protobuf encodings the model kept before, which also held every
// field the model does not read, and the namespace and name a second
// time.
//
// Fields not read are dropped, so two objects that differ only in them
// pack to the same bytes: a change the table cannot show rebuilds
// nothing. An object unpacked has the fields read, as given, and
// nothing else. TestPackedRoundTrip checks that a table built from
// unpacked objects is the one built from the originals.

// errPacked is the error of bytes that are no packed object: never the
// model's own, unless memory is corrupted.
var errPacked = errors.New("model: malformed packed object")

// Flags of a packed endpoint.
const (
	epReadyTrue  = 1 << 0 // Conditions.Ready set, true
	epReadyFalse = 1 << 1 // Conditions.Ready set, false
	epHostname   = 1 << 2 // Hostname set
	epOneIPv4    = 1 << 3 // one address, a canonical IPv4 address: 4 bytes follow
)

// Flags of a packed EndpointSlice port: which of its pointers are set.
const (
	portName = 1 << iota
	portProtocol
	portNumber
)

// Tags of a packed address.
const (
	addrText = iota // a string follows
	addr4           // 4 bytes follow
	addr16          // 16 bytes follow
)

// commonString returns the index of s among the strings packed as one
// byte, or false.
func commonString(s string) (int, bool) {
	switch s {
	case "":
		return 0, true
	case "TCP":
		return 1, true
	case "UDP":
		return 2, true
	case "SCTP":
		return 3, true
	case "ClusterIP":
		return 4, true
	case "NodePort":
		return 5, true
	case "LoadBalancer":
		return 6, true
	case "ExternalName":
		return 7, true
	case "None":
		return 8, true
	case "IPv4":
		return 9, true
	case "IPv6":
		return 10, true
	case "FQDN":
		return 11, true
	case "http":
		return 12, true
	case "https":
		return 13, true
	case "grpc":
		return 14, true
	}
	return 0, false
}

// commonStringAt is the inverse of commonString.
func commonStringAt(i uint64) (string, bool) {
	switch i {
	case 0:
		return "", true
	case 1:
		return "TCP", true
	case 2:
		return "UDP", true
	case 3:
		return "SCTP", true
	case 4:
		return "ClusterIP", true
	case 5:
		return "NodePort", true
	case 6:
		return "LoadBalancer", true
	case 7:
		return "ExternalName", true
	case 8:
		return "None", true
	case 9:
		return "IPv4", true
	case 10:
		return "IPv6", true
	case 11:
		return "FQDN", true
	case 12:
		return "http", true
	case 13:
		return "https", true
	case 14:
		return "grpc", true
	}
	return "", false
}

// appendString appends s: a common string as its index, shifted left
// and marked by the low bit, any other as its length, shifted left, and
// its bytes.
func appendString(b []byte, s string) []byte {
	if i, ok := commonString(s); ok {
		return binary.AppendUvarint(b, uint64(i)<<1|1)
	}
	b = binary.AppendUvarint(b, uint64(len(s))<<1)
	return append(b, s...)
}

// ipForm returns the address s is the canonical text of, and true, or
// false if it is not one (the text is kept as it is).
func ipForm(s string) (netip.Addr, bool) {
	a, err := netip.ParseAddr(s)
	if err != nil || a.Zone() != "" {
		return netip.Addr{}, false
	}
	if a.Is4() {
		// ParseAddr takes an IPv4 address only in its canonical text
		// (four decimal fields, no leading zeros: TestIPFormIPv4).
		return a, true
	}
	var buf [64]byte
	return a, string(netip.AddrFrom16(a.As16()).AppendTo(buf[:0])) == s
}

// appendAddr appends an address's text s, as 4 or 16 bytes if it is an
// IP's canonical text.
func appendAddr(b []byte, s string) []byte {
	a, ok := ipForm(s)
	switch {
	case ok && a.Is4():
		v := a.As4()
		return append(append(b, addr4), v[:]...)
	case ok:
		v := a.As16()
		return append(append(b, addr16), v[:]...)
	}
	return appendString(append(b, addrText), s)
}

// appendService appends the packed form of x.
func appendService(b []byte, x *corev1.Service) []byte {
	var flags byte
	if x.Spec.PublishNotReadyAddresses {
		flags = 1
	}
	b = append(b, flags)
	b = appendString(b, string(x.Spec.Type))
	b = appendString(b, x.Spec.ExternalName)
	b = appendAddr(b, x.Spec.ClusterIP)
	b = binary.AppendUvarint(b, uint64(len(x.Spec.ClusterIPs)))
	for _, ip := range x.Spec.ClusterIPs {
		b = appendAddr(b, ip)
	}
	b = binary.AppendUvarint(b, uint64(len(x.Spec.Ports)))
	for _, p := range x.Spec.Ports {
		b = appendString(b, p.Name)
		b = appendString(b, string(p.Protocol))
		b = binary.AppendVarint(b, int64(p.Port))
	}
	return b
}

// appendSlice appends the packed form of x.
func appendSlice(b []byte, x *discoveryv1.EndpointSlice) []byte {
	b = appendString(b, x.Labels[discoveryv1.LabelServiceName])
	b = appendString(b, string(x.AddressType))
	b = binary.AppendUvarint(b, uint64(len(x.Ports)))
	for _, p := range x.Ports {
		var flags byte
		if p.Name != nil {
			flags |= portName
		}
		if p.Protocol != nil {
			flags |= portProtocol
		}
		if p.Port != nil {
			flags |= portNumber
		}
		b = append(b, flags)
		if p.Name != nil {
			b = appendString(b, *p.Name)
		}
		if p.Protocol != nil {
			b = appendString(b, string(*p.Protocol))
		}
		if p.Port != nil {
			b = binary.AppendVarint(b, int64(*p.Port))
		}
	}
	b = binary.AppendUvarint(b, uint64(len(x.Endpoints)))
	for i := range x.Endpoints {
		e := &x.Endpoints[i]
		var flags byte
		switch r := e.Conditions.Ready; {
		case r != nil && *r:
			flags |= epReadyTrue
		case r != nil:
			flags |= epReadyFalse
		}
		if e.Hostname != nil {
			flags |= epHostname
		}
		var one netip.Addr
		if len(e.Addresses) == 1 {
			if a, ok := ipForm(e.Addresses[0]); ok && a.Is4() {
				flags |= epOneIPv4
				one = a
			}
		}
		b = append(b, flags)
		if flags&epOneIPv4 != 0 {
			v := one.As4()
			b = append(b, v[:]...)
		} else {
			b = binary.AppendUvarint(b, uint64(len(e.Addresses)))
			for _, a := range e.Addresses {
				b = appendAddr(b, a)
			}
		}
		if e.Hostname != nil {
			b = appendString(b, *e.Hostname)
		}
	}
	return b
}

// reader reads packed bytes, s. Its strings are substrings of s; the
// addresses it formats are collected in addrs, made strings at the end.
type reader struct {
	s   string
	i   int
	err error
}

func (r *reader) fail() {
	if r.err == nil {
		r.err = errPacked
	}
	r.i = len(r.s)
}

func (r *reader) byte() byte {
	if r.i >= len(r.s) {
		r.fail()
		return 0
	}
	r.i++
	return r.s[r.i-1]
}

func (r *reader) uvarint() uint64 {
	var v uint64
	for shift := 0; shift < 64; shift += 7 {
		c := r.byte()
		if r.err != nil {
			return 0
		}
		v |= uint64(c&0x7f) << shift
		if c < 0x80 {
			return v
		}
	}
	r.fail()
	return 0
}

func (r *reader) varint() int64 {
	u := r.uvarint()
	return int64(u>>1) ^ -int64(u&1)
}

// count reads a count of items, each at least min bytes: no more than
// the bytes left could hold.
func (r *reader) count(min int) int {
	n := r.uvarint()
	if n > uint64(len(r.s)-r.i)/uint64(min) {
		r.fail()
		return 0
	}
	return int(n)
}

func (r *reader) bytes(n int) string {
	if n > len(r.s)-r.i {
		r.fail()
		return ""
	}
	r.i += n
	return r.s[r.i-n : r.i]
}

func (r *reader) string() string {
	h := r.uvarint()
	if h&1 == 1 {
		s, ok := commonStringAt(h >> 1)
		if !ok {
			r.fail()
		}
		return s
	}
	if h>>1 > uint64(len(r.s)-r.i) {
		r.fail()
		return ""
	}
	return r.bytes(int(h >> 1))
}

func (r *reader) int32() int32 {
	v := r.varint()
	if int64(int32(v)) != v {
		r.fail()
	}
	return int32(v)
}

// addrs collects the addresses a packed object holds as bytes, formatted
// into one buffer, to be made strings all at once.
type addrs struct {
	text []byte
	ends []int // where each address's text ends in text
}

// add formats a into the buffer and returns its index.
func (t *addrs) add(a netip.Addr) int {
	t.text = a.AppendTo(t.text)
	t.ends = append(t.ends, len(t.text))
	return len(t.ends) - 1
}

// strings returns the addresses' texts, one string allocation in all.
func (t *addrs) strings() []string {
	all := string(t.text)
	out := make([]string, len(t.ends))
	start := 0
	for i, end := range t.ends {
		out[i] = all[start:end]
		start = end
	}
	return out
}

// addr reads an address: its text, or (text "" and i ≥ 0) the index of
// its form in t.
func (r *reader) addr(t *addrs) (text string, i int) {
	switch r.byte() {
	case addrText:
		return r.string(), -1
	case addr4:
		v := r.bytes(4)
		if r.err != nil {
			return "", -1
		}
		return "", t.add(netip.AddrFrom4([4]byte{v[0], v[1], v[2], v[3]}))
	case addr16:
		v := r.bytes(16)
		if r.err != nil {
			return "", -1
		}
		var a [16]byte
		copy(a[:], v)
		return "", t.add(netip.AddrFrom16(a))
	}
	r.fail()
	return "", -1
}

// addrRef is where an address read goes once the texts are strings.
type addrRef struct {
	dst *string
	i   int
}

// setAddrs fills each ref with its address's text.
func setAddrs(t *addrs, refs []addrRef) {
	if len(t.ends) == 0 {
		return
	}
	texts := t.strings()
	for _, ref := range refs {
		*ref.dst = texts[ref.i]
	}
}

// readAddr reads an address into *dst, now if it is text, else once the
// texts are strings (refs).
func (r *reader) readAddr(t *addrs, refs []addrRef, dst *string) []addrRef {
	s, i := r.addr(t)
	if i < 0 {
		*dst = s
		return refs
	}
	return append(refs, addrRef{dst, i})
}

// unpackService decodes b, packed by appendService for key k, into x, a
// zero Service.
func unpackService(b string, k Key, x *corev1.Service) error {
	r := &reader{s: b}
	var t addrs
	var refs []addrRef
	x.Namespace, x.Name = k.Namespace, k.Name
	x.Spec.PublishNotReadyAddresses = r.byte()&1 != 0
	x.Spec.Type = corev1.ServiceType(r.string())
	x.Spec.ExternalName = r.string()
	refs = r.readAddr(&t, refs, &x.Spec.ClusterIP)
	if n := r.count(2); n > 0 {
		x.Spec.ClusterIPs = make([]string, n)
		for i := range x.Spec.ClusterIPs {
			refs = r.readAddr(&t, refs, &x.Spec.ClusterIPs[i])
		}
	}
	if n := r.count(3); n > 0 {
		x.Spec.Ports = make([]corev1.ServicePort, n)
		for i := range x.Spec.Ports {
			p := &x.Spec.Ports[i]
			p.Name = r.string()
			p.Protocol = corev1.Protocol(r.string())
			p.Port = r.int32()
		}
	}
	return r.finish(&t, refs)
}

// unpackSlice decodes b, packed by appendSlice for key k, into x, a zero
// EndpointSlice.
func unpackSlice(b string, k Key, x *discoveryv1.EndpointSlice) error {
	r := &reader{s: b}
	var t addrs
	var refs []addrRef
	x.Namespace, x.Name = k.Namespace, k.Name
	if svc := r.string(); svc != "" {
		x.Labels = map[string]string{discoveryv1.LabelServiceName: svc}
	}
	x.AddressType = discoveryv1.AddressType(r.string())
	if n := r.count(1); n > 0 {
		x.Ports = make([]discoveryv1.EndpointPort, n)
		for i := range x.Ports {
			p := &x.Ports[i]
			flags := r.byte()
			if flags&portName != 0 {
				p.Name = new(r.string())
			}
			if flags&portProtocol != 0 {
				p.Protocol = new(corev1.Protocol(r.string()))
			}
			if flags&portNumber != 0 {
				p.Port = new(r.int32())
			}
		}
	}
	n := r.count(2)
	if n > 0 {
		x.Endpoints = make([]discoveryv1.Endpoint, n)
		// One Ready value an endpoint, one address string each for
		// those with one IPv4 address, in an allocation of each.
		ready := make([]bool, n)
		one := make([]string, n)
		for i := range x.Endpoints {
			e := &x.Endpoints[i]
			flags := r.byte()
			switch {
			case flags&epReadyTrue != 0:
				ready[i] = true
				e.Conditions.Ready = &ready[i]
			case flags&epReadyFalse != 0:
				e.Conditions.Ready = &ready[i]
			}
			if flags&epOneIPv4 != 0 {
				v := r.bytes(4)
				if r.err != nil {
					break
				}
				e.Addresses = one[i : i+1 : i+1]
				refs = append(refs, addrRef{&one[i], t.add(netip.AddrFrom4([4]byte{v[0], v[1], v[2], v[3]}))})
			} else if m := r.count(2); m > 0 {
				e.Addresses = make([]string, m)
				for j := range e.Addresses {
					refs = r.readAddr(&t, refs, &e.Addresses[j])
				}
			}
			if flags&epHostname != 0 {
				e.Hostname = new(r.string())
			}
		}
	}
	return r.finish(&t, refs)
}

// finish ends an unpack: an error if the bytes were malformed or not all
// read, else the addresses read are written to their strings.
func (r *reader) finish(t *addrs, refs []addrRef) error {
	if r.err == nil && r.i != len(r.s) {
		r.fail()
	}
	if r.err != nil {
		return r.err
	}
	setAddrs(t, refs)
	return nil
}

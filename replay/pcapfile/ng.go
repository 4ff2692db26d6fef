package pcapfile

import (
	"encoding/binary"
	"fmt"
	"io"
	"math/bits"
	"time"
)

// pcapng block types.
const (
	ngSectionHeader  = 0x0a0d0d0a
	ngInterface      = 1
	ngObsoletePacket = 2
	ngSimplePacket   = 3
	ngEnhancedPacket = 6
	ngByteOrderMagic = 0x1a2b3c4d
)

// Interface description options replay reads.
const (
	ngOptEnd      = 0
	ngOptTSResol  = 9
	ngOptTSOffset = 14
)

// ngMaxInterfaceBlock bounds the interface description blocks held whole
// (their options); packet blocks are read up to their data and the rest
// skipped.
const ngMaxInterfaceBlock = 64 << 10

// ngState is the current section's byte order and interfaces.
type ngState struct {
	order  binary.ByteOrder
	ifaces []ngIface
}

// ngIface is one interface description: its link type, snap length and
// timestamp unit (ticks per second, and the seconds offset to add).
type ngIface struct {
	link    LinkType
	snaplen uint32
	perSec  uint64
	offset  int64
}

// ngOpen reads the first section header block.
func (r *Reader) ngOpen() error {
	typ, length, err := r.ngBlockHeader()
	if err != nil {
		return err
	}
	if typ != ngSectionHeader {
		return fmt.Errorf("first block of type %d, not a section header", typ)
	}
	return r.ngSection(length)
}

// ngBlockHeader reads a block's type and total length. A section header
// block sets the byte order from its byte-order magic, which follows.
func (r *Reader) ngBlockHeader() (typ, length uint32, err error) {
	h := r.hdr[:8]
	if _, err := io.ReadFull(r.r, h); err != nil {
		if err == io.EOF {
			return 0, 0, io.EOF
		}
		return 0, 0, eof(err)
	}
	if binary.LittleEndian.Uint32(h[:]) == ngSectionHeader { // a palindrome
		m, err := r.r.Peek(4)
		if err != nil {
			return 0, 0, eof(err)
		}
		switch {
		case binary.LittleEndian.Uint32(m) == ngByteOrderMagic:
			r.ng.order = binary.LittleEndian
		case binary.BigEndian.Uint32(m) == ngByteOrderMagic:
			r.ng.order = binary.BigEndian
		default:
			return 0, 0, fmt.Errorf("section header without its byte-order magic")
		}
	}
	typ, length = r.ng.order.Uint32(h[:]), r.ng.order.Uint32(h[4:])
	need := uint32(12)
	switch typ {
	case ngSectionHeader:
		need = 28
	case ngEnhancedPacket, ngObsoletePacket:
		need = 32
	case ngSimplePacket:
		need = 16
	case ngInterface:
		need = 20
	}
	if length < need {
		return 0, 0, fmt.Errorf("block of type %d is %d bytes long, shorter than its header", typ, length)
	}
	return typ, length, nil
}

// ngSection reads the rest of a section header block of the given total
// length and starts a section: no interfaces yet.
func (r *Reader) ngSection(length uint32) error {
	b := r.hdr[:8] // byte-order magic, major, minor
	if _, err := io.ReadFull(r.r, b); err != nil {
		return eof(err)
	}
	if v := r.ng.order.Uint16(b[4:]); v != 1 {
		return fmt.Errorf("section of major version %d", v)
	}
	r.ng.ifaces = r.ng.ifaces[:0]
	return r.skip(int64(length) - 16)
}

// ngInterface reads an interface description block of the given length.
func (r *Reader) ngInterface(length uint32) error {
	if length > ngMaxInterfaceBlock {
		return fmt.Errorf("interface block of %d bytes", length)
	}
	body, err := r.read(int(length) - 8)
	if err != nil {
		return err
	}
	o := r.ng.order
	ifc := ngIface{link: LinkType(o.Uint16(body)), snaplen: o.Uint32(body[4:]), perSec: 1e6}
	for opts := body[8 : len(body)-4]; len(opts) >= 4; {
		code, n := o.Uint16(opts), int(o.Uint16(opts[2:]))
		if 4+n > len(opts) {
			return fmt.Errorf("malformed block: interface option %d of %d bytes in %d", code, n, len(opts)-4)
		}
		v := opts[4 : 4+n]
		switch code {
		case ngOptEnd:
			opts = nil
			continue
		case ngOptTSResol:
			if n < 1 {
				return fmt.Errorf("malformed block: empty if_tsresol")
			}
			e := uint(v[0] & 0x7f)
			switch {
			case v[0]&0x80 != 0 && e < 64:
				ifc.perSec = 1 << e
			case v[0]&0x80 == 0 && e <= 19:
				ifc.perSec = 1
				for range e {
					ifc.perSec *= 10
				}
			default:
				return fmt.Errorf("malformed block: if_tsresol %#x out of range", v[0])
			}
		case ngOptTSOffset:
			if n < 8 {
				return fmt.Errorf("malformed block: if_tsoffset of %d bytes", n)
			}
			ifc.offset = int64(o.Uint64(v))
		}
		opts = opts[min(4+(n+3)&^3, len(opts)):]
	}
	r.ng.ifaces = append(r.ng.ifaces, ifc)
	return nil
}

// ngNext reads blocks until a packet's.
func (r *Reader) ngNext() (Frame, error) {
	for {
		typ, length, err := r.ngBlockHeader()
		if err == io.EOF {
			return Frame{}, io.EOF
		}
		if err != nil {
			return Frame{}, fmt.Errorf("pcapng: %w", err)
		}
		switch typ {
		case ngSectionHeader:
			err = r.ngSection(length)
		case ngInterface:
			err = r.ngInterface(length)
		case ngEnhancedPacket, ngObsoletePacket, ngSimplePacket:
			f, err := r.ngPacket(typ, length)
			if err != nil {
				return Frame{}, fmt.Errorf("pcapng: %w", err)
			}
			return f, nil
		default:
			err = r.skip(int64(length) - 8)
		}
		if err != nil {
			return Frame{}, fmt.Errorf("pcapng: %w", err)
		}
	}
}

// ngPacket reads a packet block of the given type and total length.
func (r *Reader) ngPacket(typ, length uint32) (Frame, error) {
	o := r.ng.order
	fixed := 20
	if typ == ngSimplePacket {
		fixed = 4
	}
	h := r.hdr[:fixed]
	if _, err := io.ReadFull(r.r, h); err != nil {
		return Frame{}, eof(err)
	}
	var id int
	var ts uint64
	var capLen uint32
	switch typ {
	case ngEnhancedPacket:
		id = int(o.Uint32(h[0:]))
		ts = uint64(o.Uint32(h[4:]))<<32 | uint64(o.Uint32(h[8:]))
		capLen = o.Uint32(h[12:])
	case ngObsoletePacket:
		id = int(o.Uint16(h[0:]))
		ts = uint64(o.Uint32(h[4:]))<<32 | uint64(o.Uint32(h[8:]))
		capLen = o.Uint32(h[12:])
	case ngSimplePacket:
		capLen = min(o.Uint32(h[0:]), length-16)
	}
	if id >= len(r.ng.ifaces) {
		return Frame{}, fmt.Errorf("packet of interface %d, which the section does not describe", id)
	}
	ifc := r.ng.ifaces[id]
	if typ == ngSimplePacket && ifc.snaplen > 0 {
		capLen = min(capLen, ifc.snaplen)
	}
	if typ != ngSimplePacket && capLen > length-32 {
		return Frame{}, fmt.Errorf("packet of %d captured bytes in a block of %d", capLen, length)
	}
	if capLen > uint32(r.maxFrame) {
		return Frame{}, fmt.Errorf("packet of %d captured bytes, more than %d", capLen, r.maxFrame)
	}
	data, err := r.read(int(capLen))
	if err != nil {
		return Frame{}, err
	}
	if err := r.skip(int64(length) - 8 - int64(fixed) - int64(capLen)); err != nil {
		return Frame{}, err
	}
	f := Frame{Data: data, LinkType: ifc.link}
	if typ != ngSimplePacket {
		f.Time = ifc.time(ts)
	}
	return f, nil
}

// time converts a timestamp in the interface's units to UTC time.
func (ifc ngIface) time(ts uint64) time.Time {
	sec := ts / ifc.perSec
	hi, lo := bits.Mul64(ts%ifc.perSec, 1e9)
	ns, _ := bits.Div64(hi, lo, ifc.perSec) // hi < perSec: ts%perSec < perSec
	return time.Unix(int64(sec)+ifc.offset, int64(ns)).UTC()
}

// skip discards n bytes of the current block.
func (r *Reader) skip(n int64) error {
	if n < 0 {
		return fmt.Errorf("block shorter than its contents")
	}
	if _, err := r.r.Discard(int(min(n, 1<<31))); err != nil {
		return eof(err)
	}
	if n > 1<<31 {
		return r.skip(n - 1<<31)
	}
	return nil
}

package pcapfile

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"time"
)

// LinkType is a capture's LINKTYPE_ value (the 16 bits pcap and pcapng
// give it; pcap's upper bits, FCS information, are dropped).
type LinkType uint32

// Link types replay understands.
const (
	LinkTypeNull      LinkType = 0
	LinkTypeEthernet  LinkType = 1
	LinkTypeRaw       LinkType = 101
	LinkTypeLoop      LinkType = 108
	LinkTypeLinuxSLL  LinkType = 113
	LinkTypeIPv4      LinkType = 228
	LinkTypeIPv6      LinkType = 229
	LinkTypeLinuxSLL2 LinkType = 276
)

// Frame is one captured frame. Data is valid until the next call of
// Reader.Next.
type Frame struct {
	Data     []byte
	Time     time.Time // UTC
	LinkType LinkType
}

// Reader reads the frames of a pcap or pcapng capture.
type Reader struct {
	r        *bufio.Reader
	maxFrame int
	buf      []byte
	hdr      [24]byte // headers are read here: a local array would escape to the heap
	next     func() (Frame, error)

	// pcap
	order    binary.ByteOrder
	nsFactor int64
	snaplen  uint32
	link     LinkType

	ng ngState
}

// NewReader reads the capture's header from r and returns a reader of its
// frames; frames longer than maxFrame bytes are an error.
func NewReader(r io.Reader, maxFrame int) (*Reader, error) {
	rd := &Reader{r: bufio.NewReaderSize(r, 1<<16), maxFrame: maxFrame}
	magic, err := rd.r.Peek(4)
	if err != nil {
		return nil, fmt.Errorf("reading capture header: %w", eof(err))
	}
	if binary.LittleEndian.Uint32(magic) == ngSectionHeader {
		if err := rd.ngOpen(); err != nil {
			return nil, fmt.Errorf("pcapng: %w", err)
		}
		rd.next = rd.ngNext
		return rd, nil
	}
	if err := rd.pcapOpen(); err != nil {
		return nil, fmt.Errorf("pcap: %w", err)
	}
	rd.next = rd.pcapNext
	return rd, nil
}

// Next returns the next frame, or io.EOF after the last.
func (r *Reader) Next() (Frame, error) { return r.next() }

// pcap file magics (the little-endian reading of the first four bytes).
const (
	pcapMicros   = 0xa1b2c3d4
	pcapNanos    = 0xa1b23c4d
	pcapMicrosBE = 0xd4c3b2a1
	pcapNanosBE  = 0x4d3cb2a1
)

func (r *Reader) pcapOpen() error {
	h := r.hdr[:24]
	if _, err := io.ReadFull(r.r, h); err != nil {
		return fmt.Errorf("reading the file header: %w", eof(err))
	}
	switch binary.LittleEndian.Uint32(h[:]) {
	case pcapMicros:
		r.order, r.nsFactor = binary.LittleEndian, 1000
	case pcapNanos:
		r.order, r.nsFactor = binary.LittleEndian, 1
	case pcapMicrosBE:
		r.order, r.nsFactor = binary.BigEndian, 1000
	case pcapNanosBE:
		r.order, r.nsFactor = binary.BigEndian, 1
	default:
		return fmt.Errorf("unknown magic %x", h[:4])
	}
	if v := r.order.Uint16(h[4:]); v != 2 {
		return fmt.Errorf("unknown major version %d", v)
	}
	if v := r.order.Uint16(h[6:]); v != 4 {
		return fmt.Errorf("unknown minor version %d", v)
	}
	r.snaplen = min(r.order.Uint32(h[16:]), uint32(r.maxFrame))
	r.link = LinkType(r.order.Uint32(h[20:]) & 0x0fffffff)
	return nil
}

func (r *Reader) pcapNext() (Frame, error) {
	h := r.hdr[:16]
	if _, err := io.ReadFull(r.r, h); err != nil {
		if err == io.EOF {
			return Frame{}, io.EOF
		}
		return Frame{}, fmt.Errorf("pcap: reading a record header: %w", eof(err))
	}
	capLen, origLen := r.order.Uint32(h[8:]), r.order.Uint32(h[12:])
	if capLen > r.snaplen {
		return Frame{}, fmt.Errorf("pcap: capture length exceeds snap length: %d > %d", capLen, r.snaplen)
	}
	if capLen > origLen {
		return Frame{}, fmt.Errorf("pcap: capture length exceeds original packet length: %d > %d", capLen, origLen)
	}
	data, err := r.read(int(capLen))
	if err != nil {
		return Frame{}, fmt.Errorf("pcap: reading a packet: %w", err)
	}
	sec, frac := int64(r.order.Uint32(h[0:])), int64(r.order.Uint32(h[4:]))
	return Frame{Data: data, Time: time.Unix(sec, frac*r.nsFactor).UTC(), LinkType: r.link}, nil
}

// read reads n bytes (n <= maxFrame, checked by the caller) into the
// reader's buffer.
func (r *Reader) read(n int) ([]byte, error) {
	if cap(r.buf) < n {
		r.buf = make([]byte, n)
	}
	b := r.buf[:n]
	if _, err := io.ReadFull(r.r, b); err != nil {
		return nil, eof(err)
	}
	return b, nil
}

// eof turns a clean io.EOF in the middle of a structure into
// io.ErrUnexpectedEOF.
func eof(err error) error {
	if errors.Is(err, io.EOF) {
		return io.ErrUnexpectedEOF
	}
	return err
}

package pcapfile

import (
	"encoding/binary"
	"fmt"
	"io"
	"time"
)

// Writer writes a little-endian pcap with nanosecond timestamps.
type Writer struct {
	w       io.Writer
	snaplen uint32
	hdr     [16]byte
}

// NewWriter writes the file header (snap length and link type) to w.
func NewWriter(w io.Writer, snaplen uint32, link LinkType) (*Writer, error) {
	var h [24]byte
	binary.LittleEndian.PutUint32(h[0:], pcapNanos)
	binary.LittleEndian.PutUint16(h[4:], 2)
	binary.LittleEndian.PutUint16(h[6:], 4)
	binary.LittleEndian.PutUint32(h[16:], snaplen)
	binary.LittleEndian.PutUint32(h[20:], uint32(link))
	if _, err := w.Write(h[:]); err != nil {
		return nil, err
	}
	return &Writer{w: w, snaplen: snaplen}, nil
}

// Write writes one whole packet captured at t (zero: no time, written as 0).
func (w *Writer) Write(t time.Time, data []byte) error {
	if uint64(len(data)) > uint64(w.snaplen) {
		return fmt.Errorf("pcapfile: packet of %d bytes, snap length %d", len(data), w.snaplen)
	}
	var sec, ns uint32 // a frame without a time (pcapng's simple packets) gets 0
	if !t.IsZero() {
		sec, ns = uint32(t.Unix()), uint32(t.Nanosecond())
	}
	binary.LittleEndian.PutUint32(w.hdr[0:], sec)
	binary.LittleEndian.PutUint32(w.hdr[4:], ns)
	binary.LittleEndian.PutUint32(w.hdr[8:], uint32(len(data)))
	binary.LittleEndian.PutUint32(w.hdr[12:], uint32(len(data)))
	if _, err := w.w.Write(w.hdr[:]); err != nil {
		return err
	}
	_, err := w.w.Write(data)
	return err
}

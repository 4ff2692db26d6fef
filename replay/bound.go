package replay

import (
	"encoding/binary"
	"fmt"
	"io"
)

// maxFrame bounds the captured length of a frame replay reads: tcpdump's
// default snap length. Anything longer is no DNS packet, and a capture
// that claims more is refused before a buffer of that size is made.
const maxFrame = 262144

// pcapng block types whose captured length pcapgo allocates.
const (
	ngSectionHeader  = 0x0a0d0d0a
	ngObsoletePacket = 2
	ngSimplePacket   = 3
	ngEnhancedPacket = 6
)

// ngBound passes a pcapng stream through unchanged, and fails it at the
// first block whose lengths the reader would trust to size a buffer: a
// packet block claiming more captured bytes than the block holds or than
// maxFrame, or a block shorter than its own header. pcapgo's reader makes
// a buffer of the claimed size before it reads, so without this a few
// bytes of a hostile file cost gigabytes.
type ngBound struct {
	r    io.Reader
	be   bool     // the section's byte order
	hdr  [28]byte // the current block's header, as far as seen
	nhdr int
	left int64 // bytes of the current block after the header seen
	err  error
}

func (b *ngBound) Read(p []byte) (int, error) {
	if b.err != nil {
		return 0, b.err
	}
	n, err := b.r.Read(p)
	for i := 0; i < n; {
		if b.left > 0 {
			k := int(min(b.left, int64(n-i)))
			b.left -= int64(k)
			i += k
			continue
		}
		b.hdr[b.nhdr] = p[i]
		b.nhdr++
		i++
		if bad := b.header(); bad != nil {
			b.err = bad
			return i - 1, nil // not the byte that completes the bad header
		}
	}
	return n, err
}

// header looks at the block header seen so far; once it has what it
// needs it checks the block and sets left to the rest of the block.
func (b *ngBound) header() error {
	if b.nhdr < 12 {
		return nil
	}
	u32 := func(o int) uint32 {
		if b.be {
			return binary.BigEndian.Uint32(b.hdr[o:])
		}
		return binary.LittleEndian.Uint32(b.hdr[o:])
	}
	typ := binary.LittleEndian.Uint32(b.hdr[0:]) // the SHB type is a palindrome
	if typ == ngSectionHeader && b.nhdr == 12 {
		b.be = binary.BigEndian.Uint32(b.hdr[8:]) == 0x1a2b3c4d
	}
	typ = u32(0)
	length := u32(4)
	need := 12
	switch typ {
	case ngEnhancedPacket, ngObsoletePacket:
		need = 28
	}
	if b.nhdr < need {
		return nil
	}
	if length < uint32(need) {
		return fmt.Errorf("pcapng: block of type %d is %d bytes long, shorter than its header", typ, length)
	}
	var capLen uint32
	switch typ {
	case ngEnhancedPacket, ngObsoletePacket:
		capLen = u32(20)
		if capLen > length-32 {
			return fmt.Errorf("pcapng: packet of %d captured bytes in a block of %d", capLen, length)
		}
	case ngSimplePacket:
		capLen = u32(8)
	}
	if capLen > maxFrame {
		return fmt.Errorf("pcapng: packet of %d captured bytes, more than %d", capLen, maxFrame)
	}
	b.left, b.nhdr = int64(length)-int64(need), 0
	return nil
}

package replay

import (
	"fmt"

	"github.com/google/gopacket"
	"github.com/google/gopacket/pcapgo"
)

// pcapgo's pcapng reader (gopacket v1.1.19) panics on some malformed
// interface description blocks: it indexes option values without checking
// their length (if_tsoffset, if_tsresol, if_filter) and divides by a
// timestamp resolution that overflows to 0 (FuzzReplay found the last).
// ngBound refuses hostile block lengths before the reader sees them; what
// it cannot see, inside a block's options, is caught here, at the call
// into pcapgo, and becomes an error: a capture is input, and bad input
// gets an error, never a panic. The reader is not used after one.

// newNgReader is pcapgo.NewNgReader, with a panic turned into an error.
func newNgReader(r *ngBound) (ng *pcapgo.NgReader, err error) {
	defer func() {
		if p := recover(); p != nil {
			ng, err = nil, malformed(p)
		}
	}()
	return pcapgo.NewNgReader(r, pcapgo.NgReaderOptions{})
}

// safeNg is a pcapng reader whose panics are errors.
type safeNg struct{ ng *pcapgo.NgReader }

func (s safeNg) ReadPacketData() (data []byte, ci gopacket.CaptureInfo, err error) {
	defer func() {
		if p := recover(); p != nil {
			data, ci, err = nil, gopacket.CaptureInfo{}, malformed(p)
		}
	}()
	return s.ng.ReadPacketData()
}

func malformed(p any) error {
	return fmt.Errorf("malformed block (the pcapng reader failed: %v)", p)
}

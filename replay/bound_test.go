package replay_test

import (
	"bytes"
	"encoding/binary"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/meshdns/meshdns/replay"
)

// TestReplayHostileLengths: a capture whose packet lengths claim more than
// it holds (up to 4 GiB) is refused with an error, before any buffer of
// that size is made; the packets before it are still replayed.
func TestReplayHostileLengths(t *testing.T) {
	ng, err := os.ReadFile(filepath.Join("testdata", "dumpcap-eth0.pcapng"))
	if err != nil {
		t.Fatal(err)
	}
	pcap, err := os.ReadFile(filepath.Join("testdata", "tcpdump-eth0.pcap"))
	if err != nil {
		t.Fatal(err)
	}
	// The offset of the n-th enhanced packet block (type 6) of ng.
	epb := func(n int) int {
		for off := 0; off+8 <= len(ng); off += int(binary.LittleEndian.Uint32(ng[off+4:])) {
			if binary.LittleEndian.Uint32(ng[off:]) == 6 {
				if n == 0 {
					return off
				}
				n--
			}
		}
		t.Fatal("no such block")
		return 0
	}
	tests := []struct {
		name   string
		in     []byte
		err    string
		before int // packets read before the bad one
	}{
		{"pcapng captured length 4 GiB", func() []byte {
			b := bytes.Clone(ng)
			binary.LittleEndian.PutUint32(b[epb(3)+20:], 0xfffffff0)
			return b
		}(), "captured bytes in a block", 3},
		{"pcapng captured length past its block", func() []byte {
			b := bytes.Clone(ng)
			binary.LittleEndian.PutUint32(b[epb(0)+20:], binary.LittleEndian.Uint32(b[epb(0)+4:]))
			return b
		}(), "captured bytes in a block", 0},
		{"pcapng block shorter than its header", func() []byte {
			b := bytes.Clone(ng)
			binary.LittleEndian.PutUint32(b[epb(1)+4:], 16)
			return b
		}(), "shorter than its header", 1},
		{"pcap snap length and captured length 4 GiB", func() []byte {
			b := bytes.Clone(pcap)
			binary.LittleEndian.PutUint32(b[16:], 0xffffffff)
			binary.LittleEndian.PutUint32(b[24+8:], 0xfffffff0) // first record's incl_len
			return b
		}(), "exceeds snap length", 0},
	}
	e := engine(t)
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var out bytes.Buffer
			sum, err := replay.Run(replay.Config{Processor: e}, bytes.NewReader(tc.in), &out)
			if err == nil || !strings.Contains(err.Error(), tc.err) {
				t.Fatalf("err = %v, want one saying %q", err, tc.err)
			}
			if sum.Read != tc.before {
				t.Errorf("read %d packets before the error, want %d", sum.Read, tc.before)
			}
		})
	}
}

// TestReplayMalformedInterfaceOptions: an interface description block
// with a binary timestamp resolution of 2^-64 (FuzzReplay found it when
// replay read with gopacket's pcapgo, which divided by zero on it) is
// refused with an error, not a panic, whether it is the capture's first
// interface or a later one.
func TestReplayMalformedInterfaceOptions(t *testing.T) {
	le := binary.LittleEndian
	block := func(typ uint32, body []byte) []byte {
		for len(body)%4 != 0 {
			body = append(body, 0)
		}
		n := uint32(12 + len(body))
		b := le.AppendUint32(le.AppendUint32(nil, typ), n)
		return le.AppendUint32(append(b, body...), n)
	}
	shb := block(0x0a0d0d0a, []byte{0x4d, 0x3c, 0x2b, 0x1a, 1, 0, 0, 0, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff})
	idb := func(code uint16, val []byte) []byte {
		body := le.AppendUint32(le.AppendUint16(le.AppendUint16(nil, 101), 0), 65535) // raw IP, snaplen
		body = le.AppendUint16(le.AppendUint16(body, code), uint16(len(val)))
		body = append(body, val...)
		for len(body)%4 != 0 {
			body = append(body, 0)
		}
		return block(1, le.AppendUint32(body, 0)) // end of options
	}
	good := idb(9, []byte{6}) // microseconds
	for _, tt := range []struct {
		name string
		in   []byte
	}{
		{"tsresol 2^-64 first", append(append([]byte(nil), shb...), idb(9, []byte{0xc0})...)},
		{"tsresol 2^-64 second", append(append(append([]byte(nil), shb...), good...), idb(9, []byte{0xc0})...)},
	} {
		var out bytes.Buffer
		_, err := replay.Run(replay.Config{Processor: engine(t)}, bytes.NewReader(tt.in), &out)
		if err == nil || !strings.Contains(err.Error(), "malformed block") {
			t.Errorf("%s: %v, want a malformed block error", tt.name, err)
		}
	}
}

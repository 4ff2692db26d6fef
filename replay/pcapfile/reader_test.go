package pcapfile_test

import (
	"bytes"
	"encoding/binary"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/gopacket"
	"github.com/google/gopacket/pcapgo"

	"github.com/meshdns/meshdns/replay/pcapfile"
)

const maxFrame = 262144

// readAll reads every frame of a capture with pcapfile.
func readAll(t testing.TB, b []byte) []pcapfile.Frame {
	t.Helper()
	r, err := pcapfile.NewReader(bytes.NewReader(b), maxFrame)
	if err != nil {
		t.Fatal(err)
	}
	var out []pcapfile.Frame
	for {
		f, err := r.Next()
		if err == io.EOF {
			return out
		}
		if err != nil {
			t.Fatalf("frame %d: %v", len(out)+1, err)
		}
		f.Data = bytes.Clone(f.Data)
		out = append(out, f)
	}
}

// TestReaderAgainstPcapgo reads every capture of replay's testdata (real
// tcpdump and dumpcap captures, and generated ones) with pcapfile and with
// gopacket's pcapgo, the reference: the same frames, times and link types.
func TestReaderAgainstPcapgo(t *testing.T) {
	files, _ := filepath.Glob("../testdata/*.pcap*")
	if len(files) < 5 {
		t.Fatalf("only %d captures in ../testdata", len(files))
	}
	for _, file := range files {
		t.Run(filepath.Base(file), func(t *testing.T) {
			b, err := os.ReadFile(file)
			if err != nil {
				t.Fatal(err)
			}
			got := readAll(t, b)
			type ref struct {
				data []byte
				ci   gopacket.CaptureInfo
				link uint8
			}
			var want []ref
			if strings.HasSuffix(file, ".pcapng") {
				ng, err := pcapgo.NewNgReader(bytes.NewReader(b), pcapgo.NgReaderOptions{})
				if err != nil {
					t.Fatal(err)
				}
				for {
					d, ci, err := ng.ReadPacketData()
					if err == io.EOF {
						break
					}
					if err != nil {
						t.Fatal(err)
					}
					ifc, err := ng.Interface(ci.InterfaceIndex)
					if err != nil {
						t.Fatal(err)
					}
					want = append(want, ref{d, ci, uint8(ifc.LinkType)})
				}
			} else {
				pr, err := pcapgo.NewReader(bytes.NewReader(b))
				if err != nil {
					t.Fatal(err)
				}
				for {
					d, ci, err := pr.ReadPacketData()
					if err == io.EOF {
						break
					}
					if err != nil {
						t.Fatal(err)
					}
					want = append(want, ref{d, ci, uint8(pr.LinkType())})
				}
			}
			if len(got) != len(want) || len(got) == 0 {
				t.Fatalf("%d frames, pcapgo reads %d", len(got), len(want))
			}
			for i := range got {
				// pcapgo keeps 8 bits of the link type (LINKTYPE_LINUX_SLL2, 276, is 20 there).
				if !bytes.Equal(got[i].Data, want[i].data) || !got[i].Time.Equal(want[i].ci.Timestamp) || uint8(got[i].LinkType) != want[i].link {
					t.Fatalf("frame %d: %d bytes at %v link %d, pcapgo: %d bytes at %v link %d", i+1,
						len(got[i].Data), got[i].Time, got[i].LinkType, len(want[i].data), want[i].ci.Timestamp, want[i].link)
				}
			}
		})
	}
}

// ng builds pcapng blocks in a byte order.
type ng struct {
	o interface {
		binary.ByteOrder
		binary.AppendByteOrder
	}
}

func (n ng) block(typ uint32, body []byte) []byte {
	for len(body)%4 != 0 {
		body = append(body, 0)
	}
	l := uint32(12 + len(body))
	b := n.o.AppendUint32(n.o.AppendUint32(nil, typ), l)
	return n.o.AppendUint32(append(b, body...), l)
}

func (n ng) shb() []byte {
	body := n.o.AppendUint32(nil, 0x1a2b3c4d)
	body = n.o.AppendUint16(n.o.AppendUint16(body, 1), 0)
	return n.block(0x0a0d0d0a, n.o.AppendUint64(body, ^uint64(0)))
}

// idb is an interface description block with options (code, value).
func (n ng) idb(link uint16, snaplen uint32, opts ...[]byte) []byte {
	body := n.o.AppendUint32(n.o.AppendUint16(n.o.AppendUint16(nil, link), 0), snaplen)
	for i := 0; i+1 < len(opts); i += 2 {
		body = n.o.AppendUint16(n.o.AppendUint16(body, binary.BigEndian.Uint16(opts[i])), uint16(len(opts[i+1])))
		body = append(body, opts[i+1]...)
		for len(body)%4 != 0 {
			body = append(body, 0)
		}
	}
	return n.block(1, n.o.AppendUint32(body, 0))
}

func (n ng) epb(iface uint32, ts uint64, data []byte) []byte {
	body := n.o.AppendUint32(nil, iface)
	body = n.o.AppendUint32(n.o.AppendUint32(body, uint32(ts>>32)), uint32(ts))
	body = n.o.AppendUint32(n.o.AppendUint32(body, uint32(len(data))), uint32(len(data)))
	return n.block(6, append(body, data...))
}

func (n ng) spb(orig uint32, data []byte) []byte {
	return n.block(3, append(n.o.AppendUint32(nil, orig), data...))
}

func code(c uint16) []byte { return binary.BigEndian.AppendUint16(nil, c) }

func cat(parts ...[]byte) []byte { return bytes.Join(parts, nil) }

// TestReaderPcapng: what the format allows that the real captures do not
// show: both byte orders, several sections, timestamp resolutions and
// offsets, simple packet blocks, blocks to skip.
func TestReaderPcapng(t *testing.T) {
	le, be := ng{binary.LittleEndian}, ng{binary.BigEndian}
	pkt := []byte{0x45, 1, 2, 3, 4}
	tests := []struct {
		name string
		in   []byte
		want []pcapfile.Frame
	}{
		{"default microseconds, little-endian", cat(le.shb(), le.idb(101, 0), le.epb(0, 1_500_000, pkt)),
			[]pcapfile.Frame{{Data: pkt, Time: time.Unix(1, 500_000_000), LinkType: 101}}},
		{"nanoseconds, big-endian", cat(be.shb(), be.idb(1, 0, code(9), []byte{9}), be.epb(0, 2_000_000_007, pkt)),
			[]pcapfile.Frame{{Data: pkt, Time: time.Unix(2, 7), LinkType: 1}}},
		{"2^-10 with an offset of 100 s", cat(le.shb(), le.idb(113, 0, code(9), []byte{0x8a}, code(14), le.o.AppendUint64(nil, 100)), le.epb(0, 1024+512, pkt)),
			[]pcapfile.Frame{{Data: pkt, Time: time.Unix(101, 500_000_000), LinkType: 113}}},
		{"10^-19 (the finest that fits)", cat(le.shb(), le.idb(101, 0, code(9), []byte{19}), le.epb(0, 3e18, pkt)),
			[]pcapfile.Frame{{Data: pkt, Time: time.Unix(0, 300_000_000), LinkType: 101}}},
		{"second interface, unknown block skipped", cat(le.shb(), le.idb(1, 0), le.idb(276, 0), le.block(0x0bad, []byte("x")), le.epb(1, 0, pkt)),
			[]pcapfile.Frame{{Data: pkt, Time: time.Unix(0, 0), LinkType: 276}}},
		{"simple packet cut to the snap length", cat(le.shb(), le.idb(101, 3), le.spb(5, pkt)),
			[]pcapfile.Frame{{Data: pkt[:3], LinkType: 101}}},
		{"a new section in the other byte order", cat(le.shb(), le.idb(1, 0), le.epb(0, 0, pkt), be.shb(), be.idb(101, 0), be.epb(0, 1e6, pkt)),
			[]pcapfile.Frame{{Data: pkt, Time: time.Unix(0, 0), LinkType: 1}, {Data: pkt, Time: time.Unix(1, 0), LinkType: 101}}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := readAll(t, tc.in)
			if len(got) != len(tc.want) {
				t.Fatalf("%d frames, want %d", len(got), len(tc.want))
			}
			for i, w := range tc.want {
				g := got[i]
				if !bytes.Equal(g.Data, w.Data) || g.LinkType != w.LinkType || !g.Time.Equal(w.Time) || g.Time.IsZero() != w.Time.IsZero() {
					t.Errorf("frame %d: %x link %d at %v, want %x link %d at %v", i, g.Data, g.LinkType, g.Time, w.Data, w.LinkType, w.Time)
				}
			}
		})
	}
}

// TestReaderErrors: malformed and hostile captures are errors (never a
// panic, never a buffer of the size a file claims), and the frames before
// the bad one are read.
func TestReaderErrors(t *testing.T) {
	le := ng{binary.LittleEndian}
	pkt := []byte{0x45, 1, 2, 3}
	pcapHdr := func(magic uint32, major uint16, snap uint32) []byte {
		b := binary.LittleEndian.AppendUint32(nil, magic)
		b = binary.LittleEndian.AppendUint16(binary.LittleEndian.AppendUint16(b, major), 4)
		b = binary.LittleEndian.AppendUint32(binary.LittleEndian.AppendUint32(b, 0), 0)
		return binary.LittleEndian.AppendUint32(binary.LittleEndian.AppendUint32(b, snap), 101)
	}
	record := func(capLen, orig uint32, data []byte) []byte {
		b := binary.LittleEndian.AppendUint32(binary.LittleEndian.AppendUint32(nil, 1), 0)
		b = binary.LittleEndian.AppendUint32(binary.LittleEndian.AppendUint32(b, capLen), orig)
		return append(b, data...)
	}
	hugeEPB := le.epb(0, 0, pkt)
	binary.LittleEndian.PutUint32(hugeEPB[20:], 0xfffffff0)
	tests := []struct {
		name   string
		in     []byte
		open   bool // the error comes from NewReader
		err    string
		before int
	}{
		{"empty", nil, true, "unexpected EOF", 0},
		{"unknown magic", pcapHdr(0x12345678, 2, 65535), true, "unknown magic", 0},
		{"pcap version 3", pcapHdr(0xa1b2c3d4, 3, 65535), true, "major version 3", 0},
		{"pcap header cut", pcapHdr(0xa1b2c3d4, 2, 65535)[:20], true, "unexpected EOF", 0},
		{"pcap record past the snap length", cat(pcapHdr(0xa1b2c3d4, 2, 65535), record(4, 4, pkt), record(70000, 70000, nil)), false, "exceeds snap length", 1},
		{"pcap snap length of 4 GiB is the reader's", cat(pcapHdr(0xa1b2c3d4, 2, 0xffffffff), record(0xfffffff0, 0xfffffff0, nil)), false, "exceeds snap length: 4294967280 > 262144", 0},
		{"pcap captured more than sent", cat(pcapHdr(0xa1b2c3d4, 2, 65535), record(4, 3, pkt)), false, "exceeds original", 0},
		{"pcap record cut", cat(pcapHdr(0xa1b2c3d4, 2, 65535), record(4, 4, pkt[:2])), false, "unexpected EOF", 0},
		{"pcapng without byte-order magic", cat(le.block(0x0a0d0d0a, make([]byte, 16))), true, "byte-order magic", 0},
		{"not pcapng, and not pcap", cat(le.idb(1, 0)), true, "unknown magic", 0},
		{"pcapng packet before its interface", cat(le.shb(), le.epb(0, 0, pkt)), false, "does not describe", 0},
		{"pcapng captured length 4 GiB", cat(le.shb(), le.idb(101, 0), le.epb(0, 0, pkt), hugeEPB), false, "captured bytes in a block", 1},
		{"pcapng block shorter than its header", cat(le.shb(), le.idb(101, 0), le.o.AppendUint32(le.o.AppendUint32(nil, 6), 16)), false, "shorter than its header", 0},
		{"pcapng tsresol 2^-64", cat(le.shb(), le.idb(101, 0, code(9), []byte{0xc0})), false, "malformed block", 0},
		{"pcapng tsresol 10^-20", cat(le.shb(), le.idb(101, 0, code(9), []byte{20})), false, "malformed block", 0},
		{"pcapng tsoffset of 4 bytes", cat(le.shb(), le.idb(101, 0, code(14), []byte{1, 2, 3, 4})), false, "malformed block", 0},
		{"pcapng option past its block", cat(le.shb(), func() []byte {
			b := le.idb(101, 0, code(2), []byte("eth0"))
			binary.LittleEndian.PutUint16(b[16+2:], 4000) // the first option's length
			return b
		}()), false, "malformed block", 0},
		{"pcapng interface block of 1 MiB", cat(le.shb(), le.block(1, make([]byte, 1<<20))), false, "interface block of", 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r, err := pcapfile.NewReader(bytes.NewReader(tc.in), maxFrame)
			n := 0
			for err == nil {
				if _, err = r.Next(); err == nil {
					n++
				}
			}
			if (r == nil) != tc.open || errors.Is(err, io.EOF) || !strings.Contains(err.Error(), tc.err) {
				t.Fatalf("err = %v (on open: %v), want one saying %q (on open: %v)", err, r == nil, tc.err, tc.open)
			}
			if n != tc.before {
				t.Errorf("%d frames read before the error, want %d", n, tc.before)
			}
		})
	}
}

// TestWriterRoundTrip: what the writer writes reads back the same, in the
// format pcapgo's nanosecond writer makes (the golden outputs of replay
// were written by it).
func TestWriterRoundTrip(t *testing.T) {
	frames := []pcapfile.Frame{
		{Data: []byte{0x45, 0, 0, 20}, Time: time.Unix(1767225600, 123456789).UTC()},
		{Data: []byte{0x60, 0, 0, 0, 0, 8}, Time: time.Unix(1767225601, 0).UTC()},
	}
	var ours, theirs bytes.Buffer
	w, err := pcapfile.NewWriter(&ours, 65535, pcapfile.LinkTypeRaw)
	if err != nil {
		t.Fatal(err)
	}
	pw := pcapgo.NewWriterNanos(&theirs)
	if err := pw.WriteFileHeader(65535, 101); err != nil {
		t.Fatal(err)
	}
	for _, f := range frames {
		if err := w.Write(f.Time, f.Data); err != nil {
			t.Fatal(err)
		}
		if err := pw.WritePacket(gopacket.CaptureInfo{Timestamp: f.Time, CaptureLength: len(f.Data), Length: len(f.Data)}, f.Data); err != nil {
			t.Fatal(err)
		}
	}
	if !bytes.Equal(ours.Bytes(), theirs.Bytes()) {
		t.Fatalf("written:\n%x\npcapgo writes:\n%x", ours.Bytes(), theirs.Bytes())
	}
	got := readAll(t, ours.Bytes())
	for i, f := range frames {
		if !bytes.Equal(got[i].Data, f.Data) || !got[i].Time.Equal(f.Time) || got[i].LinkType != pcapfile.LinkTypeRaw {
			t.Errorf("frame %d read back as %+v", i, got[i])
		}
	}
	if err := w.Write(time.Time{}, make([]byte, 65536)); err == nil {
		t.Error("a packet past the snap length was written")
	}
}

// TestReaderAllocs: frames are read into the reader's one buffer.
func TestReaderAllocs(t *testing.T) {
	b, err := os.ReadFile("../testdata/dumpcap-eth0.pcapng")
	if err != nil {
		t.Fatal(err)
	}
	rd := bytes.NewReader(b)
	r, err := pcapfile.NewReader(rd, maxFrame)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := r.Next(); err != nil { // the first frame sizes the buffer
		t.Fatal(err)
	}
	allocs := testing.AllocsPerRun(20, func() {
		if _, err := r.Next(); err != nil && err != io.EOF {
			t.Fatal(err)
		}
	})
	if allocs > 0 {
		t.Errorf("%.1f allocations per frame, want 0", allocs)
	}
}

// FuzzReader: any input is read to an error or io.EOF without a panic,
// and no frame is longer than the reader's bound.
func FuzzReader(f *testing.F) {
	files, _ := filepath.Glob("../testdata/*.pcap*")
	for _, file := range files {
		if b, err := os.ReadFile(file); err == nil {
			f.Add(b)
		}
	}
	le := ng{binary.LittleEndian}
	f.Add(cat(le.shb(), le.idb(101, 0, code(9), []byte{0x8a}), le.spb(3, []byte{1, 2, 3})))
	f.Fuzz(func(t *testing.T, b []byte) {
		r, err := pcapfile.NewReader(bytes.NewReader(b), 4096)
		if err != nil {
			return
		}
		for range 10000 {
			fr, err := r.Next()
			if err != nil {
				return
			}
			if len(fr.Data) > 4096 {
				t.Fatalf("frame of %d bytes", len(fr.Data))
			}
		}
	})
}

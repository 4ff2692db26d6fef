package replay_test

import (
	"bytes"
	"encoding/json"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/gopacket"
	"github.com/google/gopacket/pcapgo"
	"github.com/meshdns/meshdns/dnsengine/enginetest"
	"github.com/meshdns/meshdns/replay"
	"github.com/miekg/dns"
)

// realCaptures are captures of a pod's DNS traffic taken by the real tools
// (internal/e2e's TestKernelReplayCapture with -update-captures: dig asking
// mesh and other names in a pod namespace, meshdns not running), with the
// IP header offset of their link type: tcpdump on the pod's eth0
// (Ethernet), tcpdump -i any (Linux cooked v2, and v1 with -y LINUX_SLL),
// dumpcap (pcapng, Ethernet). Outgoing packets carry the offloaded
// (partial) checksums a capture on the sending host records.
var realCaptures = []struct {
	file  string
	ipOff int
}{
	{"tcpdump-eth0.pcap", 14},
	{"tcpdump-any.pcap", 20},
	{"tcpdump-any-sll.pcap", 16},
	{"dumpcap-eth0.pcapng", 14},
}

// notMesh are the questions in the captures that meshdns passes to the
// cluster DNS; every other query must be answered.
var notMesh = map[string]bool{
	"search.default.svc.cluster.local. A": true, // ExternalName to an outside name
	"www.example.org. A":                  true,
	"example.net. AAAA":                   true,
}

// TestReplayRealCaptures replays each real capture: every query for a
// mesh name is answered (the query's ID and question, addresses and ports
// swapped, checksums that verify), nothing is refused for its checksum,
// and the answers equal the golden rendering (the same for every capture:
// they recorded the same queries).
func TestReplayRealCaptures(t *testing.T) {
	e := engine(t)
	for _, c := range realCaptures {
		t.Run(c.file, func(t *testing.T) {
			in, err := os.ReadFile(filepath.Join("testdata", c.file))
			if err != nil {
				t.Fatal(err)
			}
			var out bytes.Buffer
			sum, err := replay.Run(replay.Config{Processor: e}, bytes.NewReader(in), &out)
			if err != nil {
				t.Fatal(err)
			}
			queries := captureQueries(t, in, c.ipOff)
			if sum.Read != 2*len(queries) {
				t.Errorf("read %d, want %d: each query and the upstream's answer", sum.Read, 2*len(queries))
			}
			if sum.ChecksumRepaired == 0 {
				t.Error("no checksum repaired: the capture should hold offloaded checksums")
			}
			if n := sum.PassedBy["bad_checksum"]; n != 0 {
				t.Errorf("%d packets refused for their checksum", n)
			}
			responses := map[uint16]*dns.Msg{}
			for _, pkt := range frames(t, out.Bytes()) { // raw IP
				if err := enginetest.CheckTransport(pkt); err != nil {
					t.Errorf("response: %v", err)
				}
				r, err := enginetest.DecodeResponse(pkt)
				if err != nil {
					t.Fatal(err)
				}
				responses[r.Msg.Id] = r.Msg
			}
			mesh := 0
			for _, q := range queries {
				k := q.Question[0].Name + " " + dns.TypeToString[q.Question[0].Qtype]
				r := responses[q.Id]
				switch {
				case notMesh[k] && r != nil:
					t.Errorf("%s: answered, want passed to the cluster DNS", k)
				case notMesh[k]:
				case r == nil:
					t.Errorf("%s: mesh query not answered", k)
				case !r.Response || len(r.Question) != 1 || r.Question[0] != q.Question[0]:
					t.Errorf("%s: response %v does not answer it", k, r.Question)
				default:
					mesh++
				}
			}
			if mesh == 0 || sum.Written != mesh {
				t.Errorf("written %d, mesh queries answered %d", sum.Written, mesh)
			}
			js, _ := json.MarshalIndent(sum, "", "  ")
			golden(t, "real.summary.json", append(js, '\n'))
			golden(t, "real.out.txt", []byte(stripTimes(render(t, out.Bytes()))))
		})
	}
}

// captureQueries returns the DNS queries (to port 53) of a capture whose
// frames hold the IP packet at ipOff.
func captureQueries(t *testing.T, capture []byte, ipOff int) []*dns.Msg {
	t.Helper()
	var out []*dns.Msg
	for _, frame := range frames(t, capture) {
		ip := frame[ipOff:]
		hdr := int(ip[0]&0xf) * 4
		if ip[0]>>4 == 6 {
			hdr = 40
		}
		udp := ip[hdr:]
		if udp[2] != 0 || udp[3] != 53 {
			continue
		}
		m := new(dns.Msg)
		if err := m.Unpack(udp[8:]); err != nil {
			t.Fatal(err)
		}
		out = append(out, m)
	}
	return out
}

// frames returns the frames of a pcap or pcapng capture.
func frames(t *testing.T, capture []byte) [][]byte {
	t.Helper()
	var r interface {
		ReadPacketData() ([]byte, gopacket.CaptureInfo, error)
	}
	var err error
	if bytes.HasPrefix(capture, []byte{0x0a, 0x0d, 0x0d, 0x0a}) {
		r, err = pcapgo.NewNgReader(bytes.NewReader(capture), pcapgo.DefaultNgReaderOptions)
	} else {
		r, err = pcapgo.NewReader(bytes.NewReader(capture))
	}
	if err != nil {
		t.Fatal(err)
	}
	var out [][]byte
	for {
		data, _, err := r.ReadPacketData()
		if err == io.EOF {
			return out
		}
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, data)
	}
}

// stripTimes drops the timestamps render prints, which differ between
// captures taken at the same time by different tools only in their
// precision.
func stripTimes(s string) string {
	var b strings.Builder
	for _, l := range strings.SplitAfter(s, "\n") {
		if len(l) > 13 && l[2] == ':' && l[5] == ':' && l[12] == ' ' {
			l = l[13:]
		}
		b.WriteString(l)
	}
	return b.String()
}

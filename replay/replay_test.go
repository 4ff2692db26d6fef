package replay_test

import (
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/gopacket"
	"github.com/google/gopacket/layers"
	"github.com/google/gopacket/pcapgo"
	"github.com/meshdns/meshdns/dnsengine"
	"github.com/meshdns/meshdns/replay"
	"github.com/meshdns/meshdns/replay/replaytest"
	"github.com/meshdns/meshdns/sync/model"
	"github.com/meshdns/meshdns/sync/objects"
	"github.com/miekg/dns"
)

var update = flag.Bool("update", false, "rewrite the generated captures and golden outputs in testdata")

func engine(t testing.TB) *dnsengine.Engine {
	t.Helper()
	objs, _, err := objects.Load("../examples/objects.yaml")
	if err != nil {
		t.Fatal(err)
	}
	opts := model.DefaultOptions()
	opts.Serial = 1
	tab, _, err := model.Build(objs, opts)
	if err != nil {
		t.Fatal(err)
	}
	cfg := dnsengine.DefaultConfig()
	cfg.Cache.Size = 0 // as meshdns replay runs it
	e, err := dnsengine.New(cfg, dnsengine.StaticRegistry{T: tab})
	if err != nil {
		t.Fatal(err)
	}
	return e
}

// golden compares got with testdata/name, or rewrites it with -update.
func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test ./replay -update to create it)", err)
	}
	if !bytes.Equal(got, want) {
		t.Fatalf("%s differs from the golden file (run go test ./replay -update after checking the change):\n%s", name, diffHint(got, want))
	}
}

func diffHint(got, want []byte) string {
	g, w := strings.Split(string(got), "\n"), strings.Split(string(want), "\n")
	for i := 0; i < len(g) && i < len(w); i++ {
		if g[i] != w[i] {
			return fmt.Sprintf("first difference at line %d:\n got %q\nwant %q", i+1, g[i], w[i])
		}
	}
	return fmt.Sprintf("lengths %d vs %d", len(got), len(want))
}

// TestGenerate: the captures in testdata are what the generator makes of
// the query list.
func TestGenerate(t *testing.T) {
	for _, c := range []struct{ file, format, link string }{
		{"queries.pcap", "pcap", "ethernet"},
		{"queries.pcapng", "pcapng", "raw"},
	} {
		list, err := os.Open("testdata/queries.txt")
		if err != nil {
			t.Fatal(err)
		}
		cfg := replaytest.DefaultGenerateConfig()
		cfg.Format, cfg.Link = c.format, c.link
		var buf bytes.Buffer
		n, err := replaytest.Generate(cfg, list, &buf)
		list.Close()
		if err != nil {
			t.Fatal(err)
		}
		if n != 26 {
			t.Fatalf("%s: %d packets generated, want 26", c.file, n)
		}
		golden(t, c.file, buf.Bytes())
	}
}

// TestReplayGolden replays both captures: the same responses come out of
// each, equal to the golden capture, its readable rendering and summary.
func TestReplayGolden(t *testing.T) {
	e := engine(t)
	var outs [][]byte
	for _, in := range []string{"queries.pcap", "queries.pcapng"} {
		f, err := os.Open(filepath.Join("testdata", in))
		if err != nil {
			t.Fatal(err)
		}
		var out bytes.Buffer
		sum, err := replay.Run(replay.Config{Processor: e}, f, &out)
		f.Close()
		if err != nil {
			t.Fatal(err)
		}
		js, _ := json.MarshalIndent(sum, "", "  ")
		golden(t, "queries.summary.json", append(js, '\n'))
		outs = append(outs, out.Bytes())
	}
	if !bytes.Equal(outs[0], outs[1]) {
		t.Fatal("pcap and pcapng inputs gave different outputs")
	}
	golden(t, "queries.out.pcap", outs[0])
	golden(t, "queries.out.txt", []byte(render(t, outs[0])))
}

// render reads a capture back with gopacket and miekg/dns and prints one
// block per response; any packet that does not decode fails the test.
func render(t *testing.T, capture []byte) string {
	t.Helper()
	r, err := pcapgo.NewReader(bytes.NewReader(capture))
	if err != nil {
		t.Fatal(err)
	}
	if r.LinkType() != layers.LinkTypeRaw {
		t.Fatalf("link type %v", r.LinkType())
	}
	var b strings.Builder
	for i := 1; ; i++ {
		data, ci, err := r.ReadPacketData()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		first := layers.LayerTypeIPv4
		if data[0]>>4 == 6 {
			first = layers.LayerTypeIPv6
		}
		p := gopacket.NewPacket(data, first, gopacket.Default)
		if el := p.ErrorLayer(); el != nil {
			t.Fatalf("packet %d: %v", i, el.Error())
		}
		udp, ok := p.Layer(layers.LayerTypeUDP).(*layers.UDP)
		if !ok || p.Layer(layers.LayerTypeDNS) == nil {
			t.Fatalf("packet %d: no UDP/DNS layer", i)
		}
		m := new(dns.Msg)
		if err := m.Unpack(udp.Payload); err != nil {
			t.Fatalf("packet %d: %v", i, err)
		}
		net := p.NetworkLayer().NetworkFlow()
		fmt.Fprintf(&b, "%s %s:%d > %s:%d\n%s\n", ci.Timestamp.UTC().Format("15:04:05.000"),
			net.Src(), udp.SrcPort, net.Dst(), udp.DstPort, strings.TrimSpace(m.String()))
	}
	return b.String()
}

func FuzzReplay(f *testing.F) {
	for _, in := range []string{"queries.pcap", "queries.pcapng", "tcpdump-eth0.pcap", "tcpdump-any.pcap", "tcpdump-any-sll.pcap", "dumpcap-eth0.pcapng"} {
		b, err := os.ReadFile(filepath.Join("testdata", in))
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	e := engine(f)
	f.Fuzz(func(t *testing.T, in []byte) {
		var out bytes.Buffer
		sum, err := replay.Run(replay.Config{Processor: e}, bytes.NewReader(in), &out)
		if err == nil && sum.Read != sum.NotIP+sum.Answered+sum.NXDomain+sum.NoData+sum.Passed+sum.Dropped {
			t.Fatalf("summary does not add up: %+v", sum)
		}
		if sum.ChecksumRepaired > sum.Read-sum.NotIP {
			t.Fatalf("more checksums repaired than IP packets read: %+v", sum)
		}
	})
}

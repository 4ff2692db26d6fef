package e2e_test

import (
	"encoding/json"
	"flag"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/google/gopacket"
	"github.com/google/gopacket/layers"
	"github.com/google/gopacket/pcapgo"
	"github.com/meshdns/meshdns/internal/lookupout"
	"github.com/meshdns/meshdns/internal/podtest"
	"github.com/miekg/dns"
)

var updateCaptures = flag.Bool("update-captures", false,
	"copy the captures TestKernelReplayCapture takes to ../../replay/testdata (the fixtures of replay's TestReplayRealCaptures)")

// exampleObjects are the demo's objects; podtest's default upstream zone
// (upstream.ExampleZone) is made for them.
const exampleObjects = "../../examples/objects.yaml"

// replayQuery is one dig query of the capture test. mesh: meshdns answers
// it in the pod; otherwise it goes to the cluster DNS.
type replayQuery struct {
	args []string
	mesh bool
}

var replayQueries = []replayQuery{
	{[]string{"web.default.svc.cluster.local", "A"}, true},
	{[]string{"web.default.svc.cluster.local", "AAAA"}, true}, // NODATA
	{[]string{"api.shop.svc.cluster.local", "AAAA"}, true},
	{[]string{"db.shop.svc.cluster.local", "A"}, true}, // headless: two addresses, rotated by ID
	{[]string{"_postgres._tcp.db.shop.svc.cluster.local", "SRV"}, true},
	{[]string{"store.default.svc.cluster.local", "A"}, true}, // ExternalName to a held name: CNAME + A
	{[]string{"search.default.svc.cluster.local", "CNAME"}, true},
	{[]string{"nosuch.default.svc.cluster.local", "A"}, true}, // NXDOMAIN
	{[]string{"payments.example.com", "A"}, true},
	{[]string{"shop.internal.example.com", "A"}, true},
	{[]string{"@fd53::1", "api.shop.svc.cluster.local", "A"}, true}, // over IPv6
	{[]string{"search.default.svc.cluster.local", "A"}, false},      // ExternalName to an outside name
	{[]string{"www.example.org", "A"}, false},
	{[]string{"example.net", "AAAA"}, false},
}

// key identifies a query across the live run and the replays: transport
// family, lowercase name, type.
func (q replayQuery) key() string {
	fam := "4"
	if strings.HasPrefix(q.args[0], "@fd53:") {
		fam = "6"
	}
	n := len(q.args)
	return fam + " " + strings.ToLower(dns.Fqdn(q.args[n-2])) + " " + q.args[n-1]
}

// captures are what TestKernelReplayCapture records, with the tools and
// link types capture users meet: tcpdump on the pod's interface
// (Ethernet), tcpdump on "any" (Linux cooked, SLL2 by default and SLL with
// -y), dumpcap (Wireshark's capture engine: pcapng).
var captures = []struct {
	file string
	argv []string // {file} is replaced by the output path
	// ready is what the tool prints once its socket captures (filter
	// attached): tcpdump's "listening on" and dumpcap's "File:" (strace
	// shows both after SO_ATTACH_FILTER). dumpcap's "Capturing on" comes
	// before it opens the interface: a query sent then is not recorded.
	ready string
	link  layers.LinkType
}{
	{"tcpdump-eth0.pcap", []string{"tcpdump", "-Z", "root", "--immediate-mode", "-U", "-i", "eth0", "-w", "{file}", "udp port 53"}, "listening on", layers.LinkTypeEthernet},
	{"tcpdump-any.pcap", []string{"tcpdump", "-Z", "root", "--immediate-mode", "-U", "-i", "any", "-w", "{file}", "udp port 53"}, "listening on", layers.LinkType(276 & 0xff)},
	{"tcpdump-any-sll.pcap", []string{"tcpdump", "-Z", "root", "--immediate-mode", "-U", "-i", "any", "-y", "LINUX_SLL", "-w", "{file}", "udp port 53"}, "listening on", layers.LinkTypeLinuxSLL},
	{"dumpcap-eth0.pcapng", []string{"dumpcap", "-q", "-i", "eth0", "-f", "udp port 53", "-w", "{file}"}, "File: ", layers.LinkTypeEthernet},
}

// TestKernelReplayCapture: real captures of a pod's DNS traffic, taken by
// tcpdump and dumpcap while dig asks mesh and other names, replay to the
// answers the live meshdns gives to the same queries, record by record.
//
// The captures are taken with meshdns not running: while it runs, a mesh
// query is rewritten at mangle OUTPUT, before any capture point, and only
// its answer (on lo) is seen. So: capture first (the queries go to the
// cluster DNS, as meshdns's queue bypass does while it is down), then
// start meshdns and ask again for the live answers.
func TestKernelReplayCapture(t *testing.T) {
	p := podtest.Start(t, podtest.Config{Objects: exampleObjects, NoMeshdns: true})
	dir := t.TempDir()

	var running []*podtest.Process
	for _, c := range captures {
		argv := slices.Clone(c.argv)
		for i, a := range argv {
			argv[i] = strings.ReplaceAll(a, "{file}", filepath.Join(dir, c.file))
		}
		proc := p.StartTool(t, argv[0], argv[1:]...)
		if _, err := proc.WaitLog(30*time.Second, c.ready); err != nil {
			t.Fatal(err)
		}
		running = append(running, proc)
	}
	for _, q := range replayQueries {
		p.Dig(t, q.args...)
	}
	for i, c := range captures {
		stopCapture(t, running[i], filepath.Join(dir, c.file), 2*len(replayQueries))
	}

	p.StartMeshdns(t, exampleObjects, "--capture", "all")
	live := map[string]lookupout.Dig{}
	for _, q := range replayQueries {
		name := q.args[len(q.args)-2]
		before := p.UpstreamCount(name, 0)
		d := p.Dig(t, q.args...)
		if reached := p.UpstreamCount(name, 0) > before; reached == q.mesh || d.Flag("aa") != q.mesh {
			t.Errorf("%s: live: reached the upstream %v, aa %v; want the opposite of mesh=%v", q.key(), reached, d.Flag("aa"), q.mesh)
		}
		live[q.key()] = d
	}

	resolv := filepath.Join(dir, "resolv.conf")
	if err := os.WriteFile(resolv, []byte(podtest.DefaultResolvConf), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, c := range captures {
		t.Run(c.file, func(t *testing.T) {
			in := filepath.Join(dir, c.file)
			if lt := linkTypeOf(t, in); lt != c.link {
				t.Errorf("link type %d, want %d", lt, c.link)
			}
			out := filepath.Join(dir, c.file+".out.pcap")
			cmd := exec.Command(podtest.Binary(t), "replay", "--objects", exampleObjects, "--resolv-conf", resolv, "--json", in, out)
			js, err := cmd.Output()
			if err != nil {
				t.Fatalf("meshdns replay: %v\n%s", err, cmdStderr(err))
			}
			var sum struct {
				Read             int            `json:"read"`
				ChecksumRepaired int            `json:"checksum_repaired"`
				Answered         int            `json:"answered"`
				NXDomain         int            `json:"nxdomain"`
				NoData           int            `json:"nodata"`
				Passed           int            `json:"passed"`
				PassedBy         map[string]int `json:"passed_by"`
				Written          int            `json:"written"`
			}
			if err := json.Unmarshal(js, &sum); err != nil {
				t.Fatalf("%v: %s", err, js)
			}
			t.Logf("summary: %s", js)
			// Every query and every answer is in the capture once.
			if sum.Read != 2*len(replayQueries) {
				t.Errorf("read %d packets, want %d (each query and its answer)", sum.Read, 2*len(replayQueries))
			}
			// The queries were recorded as the pod sent them: with
			// offloaded checksums the replay had to recompute.
			if sum.ChecksumRepaired < len(replayQueries) {
				t.Errorf("checksum_repaired %d, want every one of the %d queries (the capture's offloaded checksums)", sum.ChecksumRepaired, len(replayQueries))
			}
			if n := sum.PassedBy["bad_checksum"]; n != 0 {
				t.Errorf("%d packets refused for their checksum", n)
			}
			mesh := 0
			for _, q := range replayQueries {
				if q.mesh {
					mesh++
				}
			}
			if sum.Written != mesh {
				t.Errorf("%d responses written, want one per mesh query (%d)", sum.Written, mesh)
			}
			replayed := readResponses(t, out)
			for _, q := range replayQueries {
				r, ok := replayed[q.key()]
				if !q.mesh {
					if ok {
						t.Errorf("%s: replay answered a name meshdns passes: %v", q.key(), r)
					}
					continue
				}
				if !ok {
					t.Errorf("%s: no replayed answer", q.key())
					continue
				}
				compareAnswers(t, q.key(), live[q.key()], r)
			}
			if *updateCaptures {
				copyFile(t, in, filepath.Join("../../replay/testdata", c.file))
			}
		})
	}
}

// stopCapture waits until the capture file holds want packets (a capture
// tool writes what the kernel hands it in blocks), then ends the capture
// (SIGINT: the file is flushed and closed).
func stopCapture(t *testing.T, proc *podtest.Process, file string, want int) {
	t.Helper()
	for deadline := time.Now().Add(20 * time.Second); countPackets(file) < want && time.Now().Before(deadline); {
		time.Sleep(50 * time.Millisecond)
	}
	if err := proc.Signal(syscall.SIGINT); err != nil {
		t.Fatal(err)
	}
	if _, err := proc.Wait(30 * time.Second); err != nil {
		t.Fatalf("%s: %v: %s", file, err, proc.Logs())
	}
}

// packetReader is what pcapgo's pcap and pcapng readers have in common.
type packetReader interface {
	ReadPacketData() ([]byte, gopacket.CaptureInfo, error)
}

// openCapture opens a pcap or pcapng file (by its magic) and returns its
// reader, its link type (the first interface's), and a function to close it.
func openCapture(path string) (packetReader, layers.LinkType, func(), error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, 0, nil, err
	}
	var magic [4]byte
	if _, err := io.ReadFull(f, magic[:]); err != nil {
		f.Close()
		return nil, 0, nil, err
	}
	f.Seek(0, io.SeekStart)
	if magic == [4]byte{0x0a, 0x0d, 0x0d, 0x0a} {
		r, err := pcapgo.NewNgReader(f, pcapgo.DefaultNgReaderOptions)
		if err != nil {
			f.Close()
			return nil, 0, nil, err
		}
		return r, r.LinkType(), func() { f.Close() }, nil
	}
	r, err := pcapgo.NewReader(f)
	if err != nil {
		f.Close()
		return nil, 0, nil, err
	}
	return r, r.LinkType(), func() { f.Close() }, nil
}

// countPackets counts the whole packets in a capture file being written.
func countPackets(path string) int {
	r, _, done, err := openCapture(path)
	if err != nil {
		return 0
	}
	defer done()
	n := 0
	for {
		if _, _, err := r.ReadPacketData(); err != nil {
			return n
		}
		n++
	}
}

// linkTypeOf reads the link type of a capture file (its first interface).
func linkTypeOf(t *testing.T, path string) layers.LinkType {
	t.Helper()
	_, lt, done, err := openCapture(path)
	if err != nil {
		t.Fatal(err)
	}
	done()
	return lt
}

// readResponses reads replay's output (raw IP) into DNS messages, by the
// key of their question and IP family.
func readResponses(t *testing.T, path string) map[string]*dns.Msg {
	t.Helper()
	r, _, done, err := openCapture(path)
	if err != nil {
		t.Fatal(err)
	}
	defer done()
	out := map[string]*dns.Msg{}
	for {
		data, _, err := r.ReadPacketData()
		if err == io.EOF {
			return out
		}
		if err != nil {
			t.Fatal(err)
		}
		fam, hdr := "4", int(data[0]&0x0f)*4
		if data[0]>>4 == 6 {
			fam, hdr = "6", 40
		}
		m := new(dns.Msg)
		if err := m.Unpack(data[hdr+8:]); err != nil {
			t.Fatalf("replayed response: %v", err)
		}
		if len(m.Question) != 1 {
			t.Fatalf("replayed response with %d questions", len(m.Question))
		}
		q := m.Question[0]
		k := fam + " " + strings.ToLower(q.Name) + " " + dns.TypeToString[q.Qtype]
		if _, dup := out[k]; dup {
			t.Errorf("%s: answered twice", k)
		}
		out[k] = m
	}
}

// compareAnswers checks a replayed response against dig's view of the live
// one: rcode, aa, and every record of the answer and authority sections
// (TTL included; the SOA serial is the table's build time, which differs
// between the live run and the replay, and is left out).
func compareAnswers(t *testing.T, key string, live lookupout.Dig, r *dns.Msg) {
	t.Helper()
	if got := dns.RcodeToString[r.Rcode]; got != live.Status {
		t.Errorf("%s: replay %s, live %s", key, got, live.Status)
	}
	if r.Authoritative != live.Flag("aa") {
		t.Errorf("%s: replay aa=%v, live flags %v", key, r.Authoritative, live.Flags)
	}
	if got, want := lookupout.Records(r.Answer, true), lookupout.Records(live.Answer, true); !slices.Equal(got, want) {
		t.Errorf("%s: answer\nreplay %q\nlive   %q", key, got, want)
	}
	if len(live.Answer) == 0 && live.Status == "NOERROR" && len(live.Authority) == 0 {
		t.Errorf("%s: live answer is empty: nothing compared", key)
	}
	if got, want := lookupout.Records(noSerial(r.Ns), true), lookupout.Records(noSerial(live.Authority), true); !slices.Equal(got, want) {
		t.Errorf("%s: authority\nreplay %q\nlive   %q", key, got, want)
	}
}

func noSerial(rrs []dns.RR) []dns.RR {
	out := make([]dns.RR, len(rrs))
	for i, rr := range rrs {
		rr = dns.Copy(rr)
		if soa, ok := rr.(*dns.SOA); ok {
			soa.Serial = 0
		}
		out[i] = rr
	}
	return out
}

func copyFile(t *testing.T, from, to string) {
	t.Helper()
	b, err := os.ReadFile(from)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(to, b, 0o644); err != nil {
		t.Fatal(err)
	}
}

func cmdStderr(err error) string {
	if ee, ok := err.(*exec.ExitError); ok {
		return string(ee.Stderr)
	}
	return ""
}

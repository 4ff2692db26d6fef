package dnsperf

import (
	"net/netip"
	"slices"
	"testing"
	"time"
)

const sample = `DNS Performance Testing Tool
Version 2.10.0

[Status] Command line: dnsperf -s 198.18.0.1 -d q.txt -l 1 -t 1
[Status] Sending queries (to 198.18.0.1:53)
[Status] Testing complete (time limit)

Statistics:

  Queries sent:         91234
  Queries completed:    91200 (99.96%)
  Queries lost:         34 (0.04%)

  Response codes:       NOERROR 91000 (99.78%), NXDOMAIN 200 (0.22%)
  Average packet size:  request 45, response 61
  Run time (s):         1.000456
  Queries per second:   91158.412101

  Average Latency (s):  0.001082 (min 0.000021, max 0.012003)
  Latency StdDev (s):   0.000251
`

func TestParse(t *testing.T) {
	r, err := Parse([]byte(sample))
	if err != nil {
		t.Fatal(err)
	}
	if r.Sent != 91234 || r.Completed != 91200 || r.Lost != 34 || r.QPS != 91158.412101 {
		t.Errorf("counts %+v", r)
	}
	if r.AvgLatencyUS != 1082 || r.MinLatencyUS != 21 || r.MaxLatencyUS != 12003 || r.StdDevUS != 251 {
		t.Errorf("latency %+v", r)
	}
	if r.Rcodes["NOERROR"] != 91000 || r.Rcodes["NXDOMAIN"] != 200 {
		t.Errorf("rcodes %v", r.Rcodes)
	}
	if r.RunSeconds != 1.000456 {
		t.Errorf("run time %v", r.RunSeconds)
	}
}

func TestParseIncomplete(t *testing.T) {
	for _, in := range []string{"", "Queries sent: 5\n", "Queries sent: x\nQueries completed: 1\nQueries per second: 1\n"} {
		if _, err := Parse([]byte(in)); err == nil {
			t.Errorf("Parse(%q) accepted", in)
		}
	}
}

func FuzzParse(f *testing.F) {
	f.Add([]byte(sample))
	f.Add([]byte("Queries sent: 1\nQueries completed: 1\nQueries per second: 2\nAverage Latency (s): 1 (min"))
	f.Fuzz(func(t *testing.T, b []byte) {
		r, err := Parse(b)
		if err == nil && r.Sent == 0 && r.Completed == 0 && r.QPS == 0 && len(b) == 0 {
			t.Error("empty input parsed")
		}
	})
}

func TestArgs(t *testing.T) {
	c := Config{Server: netip.MustParseAddrPort("198.18.0.1:53"), DataFile: "/tmp/q", Duration: 1500 * time.Millisecond, Clients: 4}
	got, err := c.Args()
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"-s", "198.18.0.1", "-p", "53", "-d", "/tmp/q", "-l", "1.5", "-t", "1", "-q", "100", "-c", "4"}
	if !slices.Equal(got, want) {
		t.Errorf("Args = %v, want %v", got, want)
	}
	if _, err := (Config{}).Args(); err == nil {
		t.Error("empty config accepted")
	}
}

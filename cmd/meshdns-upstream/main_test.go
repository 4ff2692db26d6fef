package main

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/meshdns/meshdns/internal/clusterdns"
	"github.com/miekg/dns"
)

func TestParse(t *testing.T) {
	tests := []struct {
		name    string
		args    []string
		wantErr string
		check   func(options) bool
	}{
		{"defaults", nil, "", func(o options) bool {
			return len(o.listen) == 1 && o.listen[0] == "127.0.0.1:5353" && o.ttl == 7 && o.zone == ""
		}},
		{"repeat listen", []string{"--listen", "198.18.0.1:53", "--listen", "[fd53::1]:53", "--delay", "5ms"}, "", func(o options) bool {
			return len(o.listen) == 2 && o.listen[1] == "[fd53::1]:53" && o.delay == 5*time.Millisecond
		}},
		{"bad level", []string{"--log-level", "loud"}, "--log-level", nil},
		{"negative delay", []string{"--delay", "-1s"}, "negative", nil},
		{"extra args", []string{"x"}, "unexpected", nil},
		{"big ttl", []string{"--ttl", "4294967295"}, "too large", nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			o, err := parse(tc.args, &bytes.Buffer{})
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("err %v, want %q", err, tc.wantErr)
				}
				return
			}
			if err != nil || !tc.check(o) {
				t.Errorf("parse: %+v %v", o, err)
			}
		})
	}
}

func TestRunBadZone(t *testing.T) {
	p := filepath.Join(t.TempDir(), "bad.zone")
	os.WriteFile(p, []byte("a.test. A 999.1.1.1\n"), 0o644)
	var out, errb bytes.Buffer
	if code := run([]string{"--zone", p, "--listen", "127.0.0.1:0"}, &out, &errb); code != 1 {
		t.Errorf("exit %d, want 1; stderr %s", code, errb.String())
	}
	if code := run([]string{"--zone", filepath.Join(t.TempDir(), "missing")}, &out, &errb); code != 1 {
		t.Errorf("missing zone: exit %d, want 1", code)
	}
	if code := run([]string{"--bogus"}, &out, &errb); code != 2 {
		t.Errorf("bad flag: exit %d, want 2", code)
	}
}

func TestWriteStats(t *testing.T) {
	s, err := clusterdns.New(clusterdns.Config{Zone: clusterdns.ExampleZone})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.ListenAndServe("127.0.0.1:0"); err != nil {
		t.Fatal(err)
	}
	defer s.Stop()
	c := &dns.Client{Timeout: 5 * time.Second}
	for _, q := range []string{"www.example.org.", "www.example.org.", "example.net."} {
		if _, _, err := c.Exchange(new(dns.Msg).SetQuestion(q, dns.TypeA), s.UDPAddrs()[0].String()); err != nil {
			t.Fatal(err)
		}
	}
	var buf bytes.Buffer
	if err := writeStats(&buf, s); err != nil {
		t.Fatal(err)
	}
	var st stats
	if err := json.Unmarshal(buf.Bytes(), &st); err != nil {
		t.Fatal(err)
	}
	want := []queryCount{{"example.net.", "A", 1}, {"www.example.org.", "A", 2}}
	if st.UDP != 3 || st.TCP != 0 || len(st.Queries) != 2 || st.Queries[0] != want[0] || st.Queries[1] != want[1] {
		t.Errorf("stats %s", buf.String())
	}
}

package main

import (
	"os"
	"reflect"
	"strings"
	"testing"
	"time"
)

func readTestdata(t testing.TB, name string) string {
	t.Helper()
	b, err := os.ReadFile("testdata/" + name)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func TestParseDig(t *testing.T) {
	tests := []struct {
		file    string
		want    digOutput
		wantErr string
	}{
		{"dig-noerror.txt", digOutput{
			Status: "NOERROR", Flags: []string{"qr", "aa", "rd"},
			Answers: []record{
				{Name: "search.default.svc.cluster.local.", TTL: 30, Type: "CNAME", Data: "www.example.org."},
				{Name: "www.example.org.", TTL: 7, Type: "A", Data: "198.19.0.10"},
			},
			QueryTime: 3 * time.Millisecond, Server: "198.18.0.1#53(198.18.0.1) (UDP)",
		}, ""},
		{"dig-nxdomain.txt", digOutput{
			Status: "NXDOMAIN", Flags: []string{"qr", "rd", "ra"},
			Server: "198.18.0.1#53(198.18.0.1) (UDP)",
		}, ""},
		{"dig-unreachable.txt", digOutput{}, "no servers could be reached"},
	}
	for _, tc := range tests {
		t.Run(tc.file, func(t *testing.T) {
			got, err := parseDig(readTestdata(t, tc.file))
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("err %v, want %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, tc.want) {
				t.Errorf("got  %+v\nwant %+v", got, tc.want)
			}
		})
	}
}

func TestParseDigBadAnswer(t *testing.T) {
	for _, in := range []string{
		";; ->>HEADER<<- opcode: QUERY, status: NOERROR, id: 1\n;; ANSWER SECTION:\nshort line\n",
		";; ->>HEADER<<- opcode: QUERY, status: NOERROR, id: 1\n;; ANSWER SECTION:\na. x IN A 1.2.3.4\n",
	} {
		if _, err := parseDig(in); err == nil {
			t.Errorf("parseDig(%q): no error", in)
		}
	}
}

func TestParseGetent(t *testing.T) {
	tests := []struct {
		in      string
		want    []record
		wantErr bool
	}{
		{"", nil, false},
		{"198.19.0.10     www.example.org\n", []record{{Name: "www.example.org", Type: "A", Data: "198.19.0.10"}}, false},
		{"fd53:19:0:0::10 web.default.svc.cluster.local web\n10.96.0.1 x\n", []record{
			{Name: "web.default.svc.cluster.local", Type: "AAAA", Data: "fd53:19::10"},
			{Name: "x", Type: "A", Data: "10.96.0.1"},
		}, false},
		{"nonsense here\n", nil, true},
		{"198.19.0.10\n", nil, true},
	}
	for _, tc := range tests {
		got, err := parseGetent(tc.in)
		if (err != nil) != tc.wantErr || !reflect.DeepEqual(got, tc.want) {
			t.Errorf("parseGetent(%q) = %+v, %v; want %+v (err %v)", tc.in, got, err, tc.want, tc.wantErr)
		}
	}
}

func FuzzParseDig(f *testing.F) {
	for _, n := range []string{"dig-noerror.txt", "dig-nxdomain.txt", "dig-unreachable.txt"} {
		f.Add(readTestdata(f, n))
	}
	f.Fuzz(func(t *testing.T, in string) {
		d, err := parseDig(in)
		if err == nil && d.Status == "" {
			t.Error("no error and no status")
		}
	})
}

func FuzzParseGetent(f *testing.F) {
	f.Add("198.19.0.10 www.example.org\nfd53::1 a b c\n")
	f.Fuzz(func(t *testing.T, in string) {
		recs, err := parseGetent(in)
		if err != nil {
			return
		}
		for _, r := range recs {
			if r.Type != "A" && r.Type != "AAAA" || r.Name == "" {
				t.Errorf("bad record %+v", r)
			}
		}
	})
}

package main

import (
	"bytes"
	"errors"
	"strings"
	"testing"

	"github.com/meshdns/meshdns/internal/clusterdns"
	"github.com/miekg/dns"
)

func TestExpectations(t *testing.T) {
	const web = "web.default.svc.cluster.local"
	meshA := lookup{Query: web, FQDN: web, Type: dns.TypeA, Tool: toolDig, Mesh: true}
	meshAAAA := lookup{Query: web, FQDN: web, Type: dns.TypeAAAA, Tool: toolDig, Mesh: true, Empty: true}
	ext := lookup{Query: "www.example.org", FQDN: "www.example.org", Type: dns.TypeA, Tool: toolDig}
	ans := []record{{Type: "A", Data: "10.96.0.10"}}
	reached := map[clusterdns.Key]uint64{{Name: web + ".", Type: dns.TypeA}: 1}
	tests := []struct {
		name string
		p    phase
		o    outcome
		want []string // substrings of the problems, in order; none: no problem
	}{
		{"mesh by meshdns", phaseWith, outcome{lookup: meshA, By: byMeshdns, Status: "NOERROR", Answers: ans}, nil},
		{"mesh by upstream", phaseWith, outcome{lookup: meshA, By: byUpstream, Status: "NOERROR", Answers: ans, Upstream: reached}, []string{"answered by upstream, want meshdns", "reached the upstream"}},
		{"mesh empty", phaseWith, outcome{lookup: meshA, By: byMeshdns, Status: "NXDOMAIN"}, []string{"no records"}},
		{"nodata ok", phaseWith, outcome{lookup: meshAAAA, By: byMeshdns, Status: "NOERROR"}, nil},
		{"nodata with records", phaseWith, outcome{lookup: meshAAAA, By: byMeshdns, Status: "NOERROR", Answers: ans}, []string{"want NOERROR with no records"}},
		{"nodata as nxdomain", phaseWith, outcome{lookup: meshAAAA, By: byMeshdns, Status: "NXDOMAIN"}, []string{"want NOERROR with no records"}},
		{"mesh before meshdns", phaseBefore, outcome{lookup: meshA, By: byUpstream, Status: "NOERROR", Answers: ans}, nil},
		{"mesh after meshdns, still answered", phaseAfter, outcome{lookup: meshA, By: byMeshdns, Status: "NOERROR", Answers: ans}, []string{"want upstream"}},
		{"external ok", phaseWith, outcome{lookup: ext, By: byUpstream, Status: "NOERROR", Answers: ans}, nil},
		{"external unresolved", phaseWith, outcome{lookup: ext, By: byUpstream, Status: "NXDOMAIN"}, []string{"not resolved"}},
		{"error", phaseWith, outcome{lookup: ext, By: byNone, Err: errors.New("timed out")}, []string{"timed out"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := expectations(tc.p, tc.o)
			if len(got) != len(tc.want) {
				t.Fatalf("problems %q, want %d like %q", got, len(tc.want), tc.want)
			}
			for i, w := range tc.want {
				if !strings.Contains(got[i], w) {
					t.Errorf("problem %q does not contain %q", got[i], w)
				}
			}
		})
	}
}

func TestAnswerText(t *testing.T) {
	tests := []struct {
		o    outcome
		want string
	}{
		{outcome{Status: "NOERROR"}, "NOERROR, no records"},
		{outcome{Status: "NXDOMAIN"}, "NXDOMAIN"},
		{outcome{Err: errors.New("x")}, "error"},
		{outcome{Status: "found", Answers: []record{{Type: "A", Data: "10.0.0.1"}}}, "10.0.0.1"},
		{outcome{Status: "NOERROR", Answers: []record{{Type: "CNAME", Data: "a.", TTL: 30}, {Type: "A", Data: "10.0.0.1", TTL: 7}}}, "CNAME a., 10.0.0.1 (ttl 30,7)"},
	}
	for _, tc := range tests {
		if got := answerText(tc.o); got != tc.want {
			t.Errorf("answerText = %q, want %q", got, tc.want)
		}
	}
}

func TestUpstreamText(t *testing.T) {
	d := map[clusterdns.Key]uint64{
		{Name: "www.example.org.", Type: dns.TypeA}:                           1,
		{Name: "www.example.org.", Type: dns.TypeAAAA}:                        2,
		{Name: "www.example.org.default.svc.cluster.local.", Type: dns.TypeA}: 1,
	}
	if got := upstreamText(nil, false); got != "0" {
		t.Errorf("empty: %q", got)
	}
	if got, want := upstreamText(d, false), "4: www.example.org. A,AAAA; +1 more"; got != want {
		t.Errorf("short: %q, want %q", got, want)
	}
	if got := upstreamText(d, true); !strings.Contains(got, "www.example.org.default.svc.cluster.local. A") {
		t.Errorf("verbose: %q", got)
	}
}

func TestPrintTable(t *testing.T) {
	var b bytes.Buffer
	printTable(&b, []outcome{{lookup: lookup{Query: "web", Tool: toolGetent}, Status: "found", Answers: []record{{Type: "A", Data: "10.96.0.10"}}, By: byMeshdns}}, false)
	lines := strings.Split(strings.TrimSpace(b.String()), "\n")
	if len(lines) != 2 || !strings.Contains(lines[0], "ANSWERED BY") || !strings.Contains(lines[1], "10.96.0.10") || !strings.Contains(lines[1], "meshdns") {
		t.Errorf("table:\n%s", b.String())
	}
}

package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

const sample = `{
 "meta": {"date": "2026-01-01T00:00:00Z", "host": "h", "label": "quick", "rounds": 2, "complete": true},
 "summaries": [
  {"contender": "direct", "workload": "mesh", "tool": "dnsperf", "rounds": 2, "qps": {"n": 2, "median": 90000, "min": 80000, "max": 100000}, "cpu_us_per_query": {"n": 2, "median": 8, "min": 7, "max": 9}},
  {"contender": "istio", "workload": "mesh", "tool": "dnsperf", "rounds": 2, "qps": {"n": 2, "median": 40000, "min": 30000, "max": 50000}, "cpu_us_per_query": {"n": 0, "median": null, "min": null, "max": null}},
  {"contender": "direct", "workload": "mesh", "tool": "fixed", "rate": 2000, "rounds": 2, "p50_us": {"n": 2, "median": 50}, "p90_us": {"n": 2, "median": 60}, "p99_us": {"n": 2, "median": 200}, "p99_9_us": {"n": 2, "median": 900}},
  {"contender": "istio", "workload": "ndots", "tool": "lookups", "rate": 400, "rounds": 2, "p50_us": {"n": 2, "median": 150}, "p90_us": {"n": 2, "median": null}, "p99_us": {"n": 2, "median": 800}, "p99_9_us": {"n": 2, "median": 2000}}
 ]
}`

func TestRun(t *testing.T) {
	dir := t.TempDir()
	in, out := filepath.Join(dir, "r.json"), filepath.Join(dir, "r.png")
	if err := os.WriteFile(in, []byte(sample), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := run(in, out); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.HasPrefix(b, []byte("\x89PNG\r\n\x1a\n")) {
		t.Errorf("not a PNG: % x", b[:8])
	}
}

func TestReadDocument(t *testing.T) {
	d, err := readDocument(strings.NewReader(sample))
	if err != nil {
		t.Fatal(err)
	}
	if cs := d.contenders(); len(cs) != 2 || cs[0] != "direct" {
		t.Errorf("contenders %v", cs)
	}
	if ps := d.fixedPanels(); len(ps) != 2 || ps[1].Tool != "lookups" {
		t.Errorf("panels %+v", ps)
	}
	if s := d.find("istio", "mesh", "dnsperf", 0); s == nil || s.QPS.med() != 40000 {
		t.Errorf("find: %+v", s)
	}
	if _, err := readDocument(strings.NewReader(`{"summaries": []}`)); err == nil {
		t.Error("empty results accepted")
	}
	if err := run("", ""); err == nil {
		t.Error("missing flags accepted")
	}
}

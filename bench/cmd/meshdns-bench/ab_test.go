package main

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/meshdns/meshdns/bench/internal/harness"
	"github.com/meshdns/meshdns/internal/loadgen/stats"
)

// TestAB: the medians across rounds of each binary, and their ratio, per
// workload, run and metric.
func TestAB(t *testing.T) {
	dir := t.TempDir()
	write := func(name string, qps, p50, cpu float64) {
		runs := []harness.Run{
			{Workload: "mesh", Tool: harness.ToolDNSPerf, QPS: qps, CPUContenderPerQueryUS: stats.Float(cpu)},
			{Workload: "mesh", Tool: harness.ToolFixed, Rate: 2000, QPS: 2000, Latency: &stats.Latency{P50: p50, P99: p50}, CPUContenderPerQueryUS: stats.Float(cpu)},
			{Workload: "idle", Tool: harness.ToolIdle}, // no queries: not a row
		}
		b, err := json.Marshal(struct{ Runs []harness.Run }{runs})
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, name+".json"), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("new-1", 110, 50, 5)
	write("new-2", 90, 70, 7)
	write("new-3", 100, 60, 6)
	write("old-1", 100, 100, 10)
	write("old-2", 120, 80, 8)
	write("old-3", 80, 90, 9)
	var out bytes.Buffer
	if err := cmdAB([]string{dir}, &out); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		"| workload | run | metric | new: median [min–max] | old: median [min–max] | old/new |",
		"| mesh | full load | q/s | 100.0 [90.0–110.0] | 100.0 [80.0–120.0] | 1.00 |",
		"| mesh | full load | CPU µs/query | 6.0 [5.0–7.0] | 9.0 [8.0–10.0] | 1.50 |",
		"| mesh | 2000 q/s | p50 µs | 60.0 [50.0–70.0] | 90.0 [80.0–100.0] | 1.50 |",
		"| mesh | 2000 q/s | p99 µs | 60.0 [50.0–70.0] | 90.0 [80.0–100.0] | 1.50 |",
	} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("no line %q in\n%s", want, out.String())
		}
	}
	if strings.Contains(out.String(), "idle") || strings.Contains(out.String(), "full load | p50") {
		t.Errorf("a row without a figure:\n%s", out.String())
	}
	write("third-1", 1, 1, 1)
	if err := cmdAB([]string{dir}, &out); err == nil {
		t.Error("three names accepted")
	}
}

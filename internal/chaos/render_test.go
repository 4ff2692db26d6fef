package chaos

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/meshdns/meshdns/internal/loadgen"
	"github.com/meshdns/meshdns/internal/loadgen/stats"
)

func sample() []*Scenario {
	d := time.Date(2026, 11, 26, 15, 0, 0, 0, time.UTC)
	var q loadgen.Summary
	q.Sent, q.Local, q.Upstream, q.Lost = 1000, 600, 397, 3
	q.Latency = stats.Latency{P50: 200, P99: 1500, P999: 12_340, Max: 310_000}
	return []*Scenario{
		{ID: "2", Test: "TestGracefulRestart", Title: "SIGTERM | restart", Mode: "short", Command: "go test -run X ./internal/chaos",
			Date: d, Kernel: "6.18", CPUs: 2, Load: &Load{LookupsPerSec: 1000, QueriesPerSec: 2000, Seconds: 5, TimeoutSec: 2, Mix: "mix"},
			Faults: []string{"SIGTERM at 1.0 s"}, Queries: q, Passed: true, Notes: []string{"A note."},
			Recovery: []Figure{{"local again after restart", "120 ms"}},
			Checks:   []Check{{What: "0 lost", Passed: false, Detail: "3 lost"}}},
		{ID: "1a", Title: "kill -9", Mode: "long", Command: "make chaos", Date: d, Kernel: "6.18", CPUs: 2, Passed: true,
			Load: &Load{QueriesPerSec: 5000}, Queries: q, Figures: []Figure{{"queue at kill", "2 packets"}}},
		{ID: "1a", Title: "kill -9", Mode: "short", Command: "go test", Date: d, Kernel: "6.18", CPUs: 2, Passed: true},
		{ID: "7", Title: "least privilege", Mode: "short", Command: "go test", Date: d, Kernel: "6.18", CPUs: 2, Passed: true},
	}
}

func TestWriteReadRender(t *testing.T) {
	dir := t.TempDir()
	for _, s := range sample() {
		if err := Write(dir, s); err != nil {
			t.Fatal(err)
		}
	}
	got, err := ReadAll(dir)
	if err != nil {
		t.Fatal(err)
	}
	var order []string
	for _, s := range got {
		order = append(order, s.ID+"/"+s.Mode)
	}
	if strings.Join(order, " ") != "1a/short 1a/long 2/short 7/short" {
		t.Fatalf("order %v", order)
	}
	var b strings.Builder
	if err := Render(&b, got); err != nil {
		t.Fatal(err)
	}
	md := b.String()
	for _, want := range []string{
		"| 2 | SIGTERM \\| restart | short | 1000 | 3 | 0 | local again after restart: 120 ms | pass |",
		"| 7 | least privilege | short | — | — | — | — | pass |",
		"## 1a. kill -9\n",
		"| long | 5000 queries/s",
		"0.20 / 1.50 / 12.3 / 310 ms",
		"- queue at kill: 2 packets",
		"- **FAIL** 0 lost (3 lost)",
		"kill -9 3 of 1000 queries lost (long run) (section 1a",
		"## What did not pass\n\n- 2 (short): 0 lost — 3 lost\n",
		"graceful restart and upgrade 3 of 1000 queries lost (short run)",
		"kernel 6.18 with 2 CPUs",
		"## 2. SIGTERM | restart\n\nA note.\n\n| mode |",
	} {
		if !strings.Contains(md, want) {
			t.Errorf("report lacks %q:\n%s", want, md)
		}
	}
	if strings.Count(md, "## 1a.") != 1 {
		t.Errorf("scenario 1a rendered more than once")
	}
}

func TestReadAllErrors(t *testing.T) {
	if _, err := ReadAll(t.TempDir()); err == nil {
		t.Error("empty dir: no error")
	}
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "x.json"), []byte("{"), 0o644)
	if _, err := ReadAll(dir); err == nil {
		t.Error("bad json: no error")
	}
	os.WriteFile(filepath.Join(dir, "x.json"), []byte("{}"), 0o644)
	if _, err := ReadAll(dir); err == nil {
		t.Error("no id: no error")
	}
}

// TestWriteReport renders the results in $MESHDNS_CHAOS_OUT into
// $MESHDNS_CHAOS_REPORT (make chaos does this). Without them it renders the
// sample into a temporary file, so the path is exercised either way.
func TestWriteReport(t *testing.T) {
	out, report := os.Getenv(OutEnv), os.Getenv(ReportEnv)
	if report == "" {
		dir := t.TempDir()
		for _, s := range sample() {
			if err := Write(dir, s); err != nil {
				t.Fatal(err)
			}
		}
		out, report = dir, filepath.Join(dir, "report.md")
	} else if out == "" {
		t.Fatalf("%s set without %s", ReportEnv, OutEnv)
	}
	results, err := ReadAll(out)
	if err != nil {
		t.Fatal(err)
	}
	f, err := os.Create(report)
	if err != nil {
		t.Fatal(err)
	}
	if err := Render(f, results); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(report)
	if err != nil || !strings.HasPrefix(string(b), "# Reliability") {
		t.Fatalf("report %s not written: %v", report, err)
	}
	t.Logf("wrote %s from %d results in %s", report, len(results), out)
}

package main

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/meshdns/meshdns/bench/internal/harness"
	"github.com/meshdns/meshdns/internal/loadgen/stats"
)

// cmdAB prints the A/B of bench/scripts/ab.sh: the results files
// DIR/<name>-<round>.json of two names (two binaries of the meshdns
// contender), and for each workload, run and metric the median across
// rounds of each name and their ratio (second name over first).
func cmdAB(args []string, stdout io.Writer) error {
	if len(args) != 1 {
		return fmt.Errorf("usage: meshdns-bench ab DIR")
	}
	files, err := filepath.Glob(filepath.Join(args[0], "*-*.json"))
	if err != nil {
		return err
	}
	type key struct{ workload, run, metric string }
	values := map[key]map[string][]float64{}
	var keys []key
	var names []string
	for _, f := range files {
		base := strings.TrimSuffix(filepath.Base(f), ".json")
		name := base[:strings.LastIndex(base, "-")]
		if !slices.Contains(names, name) {
			names = append(names, name)
		}
		b, err := os.ReadFile(f)
		if err != nil {
			return err
		}
		var res struct{ Runs []harness.Run }
		if err := json.Unmarshal(b, &res); err != nil {
			return fmt.Errorf("%s: %w", f, err)
		}
		for _, r := range res.Runs {
			if r.Tool == harness.ToolIdle {
				continue
			}
			run := "full load"
			if r.Tool != harness.ToolDNSPerf {
				run = fmt.Sprintf("%g q/s", r.Rate)
			}
			type metric struct {
				metric string
				v      float64
			}
			ms := []metric{{"q/s", r.QPS}, {"CPU µs/query", float64(r.CPUContenderPerQueryUS)}, {"lost", float64(r.Lost)}}
			if r.Latency != nil { // dnsperf's runs have none
				ms = append(ms, metric{"p50 µs", r.Latency.P50}, metric{"p99 µs", r.Latency.P99})
			}
			for _, m := range ms {
				k := key{r.Workload, run, m.metric}
				if values[k] == nil {
					values[k] = map[string][]float64{}
					keys = append(keys, k)
				}
				values[k][name] = append(values[k][name], m.v)
			}
		}
	}
	if len(names) != 2 {
		return fmt.Errorf("%s: results of %d names (%v), want two", args[0], len(names), names)
	}
	a, b := names[0], names[1]
	fmt.Fprintf(stdout, "| workload | run | metric | %s: median [min–max] | %s: median [min–max] | %s/%s |\n", a, b, b, a)
	fmt.Fprintln(stdout, "|---|---|---|---:|---:|---:|")
	for _, k := range keys {
		va, vb := values[k][a], values[k][b]
		if len(va) == 0 || len(vb) == 0 {
			continue
		}
		sa, sb := stats.SpreadOf(va), stats.SpreadOf(vb)
		ratio := "–"
		if sa.Median != 0 {
			ratio = fmt.Sprintf("%.2f", sb.Median/sa.Median)
		}
		fmt.Fprintf(stdout, "| %s | %s | %s | %.1f [%.1f–%.1f] | %.1f [%.1f–%.1f] | %s |\n",
			k.workload, k.run, k.metric, sa.Median, sa.Min, sa.Max, sb.Median, sb.Min, sb.Max, ratio)
	}
	return nil
}

package dnsengine_test

import (
	"fmt"
	"os"
	"runtime"
	"strconv"
	"syscall"
	"testing"
	"time"

	"github.com/meshdns/meshdns/dnsengine"
	"github.com/meshdns/meshdns/sync/model"
	"github.com/meshdns/meshdns/sync/model/modeltest"
)

// BenchmarkTableBuild builds the name table of modeltest.ScaleCluster
// (10 endpoints per Service, every 10th headless, two named ports, 100
// ServiceEntries) from decoded objects, with the compact table and with the
// reference (the table before it). ns/op is one build's wall time,
// cpu-ms/build its CPU time (GC included); B/endpoint and
// B/service are the Go heap the built table holds (after GC), divided by
// the endpoints and Services it was built from. MESHDNS_BENCH_ENDPOINTS
// sets the sizes (comma separated; default 1000,10000,100000).
//
//	go test -run '^$' -bench BenchmarkTableBuild -benchtime 5x ./dnsengine/
func BenchmarkTableBuild(b *testing.B) {
	sizes := []int{1000, 10000, 100000}
	if s := os.Getenv("MESHDNS_BENCH_ENDPOINTS"); s != "" {
		sizes = sizes[:0]
		for _, f := range splitComma(s) {
			n, err := strconv.Atoi(f)
			if err != nil {
				b.Fatal(err)
			}
			sizes = append(sizes, n)
		}
	}
	for _, eps := range sizes {
		services := eps / 10
		objs := modeltest.Cluster(modeltest.ScaleCluster(services))
		opts := model.DefaultOptions()
		cfg, err := opts.TableConfig()
		if err != nil {
			b.Fatal(err)
		}
		builds := map[string]func() any{
			"table": func() any {
				t, _, err := model.Build(objs, opts)
				if err != nil {
					b.Fatal(err)
				}
				return t
			},
			"reference": func() any {
				rb, err := dnsengine.NewRefBuilder(cfg)
				if err != nil {
					b.Fatal(err)
				}
				if _, err := model.BuildInto(objs, opts, rb); err != nil {
					b.Fatal(err)
				}
				return rb.Build()
			},
		}
		for _, kind := range []string{"table", "reference"} {
			if kind == "reference" && eps > 100000 {
				continue // about 5 KB per endpoint
			}
			build := builds[kind]
			b.Run(fmt.Sprintf("%s/endpoints=%d", kind, eps), func(b *testing.B) {
				heap := heapOf(build)
				cpu0 := cpuTime()
				b.ResetTimer()
				for range b.N {
					build()
				}
				b.StopTimer()
				b.ReportMetric(float64((cpuTime()-cpu0).Milliseconds())/float64(b.N), "cpu-ms/build")
				b.ReportMetric(float64(heap)/float64(eps), "B/endpoint")
				b.ReportMetric(float64(heap)/float64(services), "B/service")
			})
		}
	}
}

// cpuTime returns the CPU time (user and system) the process has used:
// on a loaded machine a build's wall time says more about the neighbours.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// heapOf returns the live heap that the value build returns holds.
func heapOf(build func() any) uint64 {
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	v := build()
	runtime.GC()
	runtime.ReadMemStats(&after)
	runtime.KeepAlive(v)
	if after.HeapAlloc < before.HeapAlloc {
		return 0
	}
	return after.HeapAlloc - before.HeapAlloc
}

func splitComma(s string) []string {
	var out []string
	for len(s) > 0 {
		i := 0
		for i < len(s) && s[i] != ',' {
			i++
		}
		out = append(out, s[:i])
		if i < len(s) {
			i++
		}
		s = s[i:]
	}
	return out
}

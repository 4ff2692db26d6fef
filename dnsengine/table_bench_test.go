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
	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// BenchmarkTableBuild builds the name table of modeltest.ScaleCluster
// (10 endpoints per Service, every 10th headless, two named ports, 100
// ServiceEntries) from decoded objects, with the compact table and with the
// reference (the table before it). ns/op is one build's wall time,
// cpu-ms/build its CPU time (GC included); B/endpoint and
// B/service are the Go heap the built table holds (after GC), divided by
// the endpoints and Services it was built from. For model.Incremental,
// B/endpoint is its table and its state together; table-B/endpoint its
// table alone and model-B/endpoint the rest (its packed objects, maps and
// scratch). MESHDNS_BENCH_ENDPOINTS
// sets the sizes (comma separated; default 1000,10000,100000).
//
//	go test -run '^$' -bench BenchmarkTableBuild -benchtime 5x ./dnsengine/
func BenchmarkTableBuild(b *testing.B) {
	sizes := benchSizes(b)
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
			"incremental": func() any {
				inc, err := model.NewIncremental(opts)
				if err != nil {
					b.Fatal(err)
				}
				tab, _, err := inc.Apply(objs, 1)
				if err != nil {
					b.Fatal(err)
				}
				return incBuild{inc, tab}
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
		for _, kind := range []string{"table", "incremental", "reference"} {
			if kind == "reference" && eps > 100000 {
				continue // about 5 KB per endpoint
			}
			build := builds[kind]
			b.Run(fmt.Sprintf("%s/endpoints=%d", kind, eps), func(b *testing.B) {
				heap := heapOf(build)
				var table uint64 // incremental: its table alone
				if kind == "incremental" {
					_, table = heapSplit(func() (any, any) {
						x := build().(incBuild)
						return x.inc, x.tab
					})
				}
				cpu0 := cpuTime()
				b.ResetTimer()
				for range b.N {
					build()
				}
				b.StopTimer()
				b.ReportMetric(float64((cpuTime()-cpu0).Milliseconds())/float64(b.N), "cpu-ms/build")
				b.ReportMetric(float64(heap)/float64(eps), "B/endpoint")
				b.ReportMetric(float64(heap)/float64(services), "B/service")
				if kind == "incremental" {
					b.ReportMetric(float64(table)/float64(eps), "table-B/endpoint")
					b.ReportMetric(float64(heap-min(heap, table))/float64(eps), "model-B/endpoint")
				}
			})
		}
	}
}

// BenchmarkTableUpdate changes one EndpointSlice of modeltest.ScaleCluster
// (one endpoint of one Service going unready, then ready again) and
// brings the table up to date with model.Incremental: ns/op and
// cpu-us/update are one change's cost, from the objects handed over to the
// new table; allocs/op and B/op are its allocations. MESHDNS_BENCH_ENDPOINTS
// sets the sizes as for BenchmarkTableBuild.
//
//	go test -run '^$' -bench BenchmarkTableUpdate ./dnsengine/
func BenchmarkTableUpdate(b *testing.B) {
	sizes := benchSizes(b)
	for _, eps := range sizes {
		objs := modeltest.Cluster(modeltest.ScaleCluster(eps / 10))
		b.Run(fmt.Sprintf("endpoints=%d", eps), func(b *testing.B) {
			inc, err := model.NewIncremental(model.DefaultOptions())
			if err != nil {
				b.Fatal(err)
			}
			if _, _, err := inc.Apply(objs, 1); err != nil {
				b.Fatal(err)
			}
			// Two versions of one slice, swapped on every update.
			i := len(objs.EndpointSlices) / 2
			orig := objs.EndpointSlices[i]
			changed := orig.DeepCopy()
			f := false
			changed.Endpoints[0].Conditions.Ready = &f
			versions := [2]*discoveryv1.EndpointSlice{changed, orig}
			// The first build's garbage collected now, not charged to
			// the updates (at -benchtime 400x it was half their CPU time).
			runtime.GC()
			b.ReportAllocs()
			cpu0 := cpuTime()
			b.ResetTimer()
			key := model.Key{Namespace: orig.Namespace, Name: orig.Name}
			for n := range b.N {
				// A delta, as the API server source sends it.
				delta := &model.Objects{Changes: &model.Changes{EndpointSlices: map[model.Key]*discoveryv1.EndpointSlice{key: versions[n%2]}}}
				if _, _, err := inc.Apply(delta, uint32(2+n)); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64((cpuTime()-cpu0).Microseconds())/float64(b.N), "cpu-us/update")
		})
	}
}

// BenchmarkTableBuildBigService builds, with model.Incremental, one
// Service of 2,000 EndpointSlices of 10 endpoints each: the first Apply's
// cost for a Service whose group is large (a model that copied the
// group's objects once a slice was quadratic in them).
//
//	go test -run '^$' -bench BenchmarkTableBuildBigService -benchtime 5x ./dnsengine/
func BenchmarkTableBuildBigService(b *testing.B) {
	objs := &model.Objects{Services: []*corev1.Service{{
		ObjectMeta: metav1.ObjectMeta{Namespace: "ns", Name: "big"},
		Spec: corev1.ServiceSpec{ClusterIP: "10.96.0.1", ClusterIPs: []string{"10.96.0.1"},
			Ports: []corev1.ServicePort{{Name: "http", Protocol: corev1.ProtocolTCP, Port: 80}}},
	}}}
	ready, n := true, 0
	for i := range 2000 {
		es := &discoveryv1.EndpointSlice{
			ObjectMeta: metav1.ObjectMeta{Namespace: "ns", Name: fmt.Sprintf("big-%05d", i),
				Labels: map[string]string{discoveryv1.LabelServiceName: "big"}},
			AddressType: discoveryv1.AddressTypeIPv4,
		}
		for range 10 {
			n++
			es.Endpoints = append(es.Endpoints, discoveryv1.Endpoint{
				Addresses:  []string{fmt.Sprintf("10.%d.%d.%d", 128+n>>16, n>>8&255, n&255)},
				Conditions: discoveryv1.EndpointConditions{Ready: &ready}})
		}
		objs.EndpointSlices = append(objs.EndpointSlices, es)
	}
	b.ReportAllocs()
	for range b.N {
		inc, err := model.NewIncremental(model.DefaultOptions())
		if err != nil {
			b.Fatal(err)
		}
		if _, _, err := inc.Apply(objs, 1); err != nil {
			b.Fatal(err)
		}
	}
}

// benchSizes returns the endpoint counts of MESHDNS_BENCH_ENDPOINTS
// (comma separated), default 1000, 10000 and 100000.
func benchSizes(b *testing.B) []int {
	s := os.Getenv("MESHDNS_BENCH_ENDPOINTS")
	if s == "" {
		return []int{1000, 10000, 100000}
	}
	var sizes []int
	for _, f := range splitComma(s) {
		n, err := strconv.Atoi(f)
		if err != nil {
			b.Fatal(err)
		}
		sizes = append(sizes, n)
	}
	return sizes
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

// incBuild is an Incremental and the table it built.
type incBuild struct {
	inc *model.Incremental
	tab *dnsengine.Table
}

// heapSplit returns the live heap the two values build returns hold
// together, and the second alone.
func heapSplit(build func() (any, any)) (both, second uint64) {
	var before, mid, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	a, v := build()
	runtime.GC()
	runtime.ReadMemStats(&mid)
	runtime.KeepAlive(a)
	a = nil
	runtime.GC()
	runtime.ReadMemStats(&after)
	runtime.KeepAlive(v)
	sub := func(x, y uint64) uint64 { return x - min(x, y) }
	return sub(mid.HeapAlloc, before.HeapAlloc), sub(after.HeapAlloc, before.HeapAlloc)
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

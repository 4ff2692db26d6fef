package observe

import (
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"

	"github.com/meshdns/meshdns/dnsengine"
)

// Observer collects meshdns's metrics and serves them. Create one with New.
type Observer struct {
	cfg  Config
	reg  *prometheus.Registry
	mask uint64

	shardsMu sync.Mutex
	shards   []*Shard

	// table and sync state, written off the packet path.
	tableUpdates  atomic.Uint64
	buildErrors   atomic.Uint64
	lastTableNano atomic.Int64
	synced        atomic.Bool

	mu          sync.Mutex
	watchErrors map[string]uint64
	reqErrors   map[string]uint64
	objects     map[string]int
}

// New returns an Observer with its own Prometheus registry holding the
// meshdns collector and the Go runtime and process collectors.
func New(cfg Config) (*Observer, error) {
	cfg = cfg.withDefaults()
	o := &Observer{
		cfg:         cfg,
		reg:         prometheus.NewRegistry(),
		mask:        sampleMask(cfg.SampleEvery),
		watchErrors: map[string]uint64{},
		reqErrors:   map[string]uint64{},
		objects:     map[string]int{},
	}
	for _, c := range []prometheus.Collector{
		newCollector(o),
		newEngineCollector(cfg.CacheMetrics, cfg.TCPFlows, cfg.TCPMemory),
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
	} {
		if err := o.reg.Register(c); err != nil {
			return nil, err
		}
	}
	return o, nil
}

// Gatherer returns the Observer's private registry.
func (o *Observer) Gatherer() prometheus.Gatherer { return o.reg }

// Shard returns a new set of packet-path counters for one queue goroutine.
func (o *Observer) Shard() *Shard {
	s := &Shard{mask: o.mask}
	o.shardsMu.Lock()
	o.shards = append(o.shards, s)
	o.shardsMu.Unlock()
	return s
}

// TableStored records that t became the current table (call it right after
// storing t in the registry).
func (o *Observer) TableStored(t *dnsengine.Table) {
	if t == nil {
		return
	}
	o.tableUpdates.Add(1)
	o.lastTableNano.Store(o.cfg.Now().UnixNano())
}

// TableBuildFailed records that a table could not be built from the
// source's objects; the previous table keeps serving.
func (o *Observer) TableBuildFailed(error) { o.buildErrors.Add(1) }

// SetSynced records whether the name source has completed its first sync.
func (o *Observer) SetSynced(v bool) { o.synced.Store(v) }

// WatchError counts one failed list or watch of resource (for example
// "services") reported by an informer. The source keeps retrying on its
// own.
func (o *Observer) WatchError(resource string, _ error) {
	o.mu.Lock()
	o.watchErrors[resource]++
	o.mu.Unlock()
}

// RequestError counts one failed request to the API server about resource
// (transport error, 429 or 5xx): the API server is unreachable, overloaded
// or restarting.
func (o *Observer) RequestError(resource string, _ error) {
	o.mu.Lock()
	o.reqErrors[resource]++
	o.mu.Unlock()
}

// SetObjects records how many objects of kind the source currently holds.
func (o *Observer) SetObjects(kind string, n int) {
	o.mu.Lock()
	o.objects[kind] = n
	o.mu.Unlock()
}

// Ready reports what /readyz reports: Config.Ready when set, otherwise
// whether SetSynced(true) was called or the registry holds a table.
func (o *Observer) Ready() bool {
	if o.cfg.Ready != nil {
		return o.cfg.Ready()
	}
	return o.synced.Load() || o.table() != nil
}

func (o *Observer) table() *dnsengine.Table {
	if o.cfg.Registry == nil {
		return nil
	}
	return o.cfg.Registry.Table()
}

func (o *Observer) lastTable() (time.Time, bool) {
	n := o.lastTableNano.Load()
	if n == 0 {
		return time.Time{}, false
	}
	return time.Unix(0, n), true
}

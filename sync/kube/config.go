package kube

import (
	"log/slog"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/rest"
	"k8s.io/utils/clock"

	"github.com/meshdns/meshdns/sync/kube/kubeclient"
)

// Defaults of Config. An update costs the objects it changes (it is a
// delta, applied to the table incrementally), so changes wait little:
// the window only gathers a burst (a rollout's slices) into one table.
const (
	DefaultDebounce   = 50 * time.Millisecond
	DefaultMaxDelay   = 200 * time.Millisecond
	DefaultCRDRecheck = 30 * time.Second
	// DefaultReadPacing lets a churn's watch events gather for 40 ms
	// before they are read (paced.go): at 500 EndpointSlice updates a
	// second they cost half the CPU they cost read one by one, for at
	// most about 40 ms more delay (bench/results/nametable/churn-session13).
	DefaultReadPacing = 40 * time.Millisecond
	// MaxReadPacing bounds ReadPacing: far below HTTP/2's health check
	// (a PING unanswered for 15 s after 30 s without a frame drops the
	// connection) and the reflectors' timeouts.
	MaxReadPacing = time.Second
)

// Config configures a Source.
type Config struct {
	// RESTConfig is the API server connection (in-cluster or from a
	// kubeconfig). It is used to build Client, Dynamic and Discovery when
	// those are nil.
	RESTConfig *rest.Config
	// Client lists and watches Services and EndpointSlices
	// (kubeclient.New; kubeclienttest adapts client-go's fake clientset).
	Client kubeclient.Interface
	// Dynamic is the dynamic client for ServiceEntries.
	Dynamic dynamic.Interface
	// Discovery finds which ServiceEntry version the server serves.
	// Default: Client.
	Discovery Discovery

	// Namespaces limits the watchers and informers to these namespaces
	// (one per namespace and resource). Nil or empty watches all
	// namespaces.
	Namespaces []string
	// Debounce is how long the source gathers changes after the first
	// one before it sends an update. Default DefaultDebounce.
	Debounce time.Duration
	// MaxDelay bounds how long an update can be held back after the
	// first change, when Debounce is longer. Default DefaultMaxDelay.
	MaxDelay time.Duration
	// ResyncPeriod is the watchers' and informers' resync period; 0 (the
	// default and the recommendation) disables resync: the source needs no
	// periodic replay (it ignores one).
	ResyncPeriod time.Duration
	// CRDRecheck is how often discovery is asked again while no
	// ServiceEntry version is served. Default DefaultCRDRecheck; negative
	// disables the re-check.
	CRDRecheck time.Duration
	// ReadPacing is how long, once synced, the source lets the API
	// server's bytes gather after a read that emptied the socket, before
	// it reads again (paced.go). It applies to the connections the source
	// dials from RESTConfig. Default DefaultReadPacing; negative reads at
	// once; at most MaxReadPacing.
	ReadPacing time.Duration

	// Logger receives watch errors and sync state changes. Nil discards.
	Logger *slog.Logger
	// Observer receives the same events for metrics. Nil ignores them.
	Observer Observer
	// Clock drives the debounce timers, for tests. Nil means the real clock.
	Clock clock.WithTicker
}

// Observer is told about the source's state; observe.Observer implements
// it. Calls come from watcher, informer and source goroutines and must not
// block.
type Observer interface {
	// WatchError counts one failed list or watch of resource
	// ("services", "endpointslices" or "serviceentries") reported by a
	// reflector: expired resource versions, decoding errors, denials.
	WatchError(resource string, err error)
	// RequestError counts one failed request to the API server about
	// resource (or "discovery", or "pods" for a pod watch sharing
	// Source.HTTPClient): transport errors and 429/5xx answers, as
	// seen while the API server is unreachable or restarting. Only counted
	// when the source builds its clients from RESTConfig.
	RequestError(resource string, err error)
	// SetSynced reports whether every watcher and informer has synced.
	SetSynced(synced bool)
	// SetObjects reports how many objects of kind ("Service",
	// "EndpointSlice", "ServiceEntry") the last update held.
	SetObjects(kind string, n int)
}

// Discovery is the part of client-go's discovery client the source uses.
type Discovery interface {
	ServerResourcesForGroupVersion(groupVersion string) (*metav1.APIResourceList, error)
}

type nopObserver struct{}

func (nopObserver) WatchError(string, error)   {}
func (nopObserver) RequestError(string, error) {}
func (nopObserver) SetSynced(bool)             {}
func (nopObserver) SetObjects(string, int)     {}

package kube

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/cache"
	"k8s.io/utils/clock"

	"github.com/meshdns/meshdns/sync/kube/kubeclient"
	"github.com/meshdns/meshdns/sync/model"
)

// Source is the API server name source. Create it with New; Run it once.
type Source struct {
	client     kubeclient.Interface
	dyn        dynamic.Interface
	disc       Discovery
	namespaces []string // "" alone means all
	debounce   time.Duration
	maxDelay   time.Duration
	resync     time.Duration
	recheck    time.Duration
	pace       *pacer       // nil when ReadPacing is negative
	hc         *http.Client // built from RESTConfig; nil when given clients
	log        *slog.Logger
	obs        Observer
	clock      clock.WithTicker

	running   atomic.Bool
	synced    atomic.Bool
	informers sync.WaitGroup // every watcher's and informer's goroutine

	// dirty is signalled (without blocking) by the watchers and the
	// ServiceEntry informers' event handlers, after they note what changed
	// in pending.
	dirty   chan struct{}
	pending pending

	// Watchers (one per namespace) and informers, set up by Run.
	services, slices []*watcher
	entries          atomic.Pointer[entryInformers]
	seCache          map[string]cachedEntry
}

// entryInformers are the ServiceEntry informers once a version is found.
type entryInformers struct {
	gvr       schema.GroupVersionResource
	informers []cache.SharedIndexInformer
	synced    atomic.Bool
}

var _ model.Source = (*Source)(nil)

// New checks cfg and returns a Source. It does not contact the API server.
func New(cfg Config) (*Source, error) {
	s := &Source{
		client:   cfg.Client,
		dyn:      cfg.Dynamic,
		disc:     cfg.Discovery,
		debounce: cfg.Debounce,
		maxDelay: cfg.MaxDelay,
		resync:   cfg.ResyncPeriod,
		recheck:  cfg.CRDRecheck,
		log:      cfg.Logger,
		obs:      cfg.Observer,
		clock:    cfg.Clock,
		dirty:    make(chan struct{}, 1),
		seCache:  map[string]cachedEntry{},
	}
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	if s.obs == nil {
		s.obs = nopObserver{}
	}
	if cfg.ReadPacing > MaxReadPacing {
		return nil, fmt.Errorf("kube: ReadPacing %v is over %v", cfg.ReadPacing, MaxReadPacing)
	}
	if cfg.ReadPacing >= 0 {
		// Only the connections dialed from RESTConfig are paced; the
		// pacer's holds are counted all the same.
		s.pace = newPacer(cmp.Or(cfg.ReadPacing, DefaultReadPacing))
	}
	if s.client == nil || s.dyn == nil {
		if cfg.RESTConfig == nil {
			return nil, errors.New("kube: no RESTConfig and no clients")
		}
		rc := rest.CopyConfig(cfg.RESTConfig)
		if rc.UserAgent == "" {
			rc.UserAgent = "meshdns"
		}
		if s.pace != nil {
			rc.Dial = s.pace.dial(rc.Dial)
		}
		rc.Wrap(func(rt http.RoundTripper) http.RoundTripper {
			return &apiTransport{next: rt, obs: s.obs, log: s.log, pace: s.pace, failing: map[string]bool{}}
		})
		// One HTTP client, so that every list and watch goes over one
		// connection (HTTP/2): rest.Config's Dial makes each client built
		// from rc a transport, and a connection, of its own.
		hc, err := rest.HTTPClientFor(rc)
		if err != nil {
			return nil, fmt.Errorf("kube: %w", err)
		}
		s.hc = hc
		if s.dyn == nil {
			d, err := dynamic.NewForConfigAndClient(rc, hc)
			if err != nil {
				return nil, fmt.Errorf("kube: dynamic client: %w", err)
			}
			s.dyn = d
		}
		if s.client == nil {
			c, err := kubeclient.NewForConfigAndClient(rc, hc)
			if err != nil {
				return nil, fmt.Errorf("kube: %w", err)
			}
			s.client = c
		}
	}
	if s.disc == nil {
		s.disc = s.client
	}
	if s.debounce <= 0 {
		s.debounce = DefaultDebounce
	}
	if s.maxDelay <= 0 {
		s.maxDelay = DefaultMaxDelay
	}
	if s.resync < 0 {
		return nil, errors.New("kube: negative ResyncPeriod")
	}
	if s.recheck == 0 {
		s.recheck = DefaultCRDRecheck
	}
	if s.clock == nil {
		s.clock = clock.RealClock{}
	}
	for _, ns := range cfg.Namespaces {
		if ns == "" {
			return nil, errors.New("kube: empty namespace in Namespaces")
		}
		if !slices.Contains(s.namespaces, ns) {
			s.namespaces = append(s.namespaces, ns)
		}
	}
	if len(s.namespaces) == 0 {
		s.namespaces = []string{""} // metav1.NamespaceAll
	}
	return s, nil
}

// HTTPClient is the HTTP client the source built from Config.RESTConfig
// (nil when it was given its clients), for other clients of the same API
// server to share its connection: a client built from the same
// rest.Config would dial one of its own, as the source's dialer is its
// own. Its reads are paced as the source's.
func (s *Source) HTTPClient() *http.Client { return s.hc }

// Synced reports whether every watcher and informer has completed its first
// list, that is whether Run has sent (or is about to send) its first
// update.
func (s *Source) Synced() bool { return s.synced.Load() }

// Run implements model.Source. It returns nil when ctx is done, and an
// error only when called twice.
func (s *Source) Run(ctx context.Context, update func(*model.Objects)) error {
	if !s.running.CompareAndSwap(false, true) {
		return errors.New("kube: Source.Run called twice")
	}
	ctx, cancel := context.WithCancel(ctx)
	defer func() {
		// Cancel first: the watchers and informers end with ctx.
		cancel()
		s.informers.Wait()
		s.synced.Store(false)
		s.obs.SetSynced(false)
		s.pace.hold() // until a next Run syncs (none: Run runs once)
	}()

	for _, ns := range s.namespaces {
		svc := s.watcher(kubeclient.Services, ns, shrinkService)
		eps := s.watcher(kubeclient.EndpointSlices, ns, shrinkEndpointSlice)
		s.services = append(s.services, svc)
		s.slices = append(s.slices, eps)
		for _, w := range []*watcher{svc, eps} {
			s.informers.Go(func() { w.run(ctx) })
		}
	}

	gvr, found, err := s.discoverServiceEntries(ctx)
	if err != nil {
		return nil // ctx done
	}
	if found {
		if err := s.startEntries(ctx, gvr); err != nil {
			return err
		}
	} else {
		s.log.Info("ServiceEntry API not served; no ServiceEntries", "recheck", s.recheck)
	}

	var wait []cache.InformerSynced
	for _, w := range slices.Concat(s.services, s.slices) {
		wait = append(wait, w.hasSynced)
	}
	if e := s.entries.Load(); e != nil {
		for _, i := range e.informers {
			wait = append(wait, i.HasSynced)
		}
	}
	if !cache.WaitForCacheSync(ctx.Done(), wait...) {
		return nil // ctx done
	}
	if e := s.entries.Load(); e != nil {
		e.synced.Store(true)
	}
	s.synced.Store(true)
	s.obs.SetSynced(true)
	s.pace.release() // the hold of newPacer

	select { // the initial lists are in the first update
	case <-s.dirty:
	default:
	}
	objs := s.snapshot()
	s.log.Info("API objects synced", "services", len(objs.Services), "endpointslices", len(objs.EndpointSlices), "serviceentries", len(objs.ServiceEntries))
	update(objs)

	return s.loop(ctx, update)
}

// loop sends coalesced updates until ctx is done.
func (s *Source) loop(ctx context.Context, update func(*model.Objects)) error {
	co := coalescer{debounce: s.debounce, maxDelay: s.maxDelay}
	timer := s.clock.NewTimer(time.Hour)
	timer.Stop()
	defer timer.Stop()

	var recheck <-chan time.Time
	if s.entries.Load() == nil && s.recheck > 0 {
		t := s.clock.NewTicker(s.recheck)
		defer t.Stop()
		recheck = t.C()
	}
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-s.dirty:
			now := s.clock.Now()
			due := co.changed(now)
			timer.Stop()
			timer.Reset(max(due.Sub(now), 0))
		case <-timer.C():
			co.sent()
			if objs := s.delta(); objs != nil {
				update(objs)
			}
		case <-recheck:
			gvr, found, err := findServiceEntries(s.disc)
			if err != nil {
				s.log.Debug("ServiceEntry discovery failed", "err", err)
				continue
			}
			if !found {
				continue
			}
			s.log.Info("ServiceEntry API appeared; watching it", "version", gvr.Version)
			if err := s.startEntries(ctx, gvr); err != nil {
				return err
			}
			recheck = nil
			e := s.entries.Load()
			go func() {
				waits := make([]cache.InformerSynced, len(e.informers))
				for i, inf := range e.informers {
					waits[i] = inf.HasSynced
				}
				if cache.WaitForCacheSync(ctx.Done(), waits...) {
					e.synced.Store(true)
					if s.pending.noteEntries() {
						s.changed()
					}
				}
			}()
		}
	}
}

// startEntries starts the ServiceEntry informers for gvr.
func (s *Source) startEntries(ctx context.Context, gvr schema.GroupVersionResource) error {
	e := &entryInformers{gvr: gvr}
	for _, ns := range s.namespaces {
		// As client-go's dynamicinformer builds it; that package links
		// client-go's informer factory for every API group.
		res := s.dyn.Resource(gvr).Namespace(ns)
		lw := cache.ToListWatcherWithWatchListSemantics(&cache.ListWatch{
			ListWithContextFunc: func(ctx context.Context, o metav1.ListOptions) (runtime.Object, error) {
				return res.List(ctx, o)
			},
			WatchFuncWithContext: res.Watch,
		}, s.dyn)
		inf := cache.NewSharedIndexInformer(lw, &unstructured.Unstructured{}, s.resync,
			cache.Indexers{cache.NamespaceIndex: cache.MetaNamespaceIndexFunc})
		if err := s.setup(inf, "serviceentries", shrinkServiceEntry); err != nil {
			return err
		}
		e.informers = append(e.informers, inf)
	}
	s.entries.Store(e)
	for _, inf := range e.informers {
		s.informers.Go(func() { inf.RunWithContext(ctx) })
	}
	return nil
}

// changed signals the loop without blocking.
func (s *Source) changed() {
	select {
	case s.dirty <- struct{}{}:
	default:
	}
}

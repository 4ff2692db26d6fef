package pods

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"

	"github.com/meshdns/meshdns/node/poddns"
	"github.com/meshdns/meshdns/node/podevent"
)

// DefaultMaxPods is the kubelet's default --max-pods.
const DefaultMaxPods = 110

// Pod is what a Server is started for.
type Pod struct {
	Event podevent.Event
	// DNS is the pod's resolver configuration and Context what the pod is
	// answered with.
	DNS     poddns.DNS
	Context poddns.Context
}

// Server serves one pod. Stop releases everything it holds (sockets,
// goroutines, file descriptors) and returns once it has.
type Server interface{ Stop() }

// StartFunc starts serving p; it returns once p is answered.
type StartFunc func(ctx context.Context, p Pod) (Server, error)

// LookupFunc returns the Pod object of namespace/name, or nil when the
// agent does not know it (yet).
type LookupFunc func(namespace, name string) *corev1.Pod

// Config configures a Registry.
type Config struct {
	Start StartFunc
	// Kubelet is the node's DNS configuration (the kubelet's flags).
	Kubelet poddns.Kubelet
	// Lookup finds a pod's object for its dnsPolicy and dnsConfig; nil,
	// or an unknown pod, means ClusterFirst without dnsConfig (the API's
	// default).
	Lookup LookupFunc
	// Capture decides whether the pod of an add is served (its label, its
	// namespace's); nil serves every pod. It may wait a little for the
	// pod's object. Add returns podevent.ErrNotCaptured for a pod it
	// leaves alone.
	Capture func(ctx context.Context, e podevent.Event) bool
	// MaxPods bounds the pods served (DefaultMaxPods when 0).
	MaxPods int
	Logger  *slog.Logger
}

type entry struct {
	pod Pod
	srv Server
}

// Registry holds the pods served. Its methods are safe for concurrent use.
type Registry struct {
	cfg  Config
	log  *slog.Logger
	mu   sync.Mutex
	pods map[string]*entry // by container id
}

// New returns an empty Registry.
func New(cfg Config) (*Registry, error) {
	if cfg.Start == nil {
		return nil, errors.New("pods: no StartFunc")
	}
	if cfg.MaxPods <= 0 {
		cfg.MaxPods = DefaultMaxPods
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	return &Registry{cfg: cfg, log: cfg.Logger, pods: map[string]*entry{}}, nil
}

// Handle applies one event (a podevent.Handler).
func (r *Registry) Handle(ctx context.Context, e podevent.Event) error {
	if err := e.Check(); err != nil {
		return err
	}
	if e.Op == podevent.OpDel {
		r.Del(e.ContainerID)
		return nil
	}
	return r.Add(ctx, e)
}

// Context computes the DNS context of the pod e names.
func (r *Registry) Context(e podevent.Event) (poddns.DNS, poddns.Context) {
	var obj *corev1.Pod
	if r.cfg.Lookup != nil {
		obj = r.cfg.Lookup(e.Namespace, e.Name)
	}
	if obj == nil {
		obj = &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Namespace: e.Namespace, Name: e.Name, UID: types.UID(e.UID)},
			Spec: corev1.PodSpec{DNSPolicy: corev1.DNSClusterFirst}}
	}
	d := poddns.For(obj, r.cfg.Kubelet)
	return d, d.Context(e.Namespace)
}

// Add starts serving the pod of e. Adding a sandbox already served with
// the same namespace path does nothing; with another path it is restarted.
// A pod Config.Capture leaves alone gets podevent.ErrNotCaptured.
func (r *Registry) Add(ctx context.Context, e podevent.Event) error {
	if r.cfg.Capture != nil && !r.cfg.Capture(ctx, e) {
		r.log.Info("pod not captured", "pod", e.Namespace+"/"+e.Name, "container", e.ContainerID)
		return podevent.ErrNotCaptured
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if old, ok := r.pods[e.ContainerID]; ok {
		if old.pod.Event.NetNS == e.NetNS {
			return nil
		}
		old.srv.Stop()
		delete(r.pods, e.ContainerID)
	}
	if len(r.pods) >= r.cfg.MaxPods {
		return fmt.Errorf("pods: %d pods served already (max)", len(r.pods))
	}
	d, c := r.Context(e)
	for _, w := range d.Warnings {
		r.log.Warn("pod DNS config", "pod", e.Namespace+"/"+e.Name, "warning", w)
	}
	p := Pod{Event: e, DNS: d, Context: c}
	srv, err := r.cfg.Start(ctx, p)
	if err != nil {
		return fmt.Errorf("pods: serving %s/%s: %w", e.Namespace, e.Name, err)
	}
	r.pods[e.ContainerID] = &entry{pod: p, srv: srv}
	r.log.Info("pod served", "pod", e.Namespace+"/"+e.Name, "container", e.ContainerID, "netns", e.NetNS,
		"nameservers", c.Nameservers, "search", c.Search, "pods", len(r.pods))
	return nil
}

// Del stops serving the sandbox containerID; an unknown one is no error.
func (r *Registry) Del(containerID string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	e, ok := r.pods[containerID]
	if !ok {
		return
	}
	e.srv.Stop()
	delete(r.pods, containerID)
	r.log.Info("pod released", "pod", e.pod.Event.Namespace+"/"+e.pod.Event.Name, "container", containerID, "pods", len(r.pods))
}

// Len is how many pods are served.
func (r *Registry) Len() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.pods)
}

// Pods returns the pods served.
func (r *Registry) Pods() []Pod {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := make([]Pod, 0, len(r.pods))
	for _, e := range r.pods {
		out = append(out, e.pod)
	}
	return out
}

// Close stops every pod, all at once (each Stop drains its own queue).
func (r *Registry) Close() {
	r.mu.Lock()
	defer r.mu.Unlock()
	var wg sync.WaitGroup
	for id, e := range r.pods {
		wg.Go(e.srv.Stop)
		delete(r.pods, id)
	}
	wg.Wait()
}

package main

import (
	"fmt"
	"log/slog"
	"sync/atomic"

	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"
	"k8s.io/klog/v2"

	"github.com/meshdns/meshdns/observe"
	"github.com/meshdns/meshdns/sync/kube"
)

// newKubeSource watches the API server: the in-cluster config, or the
// kubeconfig at path.
func newKubeSource(path string, namespaces []string, log *slog.Logger, obs kube.Observer) (*kube.Source, error) {
	klog.SetSlogLogger(log.With("component", "client-go"))
	var rc *rest.Config
	var err error
	if path == "" {
		rc, err = rest.InClusterConfig()
		if err != nil {
			return nil, fmt.Errorf("no --objects file and no in-cluster API server (%w); give --objects FILE or --kubeconfig PATH", err)
		}
	} else if rc, err = clientcmd.BuildConfigFromFlags("", path); err != nil {
		return nil, fmt.Errorf("--kubeconfig %s: %w", path, err)
	}
	rc.UserAgent = "meshdns"
	src, err := kube.New(kube.Config{RESTConfig: rc, Namespaces: namespaces, Logger: log, Observer: obs})
	if err != nil {
		return nil, err
	}
	log.Info("names from the API server", "host", rc.Host, "namespaces", namespaces)
	return src, nil
}

// kubeObserver forwards the source's events to the observer, which is
// created after the source (it needs the engine).
type kubeObserver struct {
	o atomic.Pointer[observe.Observer]
}

func (k *kubeObserver) WatchError(resource string, err error) {
	if o := k.o.Load(); o != nil {
		o.WatchError(resource, err)
	}
}

func (k *kubeObserver) RequestError(resource string, err error) {
	if o := k.o.Load(); o != nil {
		o.RequestError(resource, err)
	}
}

func (k *kubeObserver) SetSynced(synced bool) {
	if o := k.o.Load(); o != nil {
		o.SetSynced(synced)
	}
}

func (k *kubeObserver) SetObjects(kind string, n int) {
	if o := k.o.Load(); o != nil {
		o.SetObjects(kind, n)
	}
}

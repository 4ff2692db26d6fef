package main

import (
	"fmt"
	"log/slog"
	"sync/atomic"

	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"
	"k8s.io/klog/v2"

	"github.com/meshdns/meshdns/node/podwatch"
	"github.com/meshdns/meshdns/observe"
	"github.com/meshdns/meshdns/sync/kube"
	"github.com/meshdns/meshdns/sync/kube/kubeclient"
)

// newKubeSource watches the API server of f.
func newKubeSource(f *sourceFlags, namespaces []string, log *slog.Logger, obs kube.Observer) (*kube.Source, error) {
	rc, err := f.restConfig(log)
	if err != nil {
		return nil, err
	}
	pacing := f.pacing
	if pacing == 0 {
		pacing = -1 // kube.Config's "read at once"
	}
	src, err := kube.New(kube.Config{RESTConfig: rc, Namespaces: namespaces, ReadPacing: pacing, Logger: log, Observer: obs})
	if err != nil {
		return nil, err
	}
	log.Info("names from the API server", "host", rc.Host, "namespaces", namespaces)
	return src, nil
}

// restConfig is the API server's client configuration: the in-cluster
// config, or the kubeconfig of --kubeconfig, with gzip as --kube-gzip
// says.
func (f *sourceFlags) restConfig(log *slog.Logger) (*rest.Config, error) {
	klog.SetSlogLogger(log.With("component", "client-go"))
	path := f.kubecfg
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
	rc.DisableCompression = !f.gzip
	return rc, nil
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

// newPodWatch watches the Pods of node through the API server of f, over
// src's connection (one to the API server per node, not two).
func newPodWatch(f *sourceFlags, node string, src *kube.Source, log *slog.Logger) (*podwatch.Watch, error) {
	rc, err := f.restConfig(log)
	if err != nil {
		return nil, err
	}
	c, err := kubeclient.NewForConfigAndClient(rc, src.HTTPClient())
	if err != nil {
		return nil, err
	}
	return podwatch.New(podwatch.Config{Client: c, Node: node})
}

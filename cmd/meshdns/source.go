package main

import (
	"context"
	"errors"
	"flag"
	"log/slog"
	"time"

	"github.com/meshdns/meshdns/sync/kube"
	"github.com/meshdns/meshdns/sync/model"
	"github.com/meshdns/meshdns/sync/objects"
)

// sourceFlags choose the name source, shared by "run" and "node": an
// objects file or the API server.
type sourceFlags struct {
	objects string
	kubecfg string
	gzip    bool
	pacing  time.Duration
	reload  time.Duration
}

func (f *sourceFlags) register(fs *flag.FlagSet) {
	fs.StringVar(&f.objects, "objects", "", "file of Kubernetes objects (Services, EndpointSlices, ServiceEntries) to answer from, reloaded on change; without it names come from the API server")
	fs.StringVar(&f.kubecfg, "kubeconfig", "", "kubeconfig of the API server to watch (default: in-cluster config)")
	fs.BoolVar(&f.gzip, "kube-gzip", false, "ask the API server to gzip its lists and watches: less traffic, more CPU for meshdns and for the API server, once per watcher (off: decompression was a tenth of meshdns's CPU under EndpointSlice churn)")
	fs.DurationVar(&f.pacing, "kube-read-pacing", kube.DefaultReadPacing, "once synced, how long the API server's bytes gather after a read that took all there was, before the next read: the process wakes once this often under churn, not once a watch event; 0 reads at once")
	fs.DurationVar(&f.reload, "reload-interval", time.Second, "how often the objects file is checked for changes where inotify cannot watch it (otherwise changes are seen at once, with no timer)")
}

func (f *sourceFlags) check() error {
	if f.objects != "" && f.kubecfg != "" {
		return usageError{errors.New("--objects and --kubeconfig exclude each other: one name source")}
	}
	return nil
}

// loadObjects opens the objects file and loads it once: the source's Run
// then only watches it for changes.
func (f *sourceFlags) loadObjects(log *slog.Logger) (*objects.Source, *model.Objects, error) {
	src, err := objects.NewSource(objects.Config{Path: f.objects, Interval: f.reload, Logger: log})
	if err != nil {
		return nil, nil, err
	}
	objs, err := src.Load()
	if err != nil {
		return nil, nil, err
	}
	if st := src.Stats().Parse; st.SkippedTotal() > 0 {
		log.Info("objects of other kinds skipped", "file", f.objects, "count", st.SkippedTotal(), "kinds", st.Skipped)
	}
	return src, objs, nil
}

// runSource runs src, each set of objects it delivers going to store,
// until ctx ends or stop is called; done delivers what Run returned.
func runSource(ctx context.Context, src model.Source, store *tableStore) (done <-chan error, stop context.CancelFunc) {
	ctx, stop = context.WithCancel(ctx)
	ch := make(chan error, 1)
	go func() { ch <- src.Run(ctx, store.update) }()
	return ch, stop
}

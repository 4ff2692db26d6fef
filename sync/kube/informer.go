package kube

import (
	"context"
	"errors"
	"fmt"
	"io"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/client-go/tools/cache"
)

// setup installs the transform, the event handlers and the watch error
// handler on a ServiceEntry informer that has not started. (They are few:
// an informer's cache of them costs little. Services and EndpointSlices
// have watchers, watch.go, which keep no objects.)
func (s *Source) setup(inf cache.SharedIndexInformer, resource string, transform cache.TransformFunc) error {
	if err := inf.SetTransform(transform); err != nil {
		return fmt.Errorf("kube: %s transform: %w", resource, err)
	}
	if err := inf.SetWatchErrorHandlerWithContext(s.watchErrorHandler(resource)); err != nil {
		return fmt.Errorf("kube: %s watch error handler: %w", resource, err)
	}
	note := func(any) {
		if s.pending.noteEntries() {
			s.changed()
		}
	}
	_, err := inf.AddEventHandler(cache.ResourceEventHandlerFuncs{
		AddFunc: note,
		UpdateFunc: func(oldObj, newObj any) {
			// A relist after a broken watch replays every object as an
			// update; only a new resourceVersion is a change.
			if sameVersion(oldObj, newObj) {
				return
			}
			note(newObj)
		},
		DeleteFunc: note,
	})
	if err != nil {
		return fmt.Errorf("kube: %s event handler: %w", resource, err)
	}
	return nil
}

func sameVersion(a, b any) bool {
	ma, err := meta.Accessor(a)
	if err != nil {
		return false
	}
	mb, err := meta.Accessor(b)
	if err != nil {
		return false
	}
	return ma.GetResourceVersion() != "" && ma.GetResourceVersion() == mb.GetResourceVersion()
}

// watchErrorHandler logs and counts a failed list or watch. The reflector
// backs off and retries by itself; the last table keeps serving.
func (s *Source) watchErrorHandler(resource string) cache.WatchErrorHandlerWithContext {
	return func(ctx context.Context, _ *cache.Reflector, err error) {
		if ctx.Err() != nil || errors.Is(err, context.Canceled) {
			return // the source is stopping
		}
		s.obs.WatchError(resource, err)
		switch {
		case apierrors.IsResourceExpired(err) || apierrors.IsGone(err):
			// Normal on long watches: the reflector relists.
			s.log.Info("watch expired; relisting", "resource", resource, "err", err)
		case errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF):
			s.log.Info("watch closed; rewatching", "resource", resource, "err", err)
		default:
			s.log.Warn("list/watch failed; serving the last names and retrying", "resource", resource, "err", err)
		}
	}
}

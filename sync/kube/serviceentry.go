package kube

import (
	"context"
	"fmt"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/runtime/schema"

	"github.com/meshdns/meshdns/sync/model"
)

// serviceEntryVersions are the ServiceEntry versions read, in order of
// preference. v1 and v1beta1 share one schema.
var serviceEntryVersions = []string{"v1", "v1beta1"}

// findServiceEntries asks discovery which ServiceEntry version the server
// serves. found is false when none is (no Istio CRD): that is not an error.
// An error means discovery itself failed and the answer is unknown.
func findServiceEntries(d Discovery) (gvr schema.GroupVersionResource, found bool, err error) {
	for _, v := range serviceEntryVersions {
		gv := model.ServiceEntryGroup + "/" + v
		list, err := d.ServerResourcesForGroupVersion(gv)
		if apierrors.IsNotFound(err) {
			continue
		}
		if err != nil {
			return gvr, false, fmt.Errorf("discovery of %s: %w", gv, err)
		}
		for _, r := range list.APIResources {
			if r.Name == "serviceentries" {
				return schema.GroupVersionResource{Group: model.ServiceEntryGroup, Version: v, Resource: "serviceentries"}, true, nil
			}
		}
	}
	return gvr, false, nil
}

// discoverServiceEntries is findServiceEntries retried with backoff until
// discovery answers or ctx is done. A Forbidden answer counts as "not
// served" (logged), so a restrictive RBAC setup does not block start-up.
func (s *Source) discoverServiceEntries(ctx context.Context) (schema.GroupVersionResource, bool, error) {
	backoff := 500 * time.Millisecond
	for {
		gvr, found, err := findServiceEntries(s.disc)
		if err == nil {
			return gvr, found, nil
		}
		if apierrors.IsForbidden(err) {
			s.log.Warn("ServiceEntry discovery forbidden; continuing without ServiceEntries", "err", err)
			return gvr, false, nil
		}
		s.log.Warn("ServiceEntry discovery failed; retrying", "err", err, "retry_in", backoff)
		s.obs.WatchError("serviceentries", err)
		t := s.clock.NewTimer(backoff)
		select {
		case <-ctx.Done():
			t.Stop()
			return gvr, false, ctx.Err()
		case <-t.C():
		}
		backoff = min(2*backoff, 30*time.Second)
	}
}

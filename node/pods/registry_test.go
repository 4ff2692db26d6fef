package pods

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"sync/atomic"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/meshdns/meshdns/node/poddns"
	"github.com/meshdns/meshdns/node/podevent"
)

type fakeServer struct{ live *atomic.Int64 }

func (f fakeServer) Stop() { f.live.Add(-1) }

func newTestRegistry(t *testing.T, maxPods int, lookup LookupFunc) (*Registry, *atomic.Int64, *[]Pod) {
	live := &atomic.Int64{}
	var started []Pod
	r, err := New(Config{
		Start: func(_ context.Context, p Pod) (Server, error) {
			if p.Event.Name == "broken" {
				return nil, errors.New("no such namespace")
			}
			started = append(started, p)
			live.Add(1)
			return fakeServer{live}, nil
		},
		Kubelet: poddns.Kubelet{ClusterDNS: []string{"10.96.0.10"}, ClusterDomain: "cluster.local", HostFile: true},
		Lookup:  lookup, MaxPods: maxPods,
	})
	if err != nil {
		t.Fatal(err)
	}
	return r, live, &started
}

func add(ns, name, id, netns string) podevent.Event {
	return podevent.Event{Op: podevent.OpAdd, Namespace: ns, Name: name, ContainerID: id, NetNS: netns}
}

func TestRegistry(t *testing.T) {
	none := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Namespace: "batch", Name: "job"},
		Spec: corev1.PodSpec{DNSPolicy: corev1.DNSNone, DNSConfig: &corev1.PodDNSConfig{Nameservers: []string{"1.1.1.1"}}}}
	r, live, started := newTestRegistry(t, 2, func(ns, name string) *corev1.Pod {
		if ns == "batch" && name == "job" {
			return none
		}
		return nil
	})
	ctx := context.Background()
	if err := r.Handle(ctx, add("shop", "web", "c1", "/run/netns/a")); err != nil {
		t.Fatal(err)
	}
	// The same sandbox again: nothing new.
	if err := r.Handle(ctx, add("shop", "web", "c1", "/run/netns/a")); err != nil || len(*started) != 1 {
		t.Fatalf("repeated add: %v, started %d", err, len(*started))
	}
	c := (*started)[0].Context
	if c.Namespace != "shop" || !slices.Equal(c.Search, []string{"shop.svc.cluster.local", "svc.cluster.local", "cluster.local"}) || c.Ndots != 5 {
		t.Fatalf("unknown pod's context = %+v, want ClusterFirst in shop", c)
	}
	if err := r.Handle(ctx, add("batch", "job", "c2", "/run/netns/b")); err != nil {
		t.Fatal(err)
	}
	if c := (*started)[1].Context; len(c.Nameservers) != 1 || c.Nameservers[0].String() != "1.1.1.1" || c.Search != nil {
		t.Fatalf("dnsPolicy None pod's context = %+v", c)
	}
	if err := r.Handle(ctx, add("shop", "third", "c3", "/run/netns/c")); err == nil {
		t.Fatal("a third pod over MaxPods 2 was served")
	}
	if err := r.Handle(ctx, podevent.Event{Op: podevent.OpDel, ContainerID: "c1"}); err != nil {
		t.Fatal(err)
	}
	if err := r.Handle(ctx, podevent.Event{Op: podevent.OpDel, ContainerID: "unknown"}); err != nil {
		t.Fatal(err)
	}
	if err := r.Handle(ctx, add("shop", "broken", "c4", "/run/netns/d")); err == nil {
		t.Fatal("a failed start reported success")
	}
	if r.Len() != 1 || live.Load() != 1 {
		t.Fatalf("served %d, live servers %d; want 1, 1", r.Len(), live.Load())
	}
	// A sandbox re-added with another namespace is restarted there.
	if err := r.Handle(ctx, add("batch", "job", "c2", "/run/netns/e")); err != nil || live.Load() != 1 || r.Pods()[0].Event.NetNS != "/run/netns/e" {
		t.Fatalf("re-add: %v live %d pods %+v", err, live.Load(), r.Pods())
	}
	r.Close()
	if r.Len() != 0 || live.Load() != 0 {
		t.Fatalf("after Close: served %d, live %d", r.Len(), live.Load())
	}
}

// TestCapture: a pod Config.Capture leaves alone is not started and gets
// podevent.ErrNotCaptured; the others are served.
func TestCapture(t *testing.T) {
	var started []string
	r, err := New(Config{
		Start: func(_ context.Context, p Pod) (Server, error) {
			started = append(started, p.Event.Name)
			return fakeServer{&atomic.Int64{}}, nil
		},
		Capture: func(_ context.Context, e podevent.Event) bool { return e.Name != "plain" },
	})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	if err := r.Handle(ctx, add("shop", "plain", "c1", "/run/netns/a")); !errors.Is(err, podevent.ErrNotCaptured) {
		t.Fatalf("pod left alone: %v, want ErrNotCaptured", err)
	}
	if err := r.Handle(ctx, add("shop", "web", "c2", "/run/netns/b")); err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(started, []string{"web"}) || r.Len() != 1 {
		t.Fatalf("started %v, served %d; want only web", started, r.Len())
	}
}

func TestRecover(t *testing.T) {
	dir := t.TempDir()
	res := filepath.Join(dir, "results")
	os.MkdirAll(res, 0o700)
	live := filepath.Join(dir, "netns-live")
	os.WriteFile(live, nil, 0o600)
	entry := func(name, conf, netns, id string) {
		b := fmt.Sprintf(`{"kind":"cniCacheV1","containerId":%q,"config":%q,"ifName":"eth0","networkName":"k8s","netns":%q,
			"cniArgs":[["IgnoreUnknown","1"],["K8S_POD_NAMESPACE","shop"],["K8S_POD_NAME","web-%s"],["K8S_POD_UID","u-%s"]]}`,
			id, b64(conf), netns, id, id)
		os.WriteFile(filepath.Join(res, name), []byte(b), 0o600)
	}
	ours := `{"cniVersion":"1.0.0","name":"k8s","plugins":[{"type":"bridge"},{"type":"meshdns-cni"}]}`
	entry("k8s-a-eth0", ours, live, "a")
	entry("k8s-b-eth0", ours, filepath.Join(dir, "gone"), "b")
	entry("k8s-c-eth0", `{"cniVersion":"1.0.0","name":"k8s","plugins":[{"type":"bridge"}]}`, live, "c")
	os.WriteFile(filepath.Join(res, "garbage"), []byte("{not json"), 0o600)
	evs, skipped, err := Recover(dir)
	if err != nil {
		t.Fatal(err)
	}
	want := podevent.Event{Op: podevent.OpAdd, Namespace: "shop", Name: "web-a", UID: "u-a", ContainerID: "a", NetNS: live}
	if len(evs) != 1 || evs[0] != want || skipped != 1 {
		t.Fatalf("Recover = %+v, skipped %d; want [%+v], 1", evs, skipped, want)
	}
	if evs, _, err := Recover(filepath.Join(dir, "none")); err != nil || evs != nil {
		t.Fatalf("no cache dir: %v %v", evs, err)
	}
}

func b64(s string) string { return base64.StdEncoding.EncodeToString([]byte(s)) }

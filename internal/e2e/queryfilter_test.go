package e2e_test

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/meshdns/meshdns/internal/podtest"
)

// queued returns how many packets the kernel has handed to the pod's
// queues so far: the sum of each queue's id_sequence in
// /proc/net/netfilter/nfnetlink_queue (per network namespace).
func queued(t *testing.T, p *podtest.Pod) uint64 {
	t.Helper()
	var n uint64
	for _, l := range strings.Split(strings.TrimSpace(p.MustExec(t, "cat", "/proc/net/netfilter/nfnetlink_queue")), "\n") {
		f := strings.Fields(l)
		if len(f) < 8 {
			t.Fatalf("nfnetlink_queue: %q", l)
		}
		id, err := strconv.ParseUint(f[7], 10, 64)
		if err != nil {
			t.Fatalf("nfnetlink_queue: %q: %v", l, err)
		}
		n += id
	}
	return n
}

// TestKernelQueryFilter: with the cache off, the rules queue only the UDP
// queries that may ask for a name meshdns answers. Mesh names (any case),
// ServiceEntry hosts and wildcards, reverse names and single-label names
// are answered in the pod; other names reach the nameserver without
// being queued; a ServiceEntry host added to the objects file is answered
// once the file is reloaded, which reinstalls the rules.
func TestKernelQueryFilter(t *testing.T) {
	t.Parallel()
	objs := filepath.Join(t.TempDir(), "objects.yaml")
	orig, err := os.ReadFile(objectsFile)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(objs, orig, 0o644); err != nil {
		t.Fatal(err)
	}
	p := startPod(t, podtest.Config{Objects: objs, Args: []string{"--cache-size", "0"}})
	if r := p.Rules(t); !strings.Contains(r, "--hex-string \"|07636c7573746572056c6f63616c00|\"") || !strings.Contains(r, "-m u32") {
		t.Fatalf("no query filter in the rules:\n%s", r)
	}

	for _, args := range [][]string{
		{"web.default.svc.cluster.local", "A"},
		{"WEB.Default.SVC.Cluster.LOCAL", "A"}, // the match ignores case, as DNS does
		{"payments.example.com", "A"},          // ServiceEntry host
		{"x.internal.example.com", "A"},        // below a wildcard ServiceEntry
		{"-x", "10.96.0.10"},                   // reverse name of a Service
		{"web", "A"},                           // a single label: the pod namespace's Service
	} {
		before := queued(t, p)
		d := p.Dig(t, args...)
		wantLocal(t, p, d)
		if len(d.Answer) == 0 {
			t.Errorf("%v: %s, no answer\n%s", args, d.Status, d.Raw)
		}
		if got := queued(t, p) - before; got != 1 {
			t.Errorf("%v: %d packets queued, want the query's 1", args, got)
		}
	}
	for _, args := range [][]string{
		{"api.github.com", "A"},
		{"www.example.org", "AAAA"},
		{"new.example.io", "A"}, // not a ServiceEntry host yet
	} {
		before := queued(t, p)
		d := p.Dig(t, args...)
		wantUpstream(t, p, d)
		if got := queued(t, p) - before; got != 0 {
			t.Errorf("%v: %d packets queued, want none (not a mesh name)", args, got)
		}
	}

	// A new ServiceEntry host: the file is reloaded, the table holds it
	// and the rules are reinstalled to queue it.
	entry := `
- apiVersion: networking.istio.io/v1
  kind: ServiceEntry
  metadata: {name: newhost, namespace: shop}
  spec:
    hosts: [new.example.io]
    addresses: [10.120.9.9]
    location: MESH_EXTERNAL
    resolution: STATIC
`
	if err := os.WriteFile(objs, append(orig, entry...), 0o644); err != nil {
		t.Fatal(err)
	}
	waitUntil(t, "new.example.io answered in the pod", func() bool {
		d, err := p.TryDig("new.example.io", "A")
		return err == nil && d.Flag("aa") && len(d.Answer) == 1
	})
	if r := p.Rules(t); !strings.Contains(r, "|036e6577076578616d706c6502696f00|") {
		t.Errorf("the new host's match is not in the rules:\n%s", r)
	}
}

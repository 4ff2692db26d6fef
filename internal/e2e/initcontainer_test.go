package e2e_test

import (
	"strings"
	"testing"

	"github.com/meshdns/meshdns/internal/podtest"
)

// TestKernelInitContainerOwnQueries: the manifests' flow — `meshdns rules
// install` as the init container, then `meshdns run --rules=none` as the
// sidecar, no port agreed between them — in a pod with conntrack on, an
// INVALID-drop rule and a stateful INPUT policy. The sidecar's own queries
// leave from random ports; the init container's rules exempt their replies
// by the socket's mark, so names the sidecar forwards for DNS-over-TCP
// clients (over UDP, and over TCP after truncation) are answered. (Cache
// refreshes use the same sockets: exchange's kernel test.)
func TestKernelInitContainerOwnQueries(t *testing.T) {
	t.Parallel()
	p := firewalledPod(t, map[string][]string{"many.example.org": manyA(120)})
	p.MustExec(t, podtest.Binary(t), "rules", "install", "--capture=nameservers", "--queues=1")
	p.StartMeshdns(t, objectsFile, tcpArgs(t, "--rules=none", "--queues=1")...)
	for _, q := range []struct {
		name    string
		records int
	}{{"www.example.org", 1}, {"many.example.org", 120}} {
		d := p.Dig(t, "+tcp", q.name, "A")
		if d.Status != "NOERROR" || len(d.Answer) != q.records || d.Flag("aa") {
			t.Errorf("%s over TCP: %s, %d records\n%s", q.name, d.Status, len(d.Answer), d.Raw)
		}
	}
	if tot := p.Upstream.Totals(); tot.TCP != 1 {
		t.Errorf("upstream saw %d TCP queries, want 1 (the truncated answer asked again by meshdns)", tot.TCP)
	}
	if out := p.MustExec(t, "iptables-save", "-t", "raw"); !strings.Contains(out, "-m socket --restore-skmark") {
		t.Errorf("the init container's rules lack the socket-mark exemption:\n%s", out)
	}
}

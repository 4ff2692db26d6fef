package harness

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"time"

	"github.com/meshdns/meshdns/bench/internal/contender"
	"github.com/meshdns/meshdns/internal/netns"
)

// PprofAddr is where the profile is fetched from inside the pod
// namespace: meshdns's --metrics-addr default, where a pprof handler is
// expected under /debug/pprof/.
const PprofAddr = "127.0.0.1:15099"

// profile starts meshdns once more, loads it with dnsperf on the mesh
// workload and fetches a CPU profile over the pod namespace's loopback.
func (h *harness) profile(ctx context.Context) *Profile {
	inst, err := contender.Meshdns{}.Start(ctx, h.env)
	if err != nil {
		return &Profile{Status: "not taken: meshdns did not start: " + err.Error()}
	}
	defer inst.Stop()
	secs := int(h.cfg.Profile.Seconds())
	if secs < 1 {
		secs = 1
	}
	load := make(chan error, 1)
	go func() {
		r := Run{Workload: WorkloadMesh, Tool: ToolDNSPerf}
		_, err := h.runDNSPerf(ctx, &r, time.Duration(secs+2)*time.Second)
		load <- err
	}()
	client := &http.Client{
		Timeout: time.Duration(secs+15) * time.Second,
		Transport: &http.Transport{DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
			return netns.Dial(ctx, h.env.Pod, network, addr)
		}},
	}
	time.Sleep(500 * time.Millisecond) // let the load ramp up
	url := fmt.Sprintf("http://%s/debug/pprof/profile?seconds=%d", PprofAddr, secs)
	resp, err := client.Get(url)
	lerr := <-load
	if err != nil {
		return &Profile{Status: fmt.Sprintf("not taken: %s: %v (meshdns exposes no pprof handler yet?)", url, err)}
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return &Profile{Status: fmt.Sprintf("not taken: %s: HTTP %d (meshdns exposes no pprof handler yet?)", url, resp.StatusCode)}
	}
	p := filepath.Join(h.work, "meshdns.pprof")
	f, err := os.Create(p)
	if err != nil {
		return &Profile{Status: "not saved: " + err.Error()}
	}
	if _, err := io.Copy(f, resp.Body); err != nil {
		f.Close()
		return &Profile{Status: "not saved: " + err.Error()}
	}
	f.Close()
	status := fmt.Sprintf("%d s CPU profile of meshdns under dnsperf mesh load", secs)
	if lerr != nil {
		status += " (the load run failed: " + lerr.Error() + ")"
	}
	return &Profile{File: p, Status: status}
}

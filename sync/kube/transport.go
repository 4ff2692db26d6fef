package kube

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"sync"
)

// apiTransport counts failed requests to the API server: transport errors
// (connection refused or reset, TLS, timeouts) and 429/5xx answers. The
// reflectors retry these on their own, often inside client-go without
// reporting them to the watch error handler (a watch that cannot be
// re-established is retried quietly), so this is where an unreachable API
// server shows. It logs the first failure of a resource after a success
// and the first success after failures, not every retry.
//
// It also holds the pacing of reads (paced.go) while a request that is
// not a watch is answered, until its body is read or closed: a list read
// paced would take an interval per socket's buffer.
type apiTransport struct {
	next http.RoundTripper
	obs  Observer
	log  *slog.Logger
	pace *pacer // nil: reads not paced

	mu      sync.Mutex
	failing map[string]bool
}

func (t *apiTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	held := t.pace != nil && !isWatch(req)
	if held {
		t.pace.hold()
	}
	resp, err := t.next.RoundTrip(req)
	if held {
		if err != nil || resp.Body == nil {
			t.pace.release()
		} else {
			resp.Body = &releasingBody{ReadCloser: resp.Body, release: sync.OnceFunc(t.pace.release)}
		}
	}
	res := resourceOf(req.URL.Path)
	switch {
	case err != nil:
		t.failed(res, err)
	case resp.StatusCode == http.StatusTooManyRequests || resp.StatusCode >= 500:
		t.failed(res, fmt.Errorf("%s %s: %s", req.Method, req.URL.Path, resp.Status))
	default:
		t.ok(res)
	}
	return resp, err
}

// isWatch reports whether req asks for a watch (?watch=true or 1), whose
// events are read paced.
func isWatch(req *http.Request) bool {
	w := req.URL.Query().Get("watch")
	return w == "true" || w == "1"
}

// releasingBody calls release once it is read to its end or closed.
type releasingBody struct {
	io.ReadCloser
	release func()
}

func (b *releasingBody) Read(p []byte) (int, error) {
	n, err := b.ReadCloser.Read(p)
	if err != nil {
		b.release()
	}
	return n, err
}

func (b *releasingBody) Close() error {
	b.release()
	return b.ReadCloser.Close()
}

func (t *apiTransport) failed(res string, err error) {
	if errors.Is(err, context.Canceled) {
		return // the source is stopping
	}
	t.obs.RequestError(res, err)
	t.mu.Lock()
	first := !t.failing[res]
	t.failing[res] = true
	t.mu.Unlock()
	if first {
		t.log.Warn("API server request failed; serving the last names and retrying", "resource", res, "err", err)
	}
}

func (t *apiTransport) ok(res string) {
	t.mu.Lock()
	was := t.failing[res]
	delete(t.failing, res)
	t.mu.Unlock()
	if was {
		t.log.Info("API server reachable again", "resource", res)
	}
}

// resourceOf names the resource a request path is about: "services",
// "endpointslices", "serviceentries", "pods" (the node agent's pod watch
// shares the source's client), or "discovery" for anything else (API
// group discovery).
func resourceOf(path string) string {
	for _, seg := range strings.Split(path, "/") {
		switch seg {
		case "services", "endpointslices", "serviceentries", "pods":
			return seg
		}
	}
	return "discovery"
}

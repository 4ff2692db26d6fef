package observe

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/http/pprof"
	"time"

	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// Handler returns the HTTP handler serving /metrics, /healthz, /readyz and
// /debug/names.
func (o *Observer) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", promhttp.HandlerFor(o.reg, promhttp.HandlerOpts{
		ErrorLog:      slogPrinter{o},
		ErrorHandling: promhttp.ContinueOnError,
	}))
	mux.HandleFunc("GET /healthz", o.serveHealthz)
	mux.HandleFunc("GET /readyz", o.serveReadyz)
	mux.HandleFunc("GET /debug/names", o.serveNames)
	if o.cfg.Pprof {
		loop := func(h http.HandlerFunc) http.HandlerFunc {
			return func(w http.ResponseWriter, r *http.Request) {
				if !fromLoopback(r) {
					http.Error(w, "/debug/pprof is served to loopback clients only", http.StatusForbidden)
					return
				}
				h(w, r)
			}
		}
		mux.HandleFunc("/debug/pprof/", loop(pprof.Index))
		mux.HandleFunc("/debug/pprof/cmdline", loop(pprof.Cmdline))
		mux.HandleFunc("/debug/pprof/profile", loop(pprof.Profile))
		mux.HandleFunc("/debug/pprof/symbol", loop(pprof.Symbol))
		mux.HandleFunc("/debug/pprof/trace", loop(pprof.Trace))
	}
	return mux
}

func (o *Observer) serveHealthz(w http.ResponseWriter, _ *http.Request) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	if o.cfg.Live != nil {
		if err := o.cfg.Live(); err != nil {
			w.WriteHeader(http.StatusInternalServerError)
			fmt.Fprintf(w, "unhealthy: %v\n", err)
			return
		}
	}
	fmt.Fprintln(w, "ok")
}

func (o *Observer) serveReadyz(w http.ResponseWriter, _ *http.Request) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	if !o.Ready() {
		w.WriteHeader(http.StatusServiceUnavailable)
		fmt.Fprintln(w, "not ready: names not synced")
		return
	}
	fmt.Fprintln(w, "ok")
}

// Start listens on Config.Addr and serves Handler until ctx is done. It
// returns the bound address (useful with port 0), or nil when Addr is empty.
// A bind error is returned; later serve errors are logged.
func (o *Observer) Start(ctx context.Context) (net.Addr, error) {
	if o.cfg.Addr == "" {
		return nil, nil
	}
	var lc net.ListenConfig
	ln, err := lc.Listen(ctx, "tcp", o.cfg.Addr)
	if err != nil {
		return nil, fmt.Errorf("observe: listen %s: %w", o.cfg.Addr, err)
	}
	srv := &http.Server{
		Handler:           o.Handler(),
		ReadHeaderTimeout: 5 * time.Second,
		WriteTimeout:      90 * time.Second, // a CPU profile takes 30 s by default
		IdleTimeout:       60 * time.Second,
		BaseContext:       func(net.Listener) context.Context { return ctx },
	}
	go func() {
		<-ctx.Done()
		sctx, cancel := context.WithTimeout(context.Background(), time.Second)
		defer cancel()
		_ = srv.Shutdown(sctx)
	}()
	go func() {
		if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			o.cfg.Logger.Error("metrics listener stopped", "addr", ln.Addr().String(), "err", err)
		}
	}()
	o.cfg.Logger.Info("metrics listening", "addr", ln.Addr().String())
	return ln.Addr(), nil
}

// slogPrinter adapts the logger to promhttp's ErrorLog.
type slogPrinter struct{ o *Observer }

func (p slogPrinter) Println(v ...any) {
	p.o.cfg.Logger.Warn("metrics: " + fmt.Sprint(v...))
}

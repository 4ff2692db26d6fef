package dnsengine

import (
	"errors"

	"github.com/meshdns/meshdns/dnsengine/cache"
	"github.com/meshdns/meshdns/dnsengine/tcpstack"
)

// Engine answers DNS queries for mesh names inside the packets handed to
// Process. It is safe for concurrent use. The name table is read without
// locks; the optional cache of upstream answers (package cache) and TCP flows
// (package tcpstack) keep state behind short, sharded critical sections.
type Engine struct {
	cfg   Config
	reg   Registry
	tcp   *tcpstack.Stack // DNS over TCP, set by EnableTCP (tcp.go); nil: TCP passes through
	cache *cache.Cache    // upstream answers (package cache); nil when Config.Cache.Size is 0
	// podSvc: the wire labels "<pod namespace>" "svc" of the short-name
	// rule (shortname.go); nil without Config.PodNamespace.
	podSvc []byte
}

// New returns an engine answering from reg's current table.
func New(cfg Config, reg Registry) (*Engine, error) {
	if reg == nil {
		return nil, errors.New("dnsengine: nil registry")
	}
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	e := &Engine{cfg: cfg, reg: reg, podSvc: podSvcLabels(cfg.PodNamespace)}
	if cfg.Cache.Size > 0 {
		e.cache = cache.New(cfg.Cache, cfg.EDNSSize)
	}
	return e, nil
}

// Config returns the engine's configuration.
func (e *Engine) Config() Config { return e.cfg }

// Registry returns the engine's registry.
func (e *Engine) Registry() Registry { return e.reg }

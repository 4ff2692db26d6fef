package dnsengine

import "errors"

// Engine answers DNS queries for mesh names inside the packets handed to
// Process. It is safe for concurrent use: it holds no per-packet state.
type Engine struct {
	cfg Config
	reg Registry
}

// New returns an engine answering from reg's current table.
func New(cfg Config, reg Registry) (*Engine, error) {
	if reg == nil {
		return nil, errors.New("dnsengine: nil registry")
	}
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	return &Engine{cfg: cfg, reg: reg}, nil
}

// Config returns the engine's configuration.
func (e *Engine) Config() Config { return e.cfg }

// Registry returns the engine's registry.
func (e *Engine) Registry() Registry { return e.reg }

package loadgen

import (
	"context"
	"fmt"
)

// Kinds of Spec.
const (
	KindFixed   = "fixed"
	KindLookups = "lookups"
	// KindTCPConn and KindTCPPipe are DNS over TCP, a connection per
	// query and pipelined; their result is a Fixed one.
	KindTCPConn = "tcp-conn"
	KindTCPPipe = "tcp-pipe"
)

// Spec is one load run as the harness hands it to the generator process
// (`meshdns-bench load`) inside the pod namespace.
type Spec struct {
	Kind   string `json:"kind"`
	Config Config `json:"config"`
}

// Output is what the generator process prints: one of the two results
// (Fixed for the fixed-rate kinds, UDP and TCP).
type Output struct {
	Fixed   *FixedResult  `json:"fixed,omitempty"`
	Lookups *LookupResult `json:"lookups,omitempty"`
}

// Run runs s.
func (s Spec) Run(ctx context.Context) (Output, error) {
	switch s.Kind {
	case KindFixed:
		r, err := FixedRate(ctx, s.Config)
		return Output{Fixed: r}, err
	case KindTCPConn:
		r, err := TCPConn(ctx, s.Config)
		return Output{Fixed: r}, err
	case KindTCPPipe:
		r, err := TCPPipe(ctx, s.Config)
		return Output{Fixed: r}, err
	case KindLookups:
		r, err := Lookups(ctx, s.Config)
		return Output{Lookups: r}, err
	}
	return Output{}, fmt.Errorf("loadgen: unknown kind %q", s.Kind)
}

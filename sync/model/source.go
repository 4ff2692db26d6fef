package model

import "context"

// Source produces the objects names are built from: the objects file
// (sync/objects) or the API server (sync/kube).
type Source interface {
	// Run calls update with a complete Objects once they are first known
	// and again after every change, from one goroutine, never
	// concurrently. The callee owns the Objects it is given. Run blocks
	// until ctx is done (then returns nil) or the source fails for good.
	Run(ctx context.Context, update func(*Objects)) error
}

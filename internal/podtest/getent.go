package podtest

import (
	"context"
	"errors"
	"fmt"
	"os/exec"
	"time"

	"github.com/meshdns/meshdns/internal/lookupout"
)

// GetentResult is what `getent <db> <name>` printed, and how long it took.
type GetentResult struct {
	lookupout.Getent
	// Took is how long getent ran (a glibc wait on a lost answer shows
	// here as seconds).
	Took time.Duration
}

// Getent runs `getent <db> name` in the pod namespace (glibc's resolver:
// the pod's resolv.conf, search list and ndots). db is "hosts" (A, or AAAA
// when there is none), "ahosts" (getaddrinfo with AF_UNSPEC: A and AAAA
// together on one socket), "ahostsv4" or "ahostsv6". A name that is not
// found is not an error: Found is false.
func (p *Pod) Getent(db, name string) (GetentResult, error) {
	ctx, cancel := context.WithTimeout(context.Background(), commandTimeout)
	defer cancel()
	start := time.Now()
	out, err := p.Command(ctx, "getent", db, name).Output()
	took := time.Since(start)
	var ee *exec.ExitError
	if errors.As(err, &ee) && ee.ExitCode() == 2 {
		return GetentResult{Getent: lookupout.Getent{Raw: string(out)}, Took: took}, nil
	}
	if err != nil {
		return GetentResult{Getent: lookupout.Getent{Raw: string(out)}, Took: took}, fmt.Errorf("getent %s %s in %s: %w", db, name, p.Topo.Pod, err)
	}
	r, err := lookupout.ParseGetent(string(out))
	return GetentResult{Getent: r, Took: took}, err
}

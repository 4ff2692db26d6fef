package podtest

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/meshdns/meshdns/internal/lookupout"
)

// Dig runs `dig +tries=1 +time=5 args...` in the pod namespace and parses
// its output. It fails t if dig got no response.
func (p *Pod) Dig(t testing.TB, args ...string) lookupout.Dig {
	t.Helper()
	d, err := p.TryDig(args...)
	if err != nil {
		t.Fatal(err)
	}
	return d
}

// TryDig is Dig returning an error instead of failing the test.
func (p *Pod) TryDig(args ...string) (lookupout.Dig, error) {
	ctx, cancel := context.WithTimeout(context.Background(), commandTimeout)
	defer cancel()
	full := append([]string{"+tries=1", "+time=5"}, args...)
	out, runErr := p.Command(ctx, "dig", full...).CombinedOutput()
	d, err := lookupout.ParseDig(string(out))
	if err != nil {
		return d, fmt.Errorf("dig %s in %s: %w (exit: %v)\n%s", strings.Join(full, " "), p.Topo.Pod, err, runErr, out)
	}
	return d, nil
}

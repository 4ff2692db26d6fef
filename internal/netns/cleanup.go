package netns

import (
	"context"
	"errors"
	"fmt"
	"os"
	"sort"
	"strings"
)

// AllPrefixes, given to CleanupStale, matches every "mdt-" namespace. Other
// tests on the same machine may be using some of them: use it only when
// nothing else is running.
const AllPrefixes = "*"

// CleanupStale deletes named namespaces and /etc/netns directories left by
// an interrupted run: those named "mdt-<prefix>" or "mdt-<prefix>-...". An
// empty prefix is refused, so a caller cannot remove another test's
// namespaces by accident; AllPrefixes matches all "mdt-" names. It returns
// the names it removed.
func CleanupStale(ctx context.Context, prefix string) ([]string, error) {
	return cleanupStale(ctx, ExecRunner{}, prefix)
}

func cleanupStale(ctx context.Context, r Runner, prefix string) ([]string, error) {
	var match func(string) bool
	switch {
	case prefix == AllPrefixes:
		match = func(n string) bool { return strings.HasPrefix(n, NamePrefix) }
	case validPrefix(prefix) == nil:
		base := NamePrefix + prefix
		match = func(n string) bool { return n == base || strings.HasPrefix(n, base+"-") }
	default:
		return nil, fmt.Errorf("netns: CleanupStale: bad prefix %q (want letters, digits, '-', '_', or %q)", prefix, AllPrefixes)
	}
	names := map[string]bool{}
	var errs []error
	for _, dir := range []string{RunDir, EtcDir} {
		ents, err := os.ReadDir(dir)
		if err != nil && !errors.Is(err, os.ErrNotExist) {
			errs = append(errs, fmt.Errorf("netns: %w", err))
		}
		for _, e := range ents {
			if match(e.Name()) {
				names[e.Name()] = true
			}
		}
	}
	var removed []string
	for n := range names {
		if err := removeNamespace(ctx, r, n); err != nil {
			errs = append(errs, err)
			continue
		}
		removed = append(removed, n)
	}
	sort.Strings(removed)
	return removed, errors.Join(errs...)
}

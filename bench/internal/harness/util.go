package harness

import "sort"

func sortedKeys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// rotate returns xs rotated left by n.
func rotate(xs []string, n int) []string {
	if len(xs) == 0 {
		return nil
	}
	n %= len(xs)
	return append(append([]string{}, xs[n:]...), xs[:n]...)
}

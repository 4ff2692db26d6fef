package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"

	"github.com/meshdns/meshdns/internal/netns"
	"github.com/meshdns/meshdns/internal/nsproc"
)

// findMeshdns returns the meshdns binary to run: flagPath if set, else the
// first of "meshdns" beside the demo's own binary and ./bin/meshdns that
// exists.
func findMeshdns(flagPath, self string) (string, error) {
	if flagPath != "" {
		if _, err := os.Stat(flagPath); err != nil {
			return "", fmt.Errorf("--meshdns: %w", err)
		}
		return filepath.Abs(flagPath)
	}
	var tried []string
	var cands []string
	if self != "" {
		cands = append(cands, filepath.Join(filepath.Dir(self), "meshdns"))
	}
	cands = append(cands, filepath.Join("bin", "meshdns"))
	for _, c := range cands {
		if st, err := os.Stat(c); err == nil && !st.IsDir() {
			return filepath.Abs(c)
		}
		tried = append(tried, c)
	}
	return "", fmt.Errorf("no meshdns binary (tried %s): build it (make build), pass --meshdns PATH, or run with --no-meshdns", strings.Join(tried, ", "))
}

// startMeshdns starts `bin args...` in namespace ns. Its log is kept, and
// its lines copied to echo when not nil. It is not tied to a context: the
// demo stops it with SIGTERM itself, and its own process group keeps a
// terminal's Ctrl-C from reaching it first.
func startMeshdns(ns, bin string, args []string, echo io.Writer) (*nsproc.Process, error) {
	cfg := nsproc.Config{Name: "meshdns", NS: ns, Path: bin, Args: args, Pdeathsig: syscall.SIGTERM, Setpgid: true}
	if echo != nil {
		cfg.Line = func(line string) { fmt.Fprintln(echo, "  meshdns| "+line) }
	}
	return nsproc.Start(context.Background(), cfg)
}

// logText is p's log, indented.
func logText(p *nsproc.Process) string {
	logs := strings.TrimRight(p.Logs(), "\n")
	if logs == "" {
		return "  (nothing)"
	}
	return "  " + strings.ReplaceAll(logs, "\n", "\n  ")
}

// ruleTools list the rule dumps checked for queue rules, with the word that
// marks one.
var ruleTools = []struct {
	name   string
	args   []string
	marker string
}{
	{"iptables-save", nil, "NFQUEUE"},
	{"ip6tables-save", nil, "NFQUEUE"},
	{"iptables-legacy-save", nil, "NFQUEUE"},
	{"ip6tables-legacy-save", nil, "NFQUEUE"},
	{"nft", []string{"list", "ruleset"}, "queue"},
}

// queueRules returns the queue rules in namespace ns, each prefixed with
// the tool that listed it. Tools not installed are skipped.
func queueRules(ctx context.Context, ns string) ([]string, error) {
	var rules []string
	var errs []error
	for _, t := range ruleTools {
		if _, err := exec.LookPath(t.name); err != nil {
			continue
		}
		out, err := netns.Command(ctx, ns, t.name, t.args...).CombinedOutput()
		if err != nil {
			errs = append(errs, fmt.Errorf("%s: %w: %s", t.name, err, strings.TrimSpace(string(out))))
			continue
		}
		rules = append(rules, matchRules(string(out), t.name, t.marker)...)
	}
	return rules, errors.Join(errs...)
}

// matchRules returns the lines of a rule dump that hold marker, prefixed
// with the tool name. iptables-nft rules show in `nft list ruleset` too, as
// xt compat; they are listed under both names.
func matchRules(dump, tool, marker string) []string {
	var out []string
	for _, line := range strings.Split(dump, "\n") {
		line = strings.TrimSpace(line)
		if strings.Contains(line, marker) && !strings.HasPrefix(line, "#") {
			out = append(out, tool+": "+line)
		}
	}
	return out
}

// ruleSummary counts rules by the tool that listed them: "none", or e.g.
// "2 (iptables-save), 2 (nft)". One iptables-nft rule shows in both.
func ruleSummary(rules []string) string {
	if len(rules) == 0 {
		return "none"
	}
	var tools []string
	n := map[string]int{}
	for _, r := range rules {
		t, _, _ := strings.Cut(r, ": ")
		if n[t] == 0 {
			tools = append(tools, t)
		}
		n[t]++
	}
	parts := make([]string, len(tools))
	for i, t := range tools {
		parts[i] = fmt.Sprintf("%d (%s)", n[t], t)
	}
	return strings.Join(parts, ", ")
}

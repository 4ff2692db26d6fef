package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/meshdns/meshdns/internal/netns"
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

// servingMarkers are how `meshdns run` says it is ready, in text and JSON
// log formats.
var servingMarkers = []string{"msg=serving", `"msg":"serving"`}

// meshdnsProc is a `meshdns run` process inside the pod namespace.
type meshdnsProc struct {
	cmd     *exec.Cmd
	serving chan struct{} // closed on the "serving" log line
	exited  chan struct{} // closed when the process has exited
	waitErr error         // set before exited closes

	mu   sync.Mutex
	logs []string
}

// startMeshdns starts `bin args...` in namespace ns. Its log lines are kept
// (and copied to echo when not nil).
func startMeshdns(ns, bin string, args []string, echo io.Writer) (*meshdnsProc, error) {
	p := &meshdnsProc{serving: make(chan struct{}), exited: make(chan struct{})}
	// Not tied to a context: the demo stops it with SIGTERM itself. Its own
	// process group keeps a terminal's Ctrl-C from reaching it first.
	p.cmd = netns.Command(context.Background(), ns, bin, args...)
	p.cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGTERM}
	pr, pw := io.Pipe()
	p.cmd.Stdout, p.cmd.Stderr = pw, pw
	if err := p.cmd.Start(); err != nil {
		return nil, fmt.Errorf("start meshdns: %w", err)
	}
	scanned := make(chan struct{})
	go func() {
		defer close(scanned)
		var once sync.Once
		sc := bufio.NewScanner(pr)
		sc.Buffer(make([]byte, 64*1024), 1024*1024)
		for sc.Scan() {
			line := sc.Text()
			p.mu.Lock()
			p.logs = append(p.logs, line)
			p.mu.Unlock()
			if echo != nil {
				fmt.Fprintln(echo, "  meshdns| "+line)
			}
			for _, m := range servingMarkers {
				if strings.Contains(line, m) {
					once.Do(func() { close(p.serving) })
				}
			}
		}
		io.Copy(io.Discard, pr)
	}()
	go func() {
		err := p.cmd.Wait()
		pw.Close()
		<-scanned
		p.waitErr = err
		close(p.exited)
	}()
	return p, nil
}

// waitServing waits for the serving line, the process's exit, or timeout.
func (p *meshdnsProc) waitServing(ctx context.Context, timeout time.Duration) error {
	t := time.NewTimer(timeout)
	defer t.Stop()
	select {
	case <-p.serving:
		return nil
	case <-p.exited:
		return fmt.Errorf("meshdns exited before serving (%v); its log:\n%s", p.waitErr, p.logText())
	case <-t.C:
		return fmt.Errorf("meshdns did not log msg=serving within %s; its log:\n%s", timeout, p.logText())
	case <-ctx.Done():
		return ctx.Err()
	}
}

// stop sends SIGTERM and waits up to timeout for the exit, then kills. It
// returns the exit error (nil for status 0) and whether a kill was needed.
func (p *meshdnsProc) stop(timeout time.Duration) (exitErr error, killed bool) {
	select {
	case <-p.exited:
		return p.waitErr, false
	default:
	}
	p.cmd.Process.Signal(syscall.SIGTERM)
	t := time.NewTimer(timeout)
	defer t.Stop()
	select {
	case <-p.exited:
		return p.waitErr, false
	case <-t.C:
		p.cmd.Process.Kill()
		<-p.exited
		return p.waitErr, true
	}
}

func (p *meshdnsProc) logText() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	if len(p.logs) == 0 {
		return "  (nothing)"
	}
	return "  " + strings.Join(p.logs, "\n  ")
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

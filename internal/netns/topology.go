package netns

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"
)

// Paths used by ip-netns(8).
const (
	// RunDir holds one bind-mounted handle per named namespace.
	RunDir = "/run/netns"
	// EtcDir holds per-namespace files that `ip netns exec` bind-mounts
	// over /etc (resolv.conf here).
	EtcDir = "/etc/netns"
)

// The veth ends are both called eth0, each inside its own namespace, as in a
// real pod.
const vethName = "eth0"

// Topology is a pod namespace and an upstream namespace joined by a veth
// pair. Build one with New; remove it with Close.
type Topology struct {
	// Pod and Upstream are the namespace names ("mdt-<prefix>-pod",
	// "mdt-<prefix>-up"), usable with Do, Command and `ip netns exec`.
	Pod, Upstream string
	// Prefix is the prefix the names were made from.
	Prefix string
	// The addresses on each side's eth0 (without their prefix length).
	PodV4, PodV6, UpstreamV4, UpstreamV6 netip.Addr
	// Link is the name of the veth end in each namespace ("eth0").
	Link string

	cfg       Config
	created   []string // namespaces this Topology added (and so removes)
	closeOnce sync.Once
	closeErr  error
}

// New creates the namespaces, the veth pair, the addresses and (when
// cfg.ResolvConf is set) the pod's resolv.conf. On failure it removes
// whatever it had created.
func New(ctx context.Context, cfg Config) (*Topology, error) {
	cfg = cfg.withDefaults()
	if cfg.Prefix == "" {
		p, err := RandomPrefix()
		if err != nil {
			return nil, err
		}
		cfg.Prefix = p
	}
	if err := validPrefix(cfg.Prefix); err != nil {
		return nil, err
	}
	if err := cfg.checkAddrs(); err != nil {
		return nil, err
	}
	t := &Topology{
		Pod:        NamePrefix + cfg.Prefix + "-pod",
		Upstream:   NamePrefix + cfg.Prefix + "-up",
		Prefix:     cfg.Prefix,
		PodV4:      cfg.PodV4.Addr(),
		PodV6:      cfg.PodV6.Addr(),
		UpstreamV4: cfg.UpstreamV4.Addr(),
		UpstreamV6: cfg.UpstreamV6.Addr(),
		Link:       vethName,
		cfg:        cfg,
	}
	if err := t.build(ctx); err != nil {
		return nil, errors.Join(err, t.Close())
	}
	cfg.Logger.Debug("topology up", "pod", t.Pod, "upstream", t.Upstream)
	return t, nil
}

func (c Config) checkAddrs() error {
	for _, p := range []struct {
		name string
		p    netip.Prefix
		v6   bool
	}{{"PodV4", c.PodV4, false}, {"UpstreamV4", c.UpstreamV4, false}, {"PodV6", c.PodV6, true}, {"UpstreamV6", c.UpstreamV6, true}} {
		if p.p.Addr().Is6() != p.v6 || p.p.Addr().Is4In6() {
			return fmt.Errorf("netns: %s %s is of the wrong family", p.name, p.p)
		}
	}
	if c.PodV4.Masked() != c.UpstreamV4.Masked() || c.PodV6.Masked() != c.UpstreamV6.Masked() {
		return errors.New("netns: pod and upstream addresses must share their subnets")
	}
	if c.PodV4.Addr() == c.UpstreamV4.Addr() || c.PodV6.Addr() == c.UpstreamV6.Addr() {
		return errors.New("netns: pod and upstream addresses must differ")
	}
	return nil
}

func (t *Topology) build(ctx context.Context) error {
	type side struct {
		ns     string
		v4, v6 netip.Prefix
	}
	sides := []side{
		{t.Pod, t.cfg.PodV4, t.cfg.PodV6},
		{t.Upstream, t.cfg.UpstreamV4, t.cfg.UpstreamV6},
	}
	var steps [][]string
	for _, s := range sides {
		steps = append(steps,
			[]string{"netns", "add", s.ns},
			// Before the veth exists, so its eth0 inherits "default".
			[]string{"netns", "exec", s.ns, "sysctl", "-q", "-w",
				"net.ipv6.conf.all.accept_dad=0",
				"net.ipv6.conf.default.accept_dad=0",
				"net.ipv6.conf.all.disable_ipv6=0",
				"net.ipv6.conf.default.disable_ipv6=0"},
			[]string{"-n", s.ns, "link", "set", "lo", "up"},
		)
	}
	steps = append(steps, []string{"-n", t.Pod, "link", "add", vethName, "type", "veth", "peer", "name", vethName, "netns", t.Upstream})
	for _, s := range sides {
		steps = append(steps,
			[]string{"-n", s.ns, "addr", "add", s.v4.String(), "dev", vethName},
			[]string{"-n", s.ns, "-6", "addr", "add", s.v6.String(), "dev", vethName, "nodad"},
			[]string{"-n", s.ns, "link", "set", vethName, "up"},
		)
	}
	if t.cfg.DefaultRoute {
		steps = append(steps,
			[]string{"-n", t.Pod, "route", "add", "default", "via", t.UpstreamV4.String(), "dev", vethName},
			[]string{"-n", t.Pod, "-6", "route", "add", "default", "via", t.UpstreamV6.String(), "dev", vethName},
		)
	}
	for _, args := range steps {
		t.cfg.Logger.Debug("ip", "args", args)
		if _, err := t.cfg.Runner.Run(ctx, "ip", args...); err != nil {
			return fmt.Errorf("netns: %w", err)
		}
		if args[0] == "netns" && args[1] == "add" {
			t.created = append(t.created, args[2])
		}
	}
	// Wait for IPv6 to settle, so it works as soon as New returns.
	for _, s := range sides {
		if err := waitNotTentative(ctx, t.cfg.Runner, s.ns); err != nil {
			return err
		}
	}
	if t.cfg.ResolvConf != "" {
		if err := t.WriteResolvConf(t.cfg.ResolvConf); err != nil {
			return err
		}
	}
	return nil
}

// waitNotTentative polls, for up to five seconds, until eth0 in ns has its
// link-local address and no address of ns is tentative. Carrier comes when
// both veth ends are up; the kernel then adds the link-local address and
// finishes its (disabled) DAD from a work queue, so both happen a moment
// after `ip link set up` returns.
func waitNotTentative(ctx context.Context, r Runner, ns string) error {
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	for {
		out, err := r.Run(ctx, "ip", "-n", ns, "-6", "-o", "addr", "show", "dev", vethName)
		if err != nil {
			return fmt.Errorf("netns: %w", err)
		}
		if addrsReady(string(out)) {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("netns: %s: IPv6 addresses not ready: %s", ns, bytes.TrimSpace(out))
		case <-time.After(10 * time.Millisecond):
		}
	}
}

// addrsReady reports whether `ip -6 -o addr show` output has a link-local
// address and nothing tentative.
func addrsReady(out string) bool {
	return strings.Contains(out, "inet6 fe80:") && !strings.Contains(out, "tentative")
}

// ResolvConfPath is where the pod's resolv.conf lives on the host:
// /etc/netns/<pod>/resolv.conf.
func (t *Topology) ResolvConfPath() string {
	return filepath.Join(EtcDir, t.Pod, "resolv.conf")
}

// WriteResolvConf writes content to the pod's resolv.conf. Commands started
// afterwards with Command(ctx, t.Pod, ...) see it as /etc/resolv.conf.
func (t *Topology) WriteResolvConf(content string) error {
	p := t.ResolvConfPath()
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		return fmt.Errorf("netns: %w", err)
	}
	if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
		return fmt.Errorf("netns: %w", err)
	}
	return nil
}

// Close deletes both namespaces (which deletes the veth pair) and their
// /etc/netns directories. It may be called more than once; later calls
// return the first call's result. A process still running inside a
// namespace keeps that namespace alive (unnamed) until it exits. A
// namespace New found already there (and so failed on) is left alone.
func (t *Topology) Close() error {
	t.closeOnce.Do(func() {
		ctx := context.Background()
		var errs []error
		for _, ns := range t.created {
			if err := removeNamespace(ctx, t.cfg.Runner, ns); err != nil {
				errs = append(errs, err)
			}
		}
		t.closeErr = errors.Join(errs...)
		if t.closeErr == nil {
			t.cfg.Logger.Debug("topology removed", "pod", t.Pod, "upstream", t.Upstream)
		}
	})
	return t.closeErr
}

// removeNamespace deletes a named namespace and its /etc/netns directory;
// either being absent already is not an error.
func removeNamespace(ctx context.Context, r Runner, ns string) error {
	var errs []error
	if err := os.RemoveAll(filepath.Join(EtcDir, ns)); err != nil {
		errs = append(errs, fmt.Errorf("netns: %w", err))
	}
	// Deleting a namespace that is already gone fails; that is fine.
	if _, err := r.Run(ctx, "ip", "netns", "delete", ns); err != nil && Exists(ns) {
		errs = append(errs, fmt.Errorf("netns: %w", err))
	}
	return errors.Join(errs...)
}

// Exists reports whether a named namespace exists (has a handle in
// /run/netns).
func Exists(ns string) bool {
	_, err := os.Stat(filepath.Join(RunDir, ns))
	return err == nil
}

// RandomPrefix returns a short random prefix ("t" and 8 hex digits).
func RandomPrefix() (string, error) {
	var b [4]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", fmt.Errorf("netns: random prefix: %w", err)
	}
	return "t" + hex.EncodeToString(b[:]), nil
}

func validPrefix(p string) error {
	if p == "" || len(p) > 40 {
		return fmt.Errorf("netns: prefix %q must be 1 to 40 characters", p)
	}
	for _, c := range p {
		ok := c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_'
		if !ok {
			return fmt.Errorf("netns: prefix %q may hold only letters, digits, '-' and '_'", p)
		}
	}
	return nil
}

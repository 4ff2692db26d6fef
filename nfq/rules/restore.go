package rules

import (
	"context"
	"errors"
	"fmt"
)

// Install makes the pod's tables hold cfg's rules: for each address family
// with something to capture it reads the current rules with -save, renders
// RenderInstall's text and applies it with `-restore --noflush -w` (one
// transaction per table; with nft, per family). Installing again replaces
// meshdns's rules and leaves one jump to each chain; a family with nothing
// to capture is cleaned of meshdns rules. Rules of others are not touched.
//
// The backend is chosen by ResolveBackend and logged. When IPv6 tools do
// not work (no IPv6 in the kernel) and no IPv6 nameserver is configured,
// IPv6 is skipped with a warning. If IPv6 fails after IPv4 was applied,
// the IPv4 rules stay (they are harmless with --queue-bypass); call Remove
// to take them out.
func Install(ctx context.Context, cfg Config) error {
	c, err := cfg.withDefaults()
	if err != nil {
		return err
	}
	b, err := ResolveBackend(ctx, c.Runner, c.Backend)
	if err != nil {
		return err
	}
	log := c.Logger.With("backend", b.String())
	log.Info("installing DNS capture rules", "capture_all", c.CaptureAll, "nameservers", c.Nameservers,
		"queue_num", c.QueueNum, "queues", c.Queues, "mark", fmt.Sprintf("%#x/%#x", c.Mark, c.MarkMask))
	for _, f := range families {
		saved, err := b.save(ctx, c.Runner, f)
		if err != nil {
			if f == IPv6 && !hasFamily(c, IPv6) {
				log.Warn("IPv6 rules skipped: cannot read the IPv6 tables", "err", err)
				continue
			}
			return fmt.Errorf("rules: reading %s rules: %w", f, err)
		}
		text, err := RenderInstall(c, f, saved)
		if err != nil {
			return err
		}
		if len(text) == 0 {
			continue
		}
		if err := b.restore(ctx, c.Runner, f, text); err != nil {
			return fmt.Errorf("rules: installing %s rules: %w", f, err)
		}
		log.Debug("rules applied", "family", f.String())
	}
	return nil
}

// hasFamily reports whether c names a nameserver of family f.
func hasFamily(c Config, f Family) bool {
	for _, a := range c.Nameservers {
		if f.has(a) {
			return true
		}
	}
	return false
}

// Remove deletes every meshdns chain and every jump to one, in both
// families, atomically per table, whatever nameservers cfg names (only
// Backend, Runner and Logger are used). It succeeds when nothing is
// installed. With the auto backend it cleans every backend whose tools
// exist (nft and legacy), so rules are removed wherever an earlier Install
// put them. IPv6 tools that do not work are skipped with a warning.
func Remove(ctx context.Context, cfg Config) error {
	c, err := cfg.withCommonDefaults()
	if err != nil {
		return err
	}
	var backends []Backend
	if c.Backend == BackendAuto {
		for _, b := range []Backend{{Name: BackendNFT}, {Name: BackendLegacy}} {
			if b.exists(c.Runner) {
				backends = append(backends, b)
			}
		}
	}
	if len(backends) == 0 {
		b, err := ResolveBackend(ctx, c.Runner, c.Backend)
		if err != nil {
			return err
		}
		backends = append(backends, b)
	}
	var errs, unread []error
	read := 0 // IPv4 tables read, over all backends
	for _, b := range backends {
		log := c.Logger.With("backend", b.String())
		for _, f := range families {
			saved, err := b.save(ctx, c.Runner, f)
			if err != nil {
				if f == IPv6 {
					log.Warn("IPv6 rules not checked: cannot read the IPv6 tables", "err", err)
					continue
				}
				// With several backends, one whose tables cannot be read
				// (iptables-legacy needs root to list /proc/net/ip_tables_names,
				// CAP_NET_ADMIN is not enough) is only an error when no
				// backend could be read at all.
				unread = append(unread, fmt.Errorf("rules: reading %s rules (%s): %w", f, b, err))
				log.Warn("rules not checked: cannot read the tables", "family", f.String(), "err", err)
				continue
			}
			if f == IPv4 {
				read++
			}
			text := RenderRemove(saved)
			if len(text) == 0 {
				continue
			}
			if err := b.restore(ctx, c.Runner, f, text); err != nil {
				errs = append(errs, fmt.Errorf("rules: removing %s rules: %w", f, err))
				continue
			}
			log.Info("DNS capture rules removed", "family", f.String())
		}
	}
	if read == 0 {
		errs = append(errs, unread...)
	}
	return errors.Join(errs...)
}

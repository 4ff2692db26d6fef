package rules

import (
	"bytes"
	"context"
	"fmt"
)

// Backend is the set of iptables tools the rules are applied with.
type Backend struct {
	// Name is BackendNFT or BackendLegacy: the kernel interface the tools
	// use. With Plain tools whose mode cannot be told it is "unknown".
	Name string
	// Plain is set when the unsuffixed tools (iptables-restore, ...) are
	// used because the suffixed ones (iptables-nft-restore, ...) do not
	// exist.
	Plain bool
}

func (b Backend) String() string {
	if b.Plain {
		return "iptables (" + b.Name + ")"
	}
	return "iptables-" + b.Name
}

// Command returns the name of a tool of b for family f: tool is "save" or
// "restore" ("ip6tables-nft-restore", "iptables-save", ...).
func (b Backend) Command(f Family, tool string) string {
	p := "iptables"
	if f == IPv6 {
		p = "ip6tables"
	}
	if b.Plain {
		return p + "-" + tool
	}
	return p + "-" + b.Name + "-" + tool
}

func (b Backend) exists(r Runner) bool {
	for _, f := range families {
		for _, t := range []string{"save", "restore"} {
			if !r.Has(b.Command(f, t)) {
				return false
			}
		}
	}
	return true
}

// save returns the `-save` output of family f.
func (b Backend) save(ctx context.Context, r Runner, f Family) ([]byte, error) {
	return r.Run(ctx, nil, b.Command(f, "save"))
}

// restore applies text with `-restore --noflush -w`, as one transaction
// per table (per family, with nft).
func (b Backend) restore(ctx context.Context, r Runner, f Family, text []byte) error {
	_, err := r.Run(ctx, text, b.Command(f, "restore"), "--noflush", "-w")
	return err
}

// ResolveBackend picks the iptables tools for want (BackendAuto or "",
// BackendNFT, BackendLegacy).
//
// Auto follows Kubernetes' iptables-wrapper: when both tool sets exist, it
// uses legacy if the legacy tables hold rules (IPv4 or IPv6) and the nft
// ones hold none, and nft otherwise; when only one set exists it uses that
// one. Whenever the wanted suffixed tools do not exist, the plain ones
// (iptables-restore, ...) are used, and their mode is read from
// `iptables-save --version`.
func ResolveBackend(ctx context.Context, r Runner, want string) (Backend, error) {
	nft, legacy := Backend{Name: BackendNFT}, Backend{Name: BackendLegacy}
	switch want {
	case BackendNFT:
		if nft.exists(r) {
			return nft, nil
		}
	case BackendLegacy:
		if legacy.exists(r) {
			return legacy, nil
		}
	case BackendAuto, "":
		hasNFT, hasLegacy := nft.exists(r), legacy.exists(r)
		switch {
		case hasNFT && hasLegacy:
			if countRules(ctx, r, legacy) > 0 && countRules(ctx, r, nft) == 0 {
				return legacy, nil
			}
			return nft, nil
		case hasNFT:
			return nft, nil
		case hasLegacy:
			return legacy, nil
		}
	default:
		return Backend{}, fmt.Errorf("rules: unknown iptables backend %q (want auto, nft or legacy)", want)
	}
	return plainBackend(ctx, r)
}

// plainBackend checks the unsuffixed tools and reads their mode.
func plainBackend(ctx context.Context, r Runner) (Backend, error) {
	b := Backend{Name: "unknown", Plain: true}
	out, err := r.Run(ctx, nil, b.Command(IPv4, "save"), "--version")
	if err != nil {
		return Backend{}, fmt.Errorf("rules: no usable iptables tools (neither iptables-nft-*, iptables-legacy-* nor iptables-*): %w", err)
	}
	switch {
	case bytes.Contains(out, []byte("nf_tables")):
		b.Name = BackendNFT
	case bytes.Contains(out, []byte("legacy")):
		b.Name = BackendLegacy
	}
	return b, nil
}

// countRules counts the rules in every table of both families of b; tools
// that fail count as empty.
func countRules(ctx context.Context, r Runner, b Backend) int {
	n := 0
	for _, f := range families {
		out, err := b.save(ctx, r, f)
		if err != nil {
			continue
		}
		for line := range bytes.Lines(out) {
			if bytes.HasPrefix(line, []byte("-")) {
				n++
			}
		}
	}
	return n
}

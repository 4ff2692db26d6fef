package e2e_test

import (
	"bufio"
	"fmt"
	"os"
	"slices"
	"strings"

	"github.com/miekg/dns"
)

// goldenCase is one query of names.zone and the response it expects.
type goldenCase struct {
	line   int
	args   []string // dig's arguments
	status string
	flags  []string
	// Records per section, in zone-file notation.
	answer, authority, additional []dns.RR
}

func (c goldenCase) name() string { return strings.Join(c.args, " ") }

// readGolden parses a names.zone file (its header explains the format).
func readGolden(path string) ([]goldenCase, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var cases []goldenCase
	var cur *goldenCase
	section := ""
	sc := bufio.NewScanner(f)
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		bad := func(format string, a ...any) error {
			return fmt.Errorf("%s:%d: %s", path, n, fmt.Sprintf(format, a...))
		}
		switch {
		case strings.HasPrefix(line, ";; dig "):
			cases = append(cases, goldenCase{line: n, args: strings.Fields(strings.TrimPrefix(line, ";; dig "))})
			cur, section = &cases[len(cases)-1], "status"
		case line == ";; authority" || line == ";; additional":
			if cur == nil || cur.status == "" {
				return nil, bad("%q outside a case", line)
			}
			section = strings.TrimPrefix(line, ";; ")
		case strings.HasPrefix(line, ";; "):
			if cur == nil || section != "status" {
				return nil, bad("unexpected %q", line)
			}
			f := strings.Fields(strings.TrimPrefix(line, ";; "))
			if _, ok := dns.StringToRcode[f[0]]; !ok {
				return nil, bad("unknown status %q", f[0])
			}
			cur.status, cur.flags, section = f[0], f[1:], "answer"
		case line == "" || strings.HasPrefix(line, ";"):
		default:
			if cur == nil || cur.status == "" {
				return nil, bad("record outside a case: %q", line)
			}
			rr, err := dns.NewRR(line)
			if err != nil || rr == nil {
				return nil, bad("bad record %q: %v", line, err)
			}
			switch section {
			case "answer":
				cur.answer = append(cur.answer, rr)
			case "authority":
				cur.authority = append(cur.authority, rr)
			case "additional":
				cur.additional = append(cur.additional, rr)
			}
		}
	}
	if err := sc.Err(); err != nil {
		return nil, err
	}
	for _, c := range cases {
		if c.status == "" {
			return nil, fmt.Errorf("%s:%d: case %q has no status line", path, c.line, c.name())
		}
	}
	return cases, nil
}

// normalized renders records for comparison: zone-file notation, owner in
// lowercase, SOA serial zeroed, sorted.
func normalized(rrs []dns.RR) []string {
	out := make([]string, 0, len(rrs))
	for _, rr := range rrs {
		rr = dns.Copy(rr)
		rr.Header().Name = strings.ToLower(rr.Header().Name)
		if soa, ok := rr.(*dns.SOA); ok {
			soa.Serial = 0
		}
		out = append(out, strings.Join(strings.Fields(rr.String()), " "))
	}
	slices.Sort(out)
	return out
}

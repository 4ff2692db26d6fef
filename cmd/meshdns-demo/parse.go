package main

import (
	"bufio"
	"fmt"
	"net/netip"
	"strconv"
	"strings"
	"time"
)

// record is one answer record as a tool printed it.
type record struct {
	Name string
	TTL  uint32 // 0 when the tool does not print TTLs (getent)
	Type string
	Data string
}

// digOutput is what parseDig reads from dig's default output.
type digOutput struct {
	Status    string // NOERROR, NXDOMAIN, ...
	Flags     []string
	Answers   []record
	QueryTime time.Duration
	Server    string
}

// parseDig reads dig's default (+cmd +comments +answer +stats) output.
func parseDig(out string) (digOutput, error) {
	var d digOutput
	inAnswer := false
	sc := bufio.NewScanner(strings.NewReader(out))
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		switch {
		case strings.HasPrefix(line, ";; ->>HEADER<<-"):
			if _, rest, ok := strings.Cut(line, "status: "); ok {
				d.Status, _, _ = strings.Cut(rest, ",")
			}
		case strings.HasPrefix(line, ";; flags:"):
			f, _, _ := strings.Cut(strings.TrimPrefix(line, ";; flags:"), ";")
			d.Flags = strings.Fields(f)
		case line == ";; ANSWER SECTION:":
			inAnswer = true
		case line == "" || strings.HasPrefix(line, ";"):
			inAnswer = false
			if q, ok := strings.CutPrefix(line, ";; Query time: "); ok {
				ms, _, _ := strings.Cut(q, " ")
				if n, err := strconv.Atoi(ms); err == nil {
					d.QueryTime = time.Duration(n) * time.Millisecond
				}
			}
			if s, ok := strings.CutPrefix(line, ";; SERVER: "); ok {
				d.Server = s
			}
		case inAnswer:
			f := strings.Fields(line)
			if len(f) < 5 {
				return d, fmt.Errorf("dig: bad answer line %q", line)
			}
			ttl, err := strconv.ParseUint(f[1], 10, 32)
			if err != nil {
				return d, fmt.Errorf("dig: bad TTL in %q", line)
			}
			d.Answers = append(d.Answers, record{Name: f[0], TTL: uint32(ttl), Type: f[3], Data: strings.Join(f[4:], " ")})
		}
	}
	if d.Status == "" {
		return d, fmt.Errorf("dig: no answer: %s", lastLine(out))
	}
	return d, nil
}

// parseGetent reads `getent hosts` output: one "ADDRESS NAME [ALIAS...]"
// line per address.
func parseGetent(out string) ([]record, error) {
	var recs []record
	for _, line := range strings.Split(strings.TrimSpace(out), "\n") {
		f := strings.Fields(line)
		if len(f) == 0 {
			continue
		}
		a, err := netip.ParseAddr(f[0])
		if err != nil || len(f) < 2 {
			return nil, fmt.Errorf("getent: bad line %q", line)
		}
		typ := "A"
		if a.Is6() {
			typ = "AAAA"
		}
		recs = append(recs, record{Name: f[1], Type: typ, Data: a.String()})
	}
	return recs, nil
}

func lastLine(s string) string {
	s = strings.TrimSpace(s)
	if i := strings.LastIndexByte(s, '\n'); i >= 0 {
		return s[i+1:]
	}
	return s
}

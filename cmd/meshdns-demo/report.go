package main

import (
	"fmt"
	"io"
	"sort"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/meshdns/meshdns/internal/clusterdns"
	"github.com/miekg/dns"
)

// phase says which step of the demo a lookup ran in.
type phase int

const (
	phaseBefore phase = iota // no meshdns yet
	phaseWith                // meshdns running
	phaseAfter               // meshdns stopped
)

// expectations returns what is wrong with an outcome in a phase (nothing
// when all is as it should be).
func expectations(p phase, o outcome) []string {
	var bad []string
	what := fmt.Sprintf("%s (%s)", o.label(), o.Tool)
	if o.Err != nil {
		return []string{fmt.Sprintf("%s: %v", what, o.Err)}
	}
	wantBy := byUpstream
	if p == phaseWith && o.Mesh {
		wantBy = byMeshdns
	}
	if o.By != wantBy {
		bad = append(bad, fmt.Sprintf("%s: answered by %s, want %s", what, o.By, wantBy))
	}
	if wantBy == byMeshdns {
		if n := reachedUpstream(o); n > 0 {
			bad = append(bad, fmt.Sprintf("%s: %d queries for %s reached the upstream", what, n, o.FQDN))
		}
		switch {
		case o.Empty && (len(o.Answers) > 0 || o.Status != "NOERROR"):
			bad = append(bad, fmt.Sprintf("%s: got %s %s, want NOERROR with no records", what, o.Status, answerText(o)))
		case !o.Empty && len(o.Answers) == 0:
			bad = append(bad, fmt.Sprintf("%s: no records (%s)", what, o.Status))
		}
	}
	if !o.Mesh && len(o.Answers) == 0 {
		bad = append(bad, fmt.Sprintf("%s: external name not resolved (%s)", what, o.Status))
	}
	return bad
}

// reachedUpstream counts the queries for the lookup's FQDN the upstream got.
func reachedUpstream(o outcome) uint64 {
	var n uint64
	fqdn := strings.ToLower(dns.Fqdn(o.FQDN))
	for k, v := range o.Upstream {
		if k.Name == fqdn {
			n += v
		}
	}
	return n
}

// printTable writes the outcomes as a table.
func printTable(w io.Writer, outs []outcome, verbose bool) {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "  QUERY\tTOOL\tANSWER\tANSWERED BY\tUPSTREAM SAW\tTIME\tRTT")
	for _, o := range outs {
		fmt.Fprintf(tw, "  %s\t%s\t%s\t%s\t%s\t%s\t%s\n",
			o.label(), o.Tool, answerText(o), o.By, upstreamText(o.Upstream, verbose),
			roundDur(o.Wall), rttText(o))
	}
	tw.Flush()
}

// answerText shows the answer records briefly: data and TTLs.
func answerText(o outcome) string {
	if o.Err != nil {
		return "error"
	}
	if len(o.Answers) == 0 {
		if o.Status == "NOERROR" {
			return "NOERROR, no records"
		}
		return o.Status
	}
	var parts []string
	ttls := map[uint32]bool{}
	for _, a := range o.Answers {
		s := a.Data
		if a.Type != "A" && a.Type != "AAAA" {
			s = a.Type + " " + a.Data
		}
		parts = append(parts, s)
		if a.TTL > 0 {
			ttls[a.TTL] = true
		}
	}
	s := strings.Join(parts, ", ")
	if len(ttls) > 0 {
		var ts []string
		for t := range ttls {
			ts = append(ts, fmt.Sprint(t))
		}
		sort.Strings(ts)
		s += " (ttl " + strings.Join(ts, ",") + ")"
	}
	return s
}

// upstreamText shows the queries the upstream received during a lookup:
// their count and, briefly, what they were.
func upstreamText(d map[clusterdns.Key]uint64, verbose bool) string {
	if len(d) == 0 {
		return "0"
	}
	byName := map[string][]string{}
	var total uint64
	for k, n := range d {
		byName[k.Name] = append(byName[k.Name], dns.TypeToString[k.Type])
		total += n
	}
	names := make([]string, 0, len(byName))
	for n := range byName {
		names = append(names, n)
	}
	sort.Strings(names)
	var parts []string
	for _, n := range names {
		ts := byName[n]
		sort.Strings(ts)
		parts = append(parts, n+" "+strings.Join(ts, ","))
	}
	s := strings.Join(parts, "; ")
	if !verbose && len(s) > 48 {
		s = parts[0]
		if len(parts) > 1 {
			s += fmt.Sprintf("; +%d more", len(parts)-1)
		}
	}
	return fmt.Sprintf("%d: %s", total, s)
}

func rttText(o outcome) string {
	switch {
	case o.Tool == toolDig && o.Err == nil:
		return fmt.Sprintf("%d ms (dig)", o.RTT.Milliseconds())
	case o.RTT > 0:
		return roundDur(o.RTT)
	}
	return "-"
}

func roundDur(d time.Duration) string {
	switch {
	case d >= 10*time.Millisecond:
		return d.Round(time.Millisecond).String()
	case d >= 10*time.Microsecond:
		return d.Round(time.Microsecond).String()
	}
	return d.String()
}

package main

import (
	"fmt"
	"strings"

	"github.com/meshdns/meshdns/internal/lookupout"
)

// record is one answer record as a tool printed it.
type record struct {
	Name string
	TTL  uint32 // 0 when the tool does not print TTLs (getent)
	Type string
	Data string
}

// digRecords turns dig's answer section into records.
func digRecords(d lookupout.Dig) []record {
	var recs []record
	for _, rr := range d.Answer {
		recs = append(recs, recordOf(rr))
	}
	return recs
}

// getentRecords reads `getent hosts` output: one "ADDRESS NAME [ALIAS...]"
// line per address, each a record named by its line's canonical name. No
// output is no records.
func getentRecords(out string) ([]record, error) {
	if strings.TrimSpace(out) == "" {
		return nil, nil
	}
	g, err := lookupout.ParseGetent(out)
	if err != nil {
		return nil, err
	}
	var recs []record
	for _, h := range g.Hosts {
		if len(h.Names) == 0 {
			return nil, fmt.Errorf("getent: no name for %s", h.Addr)
		}
		typ := "A"
		if h.Addr.Is6() {
			typ = "AAAA"
		}
		recs = append(recs, record{Name: h.Names[0], Type: typ, Data: h.Addr.String()})
	}
	return recs, nil
}

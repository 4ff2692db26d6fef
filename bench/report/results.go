package main

import (
	"encoding/json"
	"fmt"
	"io"
	"math"
)

// spread mirrors the harness's stats.Spread (null medians decode as NaN).
type spread struct {
	N      int      `json:"n"`
	Median *float64 `json:"median"`
	Min    *float64 `json:"min"`
	Max    *float64 `json:"max"`
}

func (s spread) med() float64 { return val(s.Median) }

func val(p *float64) float64 {
	if p == nil {
		return math.NaN()
	}
	return *p
}

// summary mirrors the harness's Summary (the fields the plot uses).
type summary struct {
	Contender   string  `json:"contender"`
	Workload    string  `json:"workload"`
	Tool        string  `json:"tool"`
	Rate        float64 `json:"rate"`
	Rounds      int     `json:"rounds"`
	QPS         spread  `json:"qps"`
	P50         spread  `json:"p50_us"`
	P90         spread  `json:"p90_us"`
	P99         spread  `json:"p99_us"`
	P999        spread  `json:"p99_9_us"`
	CPUPerQuery spread  `json:"cpu_us_per_query"`
}

type document struct {
	Meta struct {
		Date     string `json:"date"`
		Host     string `json:"host"`
		Label    string `json:"label"`
		Rounds   int    `json:"rounds"`
		Upstream string `json:"upstream"`
		Complete bool   `json:"complete"`
	} `json:"meta"`
	Summaries []summary `json:"summaries"`
}

func readDocument(r io.Reader) (*document, error) {
	var d document
	if err := json.NewDecoder(r).Decode(&d); err != nil {
		return nil, err
	}
	if len(d.Summaries) == 0 {
		return nil, fmt.Errorf("no summaries in the results")
	}
	return &d, nil
}

// contenders returns the contender names in first-seen order.
func (d *document) contenders() []string {
	var out []string
	seen := map[string]bool{}
	for _, s := range d.Summaries {
		if !seen[s.Contender] {
			seen[s.Contender] = true
			out = append(out, s.Contender)
		}
	}
	return out
}

// panelKey is one fixed-rate panel.
type panelKey struct {
	Workload, Tool string
	Rate           float64
}

func (d *document) fixedPanels() []panelKey {
	var out []panelKey
	seen := map[panelKey]bool{}
	for _, s := range d.Summaries {
		if s.Tool == "dnsperf" {
			continue
		}
		k := panelKey{s.Workload, s.Tool, s.Rate}
		if !seen[k] {
			seen[k] = true
			out = append(out, k)
		}
	}
	return out
}

func (d *document) find(contender, workload, tool string, rate float64) *summary {
	for i := range d.Summaries {
		s := &d.Summaries[i]
		if s.Contender == contender && s.Workload == workload && s.Tool == tool && s.Rate == rate {
			return s
		}
	}
	return nil
}

func (d *document) workloads(tool string) []string {
	var out []string
	seen := map[string]bool{}
	for _, s := range d.Summaries {
		if s.Tool == tool && !seen[s.Workload] {
			seen[s.Workload] = true
			out = append(out, s.Workload)
		}
	}
	return out
}

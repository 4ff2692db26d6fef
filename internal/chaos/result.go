package chaos

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/meshdns/meshdns/internal/loadgen"
)

// Environment variables the suite reads.
const (
	// OutEnv names a directory the scenarios write their results to.
	OutEnv = "MESHDNS_CHAOS_OUT"
	// LongEnv set to 1 selects the long form (as -chaos.long does).
	LongEnv = "MESHDNS_CHAOS_LONG"
	// ReportEnv names the Markdown file TestWriteReport writes.
	ReportEnv = "MESHDNS_CHAOS_REPORT"
)

// Scenario is the result of one scenario run, as written to OutEnv.
type Scenario struct {
	// ID orders the scenarios ("1a", "1b", "2"...); Test is the test
	// function; Title is the heading.
	ID    string `json:"id"`
	Test  string `json:"test"`
	Title string `json:"title"`
	// Mode is "short" or "long".
	Mode string `json:"mode"`
	// Command reproduces the run.
	Command string `json:"command"`
	// When and where it ran.
	Date   time.Time `json:"date"`
	Kernel string    `json:"kernel"`
	CPUs   int       `json:"cpus"`
	// Load is the offered load; empty for scenarios without one.
	Load *Load `json:"load,omitempty"`
	// Faults lists what was injected, in order.
	Faults []string `json:"faults"`
	// Queries sums the load's queries (zero without a load).
	Queries loadgen.Summary `json:"queries"`
	// Recovery lists measured recovery times.
	Recovery []Figure `json:"recovery,omitempty"`
	// Figures lists other measurements (queue counters, bounds...).
	Figures []Figure `json:"figures,omitempty"`
	// Checks lists what was asserted and whether it held.
	Checks []Check `json:"checks"`
	// Notes explain the figures (kernel behaviour, causes).
	Notes []string `json:"notes,omitempty"`
	// Timeline is the load's per-second accounting.
	Timeline []loadgen.Second `json:"timeline,omitempty"`
	// Passed is whether the test passed.
	Passed bool `json:"passed"`
}

// Load describes the offered load.
type Load struct {
	LookupsPerSec float64 `json:"lookups_per_s"`
	QueriesPerSec float64 `json:"queries_per_s"`
	Seconds       float64 `json:"seconds"`
	TimeoutSec    float64 `json:"timeout_s"`
	Mix           string  `json:"mix"`
}

// Figure is a named measurement.
type Figure struct {
	Name  string `json:"name"`
	Value string `json:"value"`
}

// Check is one assertion and its outcome.
type Check struct {
	What   string `json:"what"`
	Passed bool   `json:"passed"`
	Detail string `json:"detail,omitempty"`
}

// FileName is where s is written in a results directory.
func (s *Scenario) FileName() string {
	return fmt.Sprintf("%s-%s.json", s.ID, s.Mode)
}

// Write writes s as JSON into dir.
func Write(dir string, s *Scenario) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	b, err := json.MarshalIndent(s, "", "  ")
	if err != nil {
		return err
	}
	return os.WriteFile(filepath.Join(dir, s.FileName()), append(b, '\n'), 0o644)
}

// ReadAll reads every result in dir, ordered by ID then mode (short first).
func ReadAll(dir string) ([]*Scenario, error) {
	ents, err := os.ReadDir(dir)
	if err != nil {
		return nil, err
	}
	var out []*Scenario
	for _, e := range ents {
		if e.IsDir() || !strings.HasSuffix(e.Name(), ".json") {
			continue
		}
		b, err := os.ReadFile(filepath.Join(dir, e.Name()))
		if err != nil {
			return nil, err
		}
		var s Scenario
		if err := json.Unmarshal(b, &s); err != nil {
			return nil, fmt.Errorf("%s: %w", e.Name(), err)
		}
		if s.ID == "" {
			return nil, fmt.Errorf("%s: no scenario id", e.Name())
		}
		out = append(out, &s)
	}
	if len(out) == 0 {
		return nil, errors.New("no results in " + dir)
	}
	slices.SortFunc(out, func(a, b *Scenario) int {
		if c := strings.Compare(a.ID, b.ID); c != 0 {
			return c
		}
		return strings.Compare(modeRank(a.Mode), modeRank(b.Mode))
	})
	return out, nil
}

func modeRank(m string) string {
	if m == "short" {
		return "0"
	}
	return "1" + m
}

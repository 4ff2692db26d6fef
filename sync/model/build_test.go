package model

import (
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

var update = flag.Bool("update", false, "rewrite the records of testdata/*.zone from the current output (review the diff!)")

// TestBuild builds each testdata/<case>.yaml and compares the records that
// went into the table, and the problems reported, with testdata/<case>.zone.
func TestBuild(t *testing.T) {
	files, err := filepath.Glob("testdata/*.yaml")
	if err != nil || len(files) == 0 {
		t.Fatalf("no test cases: %v", err)
	}
	for _, f := range files {
		name := strings.TrimSuffix(filepath.Base(f), ".yaml")
		t.Run(name, func(t *testing.T) {
			zf := strings.TrimSuffix(f, ".yaml") + ".zone"
			exp := readExpectation(t, zf)
			got, rep := zoneOf(t, loadYAML(t, f), exp.opts)
			var probs []string
			for _, p := range rep.Problems {
				probs = append(probs, p.String())
			}
			if *update {
				writeExpectation(t, zf, got, probs)
				return
			}
			if d := cmp.Diff(exp.records, got); d != "" {
				t.Errorf("records (-want +got):\n%s", d)
			}
			if d := cmp.Diff(exp.problems, probs); d != "" {
				t.Errorf("problems (-want +got):\n%s", d)
			}
		})
	}
}

// writeExpectation keeps the comment and directive lines of a .zone file
// and replaces its records and problems.
func writeExpectation(t *testing.T, path string, records, problems []string) {
	old, _ := os.ReadFile(path)
	var sb strings.Builder
	for _, l := range strings.Split(string(old), "\n") {
		if strings.HasPrefix(l, ";") && !strings.HasPrefix(l, ";?") {
			sb.WriteString(l + "\n")
		}
	}
	for _, p := range problems {
		sb.WriteString(";? " + p + "\n")
	}
	for _, r := range records {
		sb.WriteString(r + "\n")
	}
	if err := os.WriteFile(path, []byte(sb.String()), 0o644); err != nil {
		t.Fatal(err)
	}
}

package main

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

func TestParseFloats(t *testing.T) {
	got, err := parseFloats(" 2000, 10000 ,")
	if err != nil || !slices.Equal(got, []float64{2000, 10000}) {
		t.Errorf("parseFloats = %v, %v", got, err)
	}
	if _, err := parseFloats("2k"); err == nil {
		t.Error("2k accepted")
	}
	if floats([]float64{400, 2000.5}) != "400,2000.5" {
		t.Errorf("floats = %q", floats([]float64{400, 2000.5}))
	}
}

func TestUsage(t *testing.T) {
	var out, errb bytes.Buffer
	if code := mainErr(nil, &out, &errb); code != 2 || !strings.Contains(errb.String(), "usage") {
		t.Errorf("no args: %d %q", code, errb.String())
	}
	if code := mainErr([]string{"bogus"}, &out, &errb); code != 2 {
		t.Errorf("unknown command: %d", code)
	}
	if code := mainErr([]string{"runas", "x"}, &out, &errb); code != 1 {
		t.Errorf("bad runas: %d", code)
	}
	if code := mainErr([]string{"run", "--rounds", "0"}, &out, &errb); code != 1 {
		t.Errorf("run with 0 rounds: %d", code)
	}
}

func TestObjectsAndLoad(t *testing.T) {
	dir := t.TempDir()
	var out, errb bytes.Buffer
	if code := mainErr([]string{"objects", "--dir", dir, "--services", "10", "--serviceentries", "1", "--external", "2"}, &out, &errb); code != 0 {
		t.Fatalf("objects: %d %s", code, errb.String())
	}
	for _, f := range []string{"objects.yaml", "hosts.mesh", "hosts.all", "root.zone", "dnsperf.mesh", "dnsperf.external"} {
		if st, err := os.Stat(filepath.Join(dir, f)); err != nil || st.Size() == 0 {
			t.Errorf("%s: %v", f, err)
		}
	}
	// A load spec that cannot run reports an error, not a result.
	spec := filepath.Join(dir, "spec.json")
	b, _ := json.Marshal(map[string]any{"kind": "fixed", "config": map[string]any{"rate": 10}})
	if err := os.WriteFile(spec, b, 0o644); err != nil {
		t.Fatal(err)
	}
	out.Reset()
	if code := mainErr([]string{"load", "--spec", spec}, &out, &errb); code != 1 || out.Len() != 0 {
		t.Errorf("bad spec: %d, output %q", code, out.String())
	}
}

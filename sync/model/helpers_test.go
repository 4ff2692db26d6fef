package model

import (
	"bufio"
	"encoding/json"
	"fmt"
	"os"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/meshdns/meshdns/dnsengine"
	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/yaml"
)

// loadYAML reads a multi-document YAML file of Services, EndpointSlices
// and ServiceEntries. (The real parser lives in sync/objects, which imports
// this package.)
func loadYAML(t testing.TB, path string) *Objects {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	objs := &Objects{}
	for i, doc := range regexp.MustCompile(`(?m)^---\s*$`).Split(string(data), -1) {
		j, err := yaml.YAMLToJSON([]byte(doc))
		if err != nil {
			t.Fatalf("%s: document %d: %v", path, i, err)
		}
		if string(j) == "null" {
			continue
		}
		var tm struct{ Kind string }
		if err := json.Unmarshal(j, &tm); err != nil {
			t.Fatalf("%s: document %d: %v", path, i, err)
		}
		switch tm.Kind {
		case "Service":
			var s corev1.Service
			err = json.Unmarshal(j, &s)
			objs.Services = append(objs.Services, &s)
		case "EndpointSlice":
			var e discoveryv1.EndpointSlice
			err = json.Unmarshal(j, &e)
			objs.EndpointSlices = append(objs.EndpointSlices, &e)
		case "ServiceEntry":
			u := &unstructured.Unstructured{}
			if err = u.UnmarshalJSON(j); err == nil {
				var se *ServiceEntry
				se, err = ServiceEntryFromUnstructured(u)
				objs.ServiceEntries = append(objs.ServiceEntries, se)
			}
		default:
			err = fmt.Errorf("unexpected kind %q", tm.Kind)
		}
		if err != nil {
			t.Fatalf("%s: document %d: %v", path, i, err)
		}
	}
	return objs
}

// zoneOf builds objs and returns the records of the table, sorted, in
// zone-file notation, without the zone apex records the table adds itself.
func zoneOf(t testing.TB, objs *Objects, opts Options) ([]string, Report) {
	t.Helper()
	tab, rep, err := Build(objs, opts)
	if err != nil {
		t.Fatal(err)
	}
	return objectRecords(tab), rep
}

// objectRecords returns the records of tab that come from objects (not
// meshdns's own: zone apexes), in zone-file notation, sorted.
func objectRecords(tab *dnsengine.Table) []string {
	var out []string
	for _, r := range tab.Records() {
		if r.Source == "meshdns" {
			continue
		}
		out = append(out, r.String())
	}
	slices.Sort(out)
	return out
}

// expectation is a .zone file: records, plus directives
//
//	;! cluster-domain=D  namespaces=a,b  auto-allocate=false
//	;? <expected Problem.String()>
type expectation struct {
	opts     Options
	records  []string
	problems []string
}

func readExpectation(t testing.TB, path string) expectation {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	e := expectation{opts: DefaultOptions()}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		switch {
		case strings.HasPrefix(line, ";!"):
			for _, kv := range strings.Fields(line[2:]) {
				k, v, _ := strings.Cut(kv, "=")
				switch k {
				case "cluster-domain":
					e.opts.ClusterDomain = v
				case "namespaces":
					e.opts.Namespaces = strings.Split(v, ",")
				case "auto-allocate":
					e.opts.AutoAllocate = v == "true"
				default:
					t.Fatalf("%s: unknown directive %q", path, k)
				}
			}
		case strings.HasPrefix(line, ";?"):
			e.problems = append(e.problems, strings.TrimSpace(line[2:]))
		case line == "" || strings.HasPrefix(line, ";"):
		default:
			e.records = append(e.records, strings.Join(strings.Fields(line), " "))
		}
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	slices.Sort(e.records)
	return e
}

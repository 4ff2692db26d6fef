package names_test

import (
	"bytes"
	"strings"
	"testing"

	"github.com/meshdns/meshdns/bench/internal/names"
	"github.com/meshdns/meshdns/sync/model"
	"github.com/meshdns/meshdns/sync/objects"
)

// TestObjectsLoadInMeshdns checks that the generated objects file loads in
// meshdns's own objects parser and model without a problem, and that the
// table answers every mesh name with the addresses the upstream's hosts
// file gives it: every contender answers the same names the same way.
func TestObjectsLoadInMeshdns(t *testing.T) {
	set, err := names.Generate(names.DefaultConfig())
	if err != nil {
		t.Fatal(err)
	}
	var objs bytes.Buffer
	if err := set.WriteObjects(&objs); err != nil {
		t.Fatal(err)
	}
	parsed, st, err := objects.Parse(&objs, "objects.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if st.ServiceEntries != 100 || st.EndpointSlices != 100 || st.SkippedTotal() != 0 {
		t.Errorf("parse stats %+v", st)
	}
	table, report, err := model.Build(parsed, model.DefaultOptions())
	if err != nil {
		t.Fatal(err)
	}
	if len(report.Problems) != 0 {
		t.Errorf("model problems: %+v", report.Problems)
	}
	have := map[string]bool{}
	for _, r := range table.Records() {
		if r.Type == "A" || r.Type == "AAAA" {
			have[r.Name+" "+r.Data] = true
		}
	}
	var hosts bytes.Buffer
	if err := set.WriteHosts(&hosts, names.HostsOptions{Mesh: true}); err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(hosts.String()), "\n")
	missing := 0
	for _, l := range lines {
		ip, name, _ := strings.Cut(l, " ")
		if !have[name+". "+ip] {
			missing++
			if missing < 5 {
				t.Errorf("meshdns has no %s -> %s", name, ip)
			}
		}
	}
	if missing > 0 {
		t.Errorf("%d of %d mesh host lines missing from the meshdns table", missing, len(lines))
	}
}

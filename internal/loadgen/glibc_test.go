package loadgen

import (
	"slices"
	"testing"
)

func TestResolve(t *testing.T) {
	search := []string{"bench.svc.cluster.local", "svc.cluster.local", "cluster.local", "c.node.internal"}
	zone := &FakeExchanger{
		A: map[string]int{
			"svc-1.bench.svc.cluster.local.": 1,
			"svc-2.ns-2.svc.cluster.local.":  1,
			"ext.example.net.":               2,
			"a.b.c.d.e.f.":                   1,
		},
		AAAA: map[string]int{
			"v6only.bench.svc.cluster.local.": 1,
			"nodata.bench.svc.cluster.local.": 0,
		},
		ServFail: map[string]bool{"flaky.bench.svc.cluster.local.": true},
		Timeout:  map[string]bool{"slow.bench.svc.cluster.local.": true},
	}
	zone.A["flaky.svc.cluster.local."] = 1
	tests := []struct {
		name     string
		in       string
		found    bool
		answered string
		tried    int
		wantErr  bool
		firstTry string
	}{
		{"short name hits first domain", "svc-1", true, "svc-1.bench.svc.cluster.local.", 1, false, "svc-1.bench.svc.cluster.local."},
		{"name.ns hits second domain", "svc-2.ns-2", true, "svc-2.ns-2.svc.cluster.local.", 2, false, "svc-2.ns-2.bench.svc.cluster.local."},
		{"FQDN without dot walks the whole list", "svc-2.ns-2.svc.cluster.local", true, "svc-2.ns-2.svc.cluster.local.", 5, false, "svc-2.ns-2.svc.cluster.local.bench.svc.cluster.local."},
		{"external walks the whole list", "ext.example.net", true, "ext.example.net.", 5, false, "ext.example.net.bench.svc.cluster.local."},
		{"trailing dot is tried as is only", "ext.example.net.", true, "ext.example.net.", 1, false, "ext.example.net."},
		{"ndots reached: as is first", "a.b.c.d.e.f", true, "a.b.c.d.e.f.", 1, false, "a.b.c.d.e.f."},
		{"AAAA-only answer is found", "v6only", true, "v6only.bench.svc.cluster.local.", 1, false, "v6only.bench.svc.cluster.local."},
		{"NODATA keeps searching", "nodata", false, "", 5, false, "nodata.bench.svc.cluster.local."},
		{"SERVFAIL keeps searching", "flaky", true, "flaky.svc.cluster.local.", 2, false, "flaky.bench.svc.cluster.local."},
		{"timeout ends the search", "slow", false, "", 1, true, "slow.bench.svc.cluster.local."},
		{"unknown: search then as is", "nope", false, "", 5, false, "nope.bench.svc.cluster.local."},
		{"unknown trailing dot", "nope.", false, "", 1, false, "nope."},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			o := Resolve(zone, tt.in, search, 5)
			if o.Found != tt.found || o.Name != tt.answered || len(o.Tried) != tt.tried || (o.Err != nil) != tt.wantErr {
				t.Errorf("Resolve(%q) = %+v", tt.in, o)
			}
			if len(o.Tried) > 0 && o.Tried[0] != tt.firstTry {
				t.Errorf("first try %q, want %q", o.Tried[0], tt.firstTry)
			}
			if !tt.found && !tt.wantErr && !slices.Contains(o.Tried, tt.in) && !slices.Contains(o.Tried, tt.in+".") {
				t.Errorf("not-found name %q never tried as is: %v", tt.in, o.Tried)
			}
		})
	}
}

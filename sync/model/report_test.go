package model

import (
	"net/netip"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	corev1 "k8s.io/api/core/v1"
)

func TestReportCounts(t *testing.T) {
	for _, tc := range []struct {
		file          string
		opts          Options
		svc, eps, ses Counts
		autoVIPs      int
	}{
		{
			file: "testdata/invalid.yaml", opts: DefaultOptions(),
			svc: Counts{Loaded: 2, Skipped: 5},
			eps: Counts{Loaded: 1, Skipped: 3},
		},
		{
			file: "testdata/namespaces.yaml", opts: Options{Namespaces: []string{"default"}},
			svc: Counts{Loaded: 1, Filtered: 1},
			eps: Counts{Filtered: 1},
			ses: Counts{Skipped: 1, Filtered: 1},
		},
		{
			file: "testdata/serviceentry.yaml", opts: DefaultOptions(),
			svc:      Counts{Loaded: 1},
			ses:      Counts{Loaded: 5, Skipped: 3},
			autoVIPs: 3,
		},
	} {
		t.Run(tc.file, func(t *testing.T) {
			_, rep, err := Build(loadYAML(t, tc.file), tc.opts)
			if err != nil {
				t.Fatal(err)
			}
			got := [3]Counts{rep.Services, rep.EndpointSlices, rep.ServiceEntries}
			want := [3]Counts{tc.svc, tc.eps, tc.ses}
			if d := cmp.Diff(want, got); d != "" {
				t.Errorf("counts [svc, eps, ses] (-want +got):\n%s", d)
			}
			if rep.AutoVIPs != tc.autoVIPs {
				t.Errorf("AutoVIPs = %d, want %d", rep.AutoVIPs, tc.autoVIPs)
			}
		})
	}
}

func TestBuildOptions(t *testing.T) {
	objs := &Objects{Services: []*corev1.Service{{}}}
	objs.Services[0].Name, objs.Services[0].Namespace = "web", "default"
	objs.Services[0].Spec.ClusterIP = "10.96.1.10"
	for _, tc := range []struct {
		opts    Options
		wantErr string
	}{
		{opts: Options{}},
		{opts: DefaultOptions()},
		{opts: Options{ClusterDomain: "cluster.local.", Zones: []string{"cluster.local", "example.org."}}},
		{opts: Options{ClusterDomain: "bad..domain"}, wantErr: "cluster domain"},
		{opts: Options{Zones: []string{"a b"}}, wantErr: "zone"},
		{opts: Options{Namespaces: []string{"Bad_NS"}}, wantErr: "namespace"},
		{opts: Options{Nameservers: []netip.Addr{{}}}, wantErr: "nameserver"},
	} {
		tab, rep, err := Build(objs, tc.opts)
		if tc.wantErr != "" {
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Errorf("%+v: error %v, want one about %q", tc.opts, err, tc.wantErr)
			}
			continue
		}
		if err != nil || tab == nil {
			t.Errorf("%+v: %v", tc.opts, err)
			continue
		}
		if rep.Services.Loaded != 1 || tab.Stats().ByType["A"] != 1 {
			t.Errorf("%+v: report %+v, table %+v", tc.opts, rep, tab.Stats())
		}
	}
	if tab, _, err := Build(nil, DefaultOptions()); err != nil || tab == nil {
		t.Errorf("Build(nil): %v", err)
	}
}

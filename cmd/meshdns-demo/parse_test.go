package main

import (
	"os"
	"reflect"
	"testing"

	"github.com/meshdns/meshdns/internal/lookupout"
)

func TestGetentRecords(t *testing.T) {
	tests := []struct {
		in      string
		want    []record
		wantErr bool
	}{
		{"", nil, false},
		{"198.19.0.10     www.example.org\n", []record{{Name: "www.example.org", Type: "A", Data: "198.19.0.10"}}, false},
		{"fd53:19:0:0::10 web.default.svc.cluster.local web\n10.96.0.1 x\n", []record{
			{Name: "web.default.svc.cluster.local", Type: "AAAA", Data: "fd53:19::10"},
			{Name: "x", Type: "A", Data: "10.96.0.1"},
		}, false},
		{"nonsense here\n", nil, true},
		{"198.19.0.10\n", nil, true},
	}
	for _, tc := range tests {
		got, err := getentRecords(tc.in)
		if (err != nil) != tc.wantErr || !reflect.DeepEqual(got, tc.want) {
			t.Errorf("getentRecords(%q) = %+v, %v; want %+v (err %v)", tc.in, got, err, tc.want, tc.wantErr)
		}
	}
}

func FuzzGetentRecords(f *testing.F) {
	f.Add("198.19.0.10 www.example.org\nfd53::1 a b c\n")
	f.Fuzz(func(t *testing.T, in string) {
		recs, err := getentRecords(in)
		if err != nil {
			return
		}
		for _, r := range recs {
			if r.Type != "A" && r.Type != "AAAA" || r.Name == "" {
				t.Errorf("bad record %+v", r)
			}
		}
	})
}

func TestDigRecords(t *testing.T) {
	b, err := os.ReadFile("../../internal/lookupout/testdata/dig-cname.txt")
	if err != nil {
		t.Fatal(err)
	}
	d, err := lookupout.ParseDig(string(b))
	if err != nil {
		t.Fatal(err)
	}
	want := []record{
		{Name: "search.default.svc.cluster.local.", TTL: 30, Type: "CNAME", Data: "www.example.org."},
		{Name: "www.example.org.", TTL: 7, Type: "A", Data: "198.19.0.10"},
	}
	if got := digRecords(d); !reflect.DeepEqual(got, want) {
		t.Errorf("got  %+v\nwant %+v", got, want)
	}
}

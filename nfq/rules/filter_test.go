package rules

import (
	"fmt"
	"strings"
	"testing"
)

func TestNewQueryFilter(t *testing.T) {
	many := func(n int, suffix string) []string {
		var out []string
		for i := range n {
			out = append(out, fmt.Sprintf("h%d.%s", i, suffix))
		}
		return out
	}
	var tlds []string
	for i := range MaxFilterNames + 1 {
		tlds = append(tlds, fmt.Sprintf("host.tld%d", i))
	}
	tests := []struct {
		name   string
		names  []string
		single bool
		want   string // String(); "all" for nil
	}{
		{"one zone", []string{"cluster.local"}, false, "cluster.local."},
		{"dots and case", []string{"Cluster.Local.", "EXAMPLE.com"}, true, "cluster.local. example.com. <single label>"},
		{"below another", []string{"a.b.example.com", "example.com", "b.example.com", "example.com"}, false, "example.com."},
		{"siblings kept", []string{"a.example.com", "b.example.com"}, false, "a.example.com. b.example.com."},
		{"not a suffix of a sibling label", []string{"example.com", "fooexample.com"}, false, "example.com. fooexample.com."},
		{"only single labels", nil, true, "<single label>"},
		{"nothing", nil, false, "all"},
		{"the root", []string{"cluster.local", "."}, false, "all"},
		{"not a name", []string{"a..b"}, false, "all"},
		{"escapes", []string{`a\.b.example.com`}, false, "all"},
		// 20 hosts under one domain, beyond MaxFilterNames: widened to it.
		{"widened", append(many(20, "svc.example.com"), "cluster.local"), false, "svc.example.com. cluster.local."},
		// Hosts of different depths: the deepest are widened first.
		{"widened deepest first", append(many(MaxFilterNames, "x.y.example.com"), "a.example.net"), false, "a.example.net. x.y.example.com."},
		// A wildcard covers the names below its suffix.
		{"wildcard", []string{"*.wiki.example.org", "a.wiki.example.org"}, false, "wiki.example.org."},
		// More top-level domains than rules: no filter can cover them.
		{"too many tlds", tlds, false, "all"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			names := tt.names
			f := NewQueryFilter(names, tt.single)
			if got := f.String(); got != tt.want {
				t.Errorf("NewQueryFilter(%q, %v) = %q, want %q", names, tt.single, got, tt.want)
			}
			if f != nil {
				if len(f.Names) > MaxFilterNames {
					t.Errorf("%d names, more than %d", len(f.Names), MaxFilterNames)
				}
				if err := f.validate(false); err != nil {
					t.Error(err)
				}
			}
		})
	}
}

// A name longer than xt_string's longest pattern is cut to its longest
// suffix that fits, which still covers it.
func TestNewQueryFilterLongName(t *testing.T) {
	long := strings.Repeat(strings.Repeat("a", 60)+".", 3) + "example.com"
	f := NewQueryFilter([]string{long}, false)
	if f == nil || len(f.Names) != 1 {
		t.Fatalf("NewQueryFilter(long) = %v", f)
	}
	w, _ := wireName(long)
	if n := f.Names[0]; len(n) > maxPattern || !strings.HasSuffix(string(w), string(n)) {
		t.Errorf("pattern %q (%d bytes): want a suffix of the name of at most %d bytes", n, len(n), maxPattern)
	}
}

func TestQueryFilterEqual(t *testing.T) {
	a := NewQueryFilter([]string{"cluster.local", "example.com"}, true)
	for _, tt := range []struct {
		b    *QueryFilter
		want bool
	}{
		{NewQueryFilter([]string{"example.com.", "Cluster.Local"}, true), true},
		{NewQueryFilter([]string{"cluster.local", "example.com"}, false), false},
		{NewQueryFilter([]string{"cluster.local"}, true), false},
		{nil, false},
	} {
		if got := a.Equal(tt.b); got != tt.want {
			t.Errorf("%v.Equal(%v) = %v, want %v", a, tt.b, got, tt.want)
		}
	}
	var none *QueryFilter
	if !none.Equal(nil) {
		t.Error("nil.Equal(nil) = false")
	}
}

func TestQueryFilterValidate(t *testing.T) {
	ok := &QueryFilter{Names: [][]byte{[]byte("\x07example\x03com\x00")}}
	for _, tt := range []struct {
		name     string
		f        *QueryFilter
		response bool
		wantErr  bool
	}{
		{"nil", nil, true, false},
		{"good", ok, false, false},
		{"with the cache's answers", ok, true, true},
		{"length past the end", &QueryFilter{Names: [][]byte{[]byte("\x09example\x00")}}, false, true},
		{"no final zero", &QueryFilter{Names: [][]byte{[]byte("\x07example")}}, false, true},
		{"the root", &QueryFilter{Names: [][]byte{{0}}}, false, true},
		{"too long", &QueryFilter{Names: [][]byte{append([]byte(strings.Repeat("\x3f"+strings.Repeat("a", 63), 3)), 0)}}, false, true},
		{"too many", &QueryFilter{Names: make([][]byte, MaxFilterNames+1)}, false, true},
		// Empty, it would queue no UDP query at all.
		{"empty", &QueryFilter{}, false, true},
		{"single labels only", &QueryFilter{SingleLabel: true}, false, false},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if err := tt.f.validate(tt.response); (err != nil) != tt.wantErr {
				t.Errorf("validate = %v, want error %v", err, tt.wantErr)
			}
		})
	}
	if _, err := RenderInstall(Config{Nameservers: mustAddrs("10.96.0.10"), CaptureResponses: true, Filter: ok}, IPv4, nil); err == nil {
		t.Error("RenderInstall with a filter and CaptureResponses: no error")
	}
	if _, err := RenderInstall(Config{Nameservers: mustAddrs("10.96.0.10"), Filter: &QueryFilter{}}, IPv4, nil); err == nil {
		t.Error("RenderInstall with an empty filter: no error")
	}
}

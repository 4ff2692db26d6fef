package objects

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/meshdns/meshdns/sync/model"
)

func TestParseListYAMLAndJSON(t *testing.T) {
	fromYAML, sy, err := Load("testdata/list.yaml")
	if err != nil {
		t.Fatal(err)
	}
	fromJSON, sj, err := Load("testdata/list.json")
	if err != nil {
		t.Fatal(err)
	}
	if d := cmp.Diff(fromYAML, fromJSON); d != "" {
		t.Errorf("YAML and JSON differ (-yaml +json):\n%s", d)
	}
	want := Stats{Documents: 1, Services: 1, EndpointSlices: 1, ServiceEntries: 1,
		Skipped: map[string]int{"v1 Endpoints": 1, "apps/v1 Deployment": 1}}
	for _, st := range []Stats{sy, sj} {
		if d := cmp.Diff(want, st); d != "" {
			t.Errorf("stats (-want +got):\n%s", d)
		}
	}
	if st := sy; st.SkippedTotal() != 2 {
		t.Errorf("SkippedTotal = %d", st.SkippedTotal())
	}
	svc := fromYAML.Services[0]
	if svc.Name != "web" || svc.Spec.ClusterIP != "10.96.23.17" || svc.Spec.Ports[0].Port != 80 {
		t.Errorf("service: %+v", svc)
	}
	es := fromYAML.EndpointSlices[0]
	if es.Labels["kubernetes.io/service-name"] != "web" || *es.Endpoints[0].Hostname != "web-0" || *es.Ports[0].Port != 8080 {
		t.Errorf("endpoint slice: %+v", es)
	}
	se := fromYAML.ServiceEntries[0]
	if se.Namespace != "shop" || se.Hosts[0] != "payments.example.com" || se.Resolution != "DNS" ||
		se.Labels[model.LabelAutoAllocate] != "false" || se.StatusAddresses[0].Value != "240.240.0.7" ||
		se.CreationTimestamp.IsZero() {
		t.Errorf("service entry: %+v", se)
	}
}

func TestParseStreams(t *testing.T) {
	for _, f := range []string{"testdata/stream.yaml", "testdata/stream.json"} {
		objs, st, err := Load(f)
		if err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		if st.Documents != 3 || st.Services != 1 || st.EndpointSlices != 1 || st.ServiceEntries != 1 {
			t.Errorf("%s: stats %+v", f, st)
		}
		if objs.Services[0].Namespace != "default" || objs.EndpointSlices[0].Namespace != "default" {
			t.Errorf("%s: objects without a namespace should be in default", f)
		}
		if objs.EndpointSlices[0].Kind != "EndpointSlice" || objs.EndpointSlices[0].APIVersion != "discovery.k8s.io/v1" {
			t.Errorf("%s: list item type %q %q", f, objs.EndpointSlices[0].APIVersion, objs.EndpointSlices[0].Kind)
		}
		if objs.ServiceEntries[0].Hosts[0] != "legacy.example.net" {
			t.Errorf("%s: %+v", f, objs.ServiceEntries[0])
		}
	}
}

// TestExample checks that the demo file loads, builds without a problem and
// gives what its header comment promises.
func TestExample(t *testing.T) {
	objs, st, err := Load("../../examples/objects.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if st.Services != 5 || st.EndpointSlices != 4 || st.ServiceEntries != 3 || st.SkippedTotal() != 0 {
		t.Errorf("stats %+v", st)
	}
	tab, rep, err := model.Build(objs, model.DefaultOptions())
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.Problems) != 0 {
		t.Errorf("problems: %v", rep.Problems)
	}
	if rep.Services.Loaded != 5 || rep.EndpointSlices.Loaded != 4 || rep.ServiceEntries.Loaded != 3 || rep.AutoVIPs != 1 {
		t.Errorf("report %+v", rep)
	}
	if s := tab.Stats(); s.Wildcards != 1 || s.ByType["CNAME"] != 2 || s.ByType["AAAA"] < 2 {
		t.Errorf("table %+v", s)
	}
}

func TestParseErrors(t *testing.T) {
	for _, tc := range []struct {
		name, in string
		want     []string
	}{
		{"f.yaml", "apiVersion: v1\nkind: Service\nmetadata: {name: a}\n---\n# c\napiVersion: v1\nkind: Service\n  bad: indent\n",
			[]string{"f.yaml: document 2 (line 6): ", "yaml: line"}},
		{"f.yaml", "apiVersion: v1\nkind: Service\nmetadata:\n  name: web\n  namespace: shop\nspec:\n  ports:\n  - port: http\n",
			[]string{"f.yaml: document 1 (line 1) (Service shop/web): ", "cannot unmarshal string", "port"}},
		{"f.yaml", "kind: List\napiVersion: v1\nitems:\n- apiVersion: v1\n  kind: Service\n  metadata: {name: ok}\n- apiVersion: v1\n  kind: Service\n  metadata: {name: bad, namespace: ns}\n  spec: {clusterIPs: 5}\n",
			[]string{"f.yaml: document 1 (line 1), items[1] (Service ns/bad): "}},
		{"f.yaml", "apiVersion: v1\nmetadata: {name: a}\n", []string{"document 1 (line 1) (a): no kind"}},
		{"f.yaml", "apiVersion: v1\nkind: Service\nmetadata: {namespace: x}\n", []string{"(Service): metadata.name: missing"}},
		{"f.yaml", "just a string\n", []string{"document 1 (line 1): not an object"}},
		{"f.yaml", "a: 1\na: 2\n", []string{"document 1", "already set"}},
		{"f.yaml", "apiVersion: networking.istio.io/v1\nkind: ServiceEntry\nmetadata: {name: x, namespace: shop}\nspec: {hosts: a.example.com}\n",
			[]string{"(ServiceEntry shop/x): spec.hosts: want a list"}},
		{"f.yaml", "apiVersion: discovery.k8s.io/v1\nkind: EndpointSlice\nmetadata: {name: e}\nendpoints: [{addresses: 10.0.0.1}]\n",
			[]string{"(EndpointSlice e): ", "cannot unmarshal", "endpoints.addresses"}},
		{"f.json", "{\"kind\": \"Service\", \"apiVersion\": \"v1\", \"metadata\": {\"name\": \"a\"}}\n\n{\"kind\": x}\n",
			[]string{"f.json: document 2 (line 3): invalid character", "(at line 3)"}},
		{"f.json", `{"kind": "ServiceList", "apiVersion": "v1", "items": [5]}`, []string{"f.json: document 1 (line 1), items[0]: not an object"}},
		{"f.json", `{"kind": "List", "items": [{"kind": "List", "items": [{"kind": "List", "items": [{"kind": "List", "items": [{"kind": "List", "items": []}]}]}]}]}`,
			[]string{"items[0].items[0].items[0].items[0]: Lists nested deeper than 4"}},
		{"f.json", `{"kind": "List", "items": [{"metadata": {"name": "x"}}]}`, []string{"items[0] (x): no kind"}},
		{"f.json", `[1]`, []string{"items[0]: not an object"}},
	} {
		objs, _, err := Parse(strings.NewReader(tc.in), tc.name)
		if err == nil {
			t.Errorf("%q: no error", tc.in)
			continue
		}
		if objs != nil {
			t.Errorf("%q: objects returned with an error", tc.in)
		}
		var pe *ParseError
		if !errors.As(err, &pe) {
			t.Errorf("%q: %T is not a *ParseError", tc.in, err)
		}
		for _, w := range tc.want {
			if !strings.Contains(err.Error(), w) {
				t.Errorf("%q:\n error %q\n lacks %q", tc.in, err, w)
			}
		}
	}
}

func TestParseEmpty(t *testing.T) {
	for _, in := range []string{"", "\n# nothing\n", "---\n---\n", "\xef\xbb\xbf"} {
		objs, st, err := Parse(strings.NewReader(in), "e")
		if err != nil || objs == nil || objs.Len() != 0 || st.Documents != 0 {
			t.Errorf("%q: %v %v %+v", in, objs, err, st)
		}
	}
}

func TestSplitYAML(t *testing.T) {
	in := "# head\n---\na: 1\n--- # c\n\nb: 2\n...\nc: 3\n--- d: 4\n"
	docs := splitYAML([]byte(in))
	var got []string
	for _, d := range docs {
		got = append(got, strings.TrimSpace(string(d.body)))
	}
	lines := []int{docs[0].line, docs[1].line, docs[2].line, docs[3].line}
	if d := cmp.Diff([]string{"a: 1", "b: 2", "c: 3", "d: 4"}, got); d != "" {
		t.Errorf("bodies (-want +got):\n%s", d)
	}
	if d := cmp.Diff([]int{3, 6, 8, 9}, lines); d != "" {
		t.Errorf("lines (-want +got):\n%s", d)
	}
}

// FuzzParse: Parse never panics; it returns either objects that build or
// a *ParseError and nothing; and it returns what reading every document
// whole returns (a List's items, JSON with the decoder), error included.
func FuzzParse(f *testing.F) {
	seeds, _ := filepath.Glob("testdata/*")
	seeds = append(seeds, "../../examples/objects.yaml")
	for _, s := range seeds {
		data, err := os.ReadFile(s)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
	f.Add([]byte("--- !!binary\n"))
	f.Add([]byte("{\"kind\":\"ServiceList\",\"apiVersion\":\"v1\",\"items\":[{}]}"))
	f.Fuzz(func(t *testing.T, data []byte) {
		objs, st, err := Parse(bytes.NewReader(data), "fuzz")
		wobjs, wst, werr := parse(data, "fuzz", true)
		sameParse(t, "in place, read whole", objs, wobjs, st, wst, err, werr)
		// JSON as readFile reads it, its blanks squeezed: the same again.
		if looksJSON(bytes.TrimPrefix(data, []byte("\xef\xbb\xbf"))) {
			var z jsonSqueezer
			sobjs, sst, serr := parseData(z.squeeze(nil, data), "fuzz")
			sameParse(t, "squeezed, as it is", sobjs, objs, sst, st, serr, err)
		}
		if err != nil {
			var pe *ParseError
			if !errors.As(err, &pe) || objs != nil {
				t.Fatalf("error %T %v with objects %v", err, err, objs)
			}
			if strings.Contains(err.Error(), "parser panic") {
				t.Fatalf("panic: %v", err)
			}
			return
		}
		if _, _, err := model.Build(objs, model.DefaultOptions()); err != nil {
			t.Fatalf("Build: %v", err)
		}
	})
}

// sameParse fails t unless two parses of one file (what names a and b)
// gave the same objects, statistics and error.
func sameParse(t *testing.T, what string, a, b *model.Objects, sa, sb Stats, ea, eb error) {
	t.Helper()
	if fmt.Sprint(ea) != fmt.Sprint(eb) {
		t.Fatalf("%s: errors %v and %v", what, ea, eb)
	}
	if d := cmp.Diff(b, a); d != "" {
		t.Fatalf("%s: objects (-second +first):\n%s", what, d)
	}
	if d := cmp.Diff(sb, sa); d != "" {
		t.Fatalf("%s: stats (-second +first):\n%s", what, d)
	}
}

// TestLines checks the counter a stream's documents ask their lines of
// against counting from the start each time: offsets that increase (a
// stream), go back, or fall outside the data.
func TestLines(t *testing.T) {
	data := []byte("{}\n\n{\"a\":\n1}\n{}\n\n\n{}")
	slow := func(off int64) int {
		off = min(max(off, 0), int64(len(data)))
		return 1 + bytes.Count(data[:off], []byte("\n"))
	}
	offsets := []int64{0, 1, 2, 3, 3, 4, 9, 10, 12, 13, 5, 6, 20, 100, 2, -1, 17, int64(len(data))}
	var c lines
	for _, off := range offsets {
		if got, want := c.at(data, off), slow(off); got != want {
			t.Errorf("at(%d) = %d, want %d", off, got, want)
		}
	}
	for off := int64(-2); off <= int64(len(data))+2; off++ {
		if got, want := lineAt(data, off), slow(off); got != want {
			t.Errorf("lineAt(%d) = %d, want %d", off, got, want)
		}
	}
}

// TestJSONStreamLines: the line of each document of a JSON stream, told
// in the error about it, for documents after many others (the counter
// carries from one document to the next).
func TestJSONStreamLines(t *testing.T) {
	var b strings.Builder
	for i := range 50 {
		fmt.Fprintf(&b, "{\"apiVersion\": \"v1\", \"kind\": \"ConfigMap\",\n \"metadata\": {\"name\": \"c%d\"}}\n\n", i)
	}
	b.WriteString(`{"apiVersion": "v1", "kind": "Service", "metadata": {"name": "x"}, "spec": {"ports": "nope"}}`)
	_, _, err := Parse(strings.NewReader(b.String()), "f.json")
	if err == nil || !strings.Contains(err.Error(), "document 51 (line 151)") {
		t.Fatalf("error %v, want it at document 51 (line 151)", err)
	}
}

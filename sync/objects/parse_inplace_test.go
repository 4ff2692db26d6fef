package objects

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/meshdns/meshdns/sync/model"
	"github.com/meshdns/meshdns/sync/model/modeltest"
	"sigs.k8s.io/yaml"
)

// svcItem is a Service as an item of a YAML List at indentation ind.
func svcItem(ind, name string) string {
	return ind + "- apiVersion: v1\n" + ind + "  kind: Service\n" + ind + "  metadata:\n" + ind + "    name: " + name + "\n" + ind + "    namespace: ns\n" + ind + "  spec:\n" + ind + "    clusterIP: 10.96.0.1\n"
}

// TestYAMLListInPlace: YAML Lists as kubectl and other writers write them
// are read an item at a time (splitYAMLList accepts them) and give what
// reading them whole gives, errors included; other shapes are read whole.
func TestYAMLListInPlace(t *testing.T) {
	web, db := svcItem("", "web"), svcItem("", "db")
	for _, tc := range []struct {
		name    string
		doc     string
		inPlace bool // splitYAMLList takes it
		whole   bool // read whole after all (an item does not convert alone)
	}{
		{"kubectl", "apiVersion: v1\nitems:\n" + web + db + "kind: List\nmetadata:\n  resourceVersion: \"\"\n", true, false},
		{"kind first", "kind: List\napiVersion: v1\nitems:\n" + web + db, true, false},
		{"indented sequence", "apiVersion: v1\nkind: List\nitems:\n" + svcItem("  ", "web") + svcItem("  ", "db"), true, false},
		{"comments and blank lines", "apiVersion: v1\nkind: List\nitems:\n# one\n" + web + "\n  # two\n\n" + db + "# end\nmetadata: {}\n", true, false},
		{"wider item indentation", "apiVersion: v1\nkind: List\nitems:\n-   apiVersion: v1\n    kind: Service\n    metadata: {name: web, namespace: ns}\n", true, false},
		{"flow items", "apiVersion: v1\nkind: List\nitems:\n- {apiVersion: v1, kind: Service, metadata: {name: web, namespace: ns}}\n- {apiVersion: v1, kind: Service,\n   metadata: {name: db, namespace: ns}}\n", false, false},
		{"block scalar with blank and # lines", "apiVersion: v1\nkind: List\nitems:\n- apiVersion: v1\n  kind: Service\n  metadata:\n    name: web\n    namespace: ns\n    annotations:\n      note: |\n        # not a comment\n\n        x\n      \n" + db, true, false},
		{"typed list, items without kind", "apiVersion: v1\nkind: ServiceList\nitems:\n- metadata: {name: web, namespace: ns}\n  spec: {clusterIP: 10.96.0.1}\n", true, false},
		{"CRLF", strings.ReplaceAll("apiVersion: v1\nkind: List\nitems:\n"+web+db, "\n", "\r\n"), true, false},
		{"nested List", "apiVersion: v1\nkind: List\nitems:\n- apiVersion: v1\n  kind: List\n  items:\n  " + strings.ReplaceAll(web, "\n", "\n  ") + "\n", true, false},
		{"anchor across items", "apiVersion: v1\nkind: List\nitems:\n- &svc\n  apiVersion: v1\n  kind: Service\n  metadata: {name: web, namespace: ns}\n- *svc\n", false, false},
		{"an item's syntax error", "apiVersion: v1\nkind: List\nitems:\n" + web + "- apiVersion: v1\n  kind: Service\n   bad: indent\n", true, true},
		{"an item's object error", "apiVersion: v1\nkind: List\nitems:\n" + web + "- apiVersion: v1\n  kind: Service\n  metadata: {name: bad, namespace: ns}\n  spec: {clusterIPs: 5}\n", true, false},
		{"an item without kind in a List", "apiVersion: v1\nkind: List\nitems:\n- metadata: {name: x}\n", true, false},
		{"duplicate key in an item", "apiVersion: v1\nkind: List\nitems:\n- kind: Service\n  kind: Service\n", true, true},
		{"not a List: an object with items", "apiVersion: example.com/v1\nkind: Thing\nmetadata: {name: t}\nitems:\n- a: 1\n", true, false},
		{"no kind", "apiVersion: v1\nitems:\n" + web, true, false},
		{"two items keys", "apiVersion: v1\nkind: List\nitems:\n" + web + "items:\n" + db, false, false},
		{"Items too", "apiVersion: v1\nkind: List\nItems:\n" + db + "items:\n" + web, true, false},
		{"empty items", "apiVersion: v1\nkind: List\nitems: []\n", false, false},
		{"null items", "apiVersion: v1\nkind: List\nitems:\nmetadata: {}\n", false, false},
		{"items a mapping", "apiVersion: v1\nkind: List\nitems:\n  a: b\n", false, false},
		{"odd indentation", "apiVersion: v1\nkind: List\nitems:\n  - apiVersion: v1\n kind: Service\n", false, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if _, _, _, ok := splitYAMLList([]byte(tc.doc)); ok != tc.inPlace {
				t.Errorf("splitYAMLList ok = %v, want %v", ok, tc.inPlace)
			}
			for _, doc := range []string{tc.doc, "---\n" + tc.doc + "---\n" + svcYAML("zz")} {
				p := &parser{file: "f.yaml", objs: &model.Objects{}, st: Stats{Skipped: map[string]int{}}}
				objs, st, err := p.run([]byte(doc))
				if wantWhole := tc.inPlace && tc.whole; (p.listsWhole > 0) != wantWhole {
					t.Errorf("read whole after all: %d Lists, want %v", p.listsWhole, wantWhole)
				}
				wobjs, wst, werr := parse([]byte(doc), "f.yaml", true)
				sameParse(t, "in place, read whole", objs, wobjs, st, wst, err, werr)
			}
		})
	}
}

// TestExportsInPlace: a cluster exported as kubectl exports it (the
// fields its controllers write), as one YAML List, one indented JSON
// List, a YAML stream and a JSON stream, reads to the same objects as
// when read whole, and in every form to the same objects.
func TestExportsInPlace(t *testing.T) {
	c := modeltest.ScaleCluster(50)
	c.Controllers = true
	var stream bytes.Buffer
	if err := modeltest.WriteJSON(&stream, modeltest.Cluster(c)); err != nil {
		t.Fatal(err)
	}
	var items []json.RawMessage
	var yamlStream bytes.Buffer
	d := json.NewDecoder(bytes.NewReader(stream.Bytes()))
	for d.More() {
		var raw json.RawMessage
		if err := d.Decode(&raw); err != nil {
			t.Fatal(err)
		}
		items = append(items, raw)
		y, err := yaml.JSONToYAML(raw)
		if err != nil {
			t.Fatal(err)
		}
		yamlStream.WriteString("---\n")
		yamlStream.Write(y)
	}
	list, err := json.Marshal(map[string]any{"apiVersion": "v1", "kind": "List", "items": items, "metadata": map[string]string{"resourceVersion": ""}})
	if err != nil {
		t.Fatal(err)
	}
	var jsonList bytes.Buffer
	if err := json.Indent(&jsonList, list, "", "    "); err != nil {
		t.Fatal(err)
	}
	yamlList, err := yaml.JSONToYAML(list)
	if err != nil {
		t.Fatal(err)
	}
	if _, _, _, ok := splitYAMLList(yamlList); !ok {
		t.Fatal("kubectl's List shape not read in place: the test tests nothing")
	}
	var first string
	for _, f := range []struct {
		name string
		data []byte
	}{{"stream.json", stream.Bytes()}, {"list.json", jsonList.Bytes()}, {"stream.yaml", yamlStream.Bytes()}, {"list.yaml", yamlList}} {
		p := &parser{file: f.name, objs: &model.Objects{}, st: Stats{Skipped: map[string]int{}}}
		objs, st, err := p.run(f.data)
		if err != nil {
			t.Fatalf("%s: %v", f.name, err)
		}
		if p.listsWhole != 0 {
			t.Errorf("%s: %d Lists read whole after all", f.name, p.listsWhole)
		}
		wobjs, _, err := parse(f.data, f.name, true)
		if err != nil {
			t.Fatalf("%s whole: %v", f.name, err)
		}
		if d := cmp.Diff(wobjs, objs); d != "" {
			t.Errorf("%s: objects (-whole +in place):\n%s", f.name, d)
		}
		if st.Services != 50 || st.EndpointSlices != 50 || st.ServiceEntries != 100 {
			t.Errorf("%s: %+v", f.name, st)
		}
		got := fmt.Sprint(objs.Services, objs.EndpointSlices, objs.ServiceEntries)
		if first == "" {
			first = got
		} else if got != first {
			t.Errorf("%s: objects differ from stream.json's", f.name)
		}
	}
}

// FuzzJSONScan checks the in-place reading against encoding/json on any
// valid JSON: jsonEnd finds the value's end, jsonElems an array's
// elements as Unmarshal finds them, and head's items (rawRef) are the
// items Unmarshal finds (keys in any case, the last one winning).
func FuzzJSONScan(f *testing.F) {
	for _, s := range []string{`[1, "a\"]", {"b": [2]}, null, true, -1.5e3]`, `{"items": [{}, []], "Items": null}`,
		`{"ITEMS": [1], "kind": "List"}`, `{"items": 5}`, `{"items": null}`, ` [ ] `, `"x"`, `{"a":"\\"}`} {
		f.Add([]byte(s))
	}
	if data, err := os.ReadFile("testdata/list.json"); err == nil {
		f.Add(data)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		if !json.Valid(data) {
			return
		}
		start := jsonSpace(data, 0)
		end, ok := jsonEnd(data, start)
		if !ok || jsonSpace(data, end) != len(data) {
			t.Fatalf("jsonEnd(%q) = %d, %v: not the value's end", data, end, ok)
		}
		switch data[start] {
		case '[':
			var want []json.RawMessage
			if err := json.Unmarshal(data, &want); err != nil {
				t.Fatal(err)
			}
			got := jsonElems(data[start:end])
			if len(got) != len(want) {
				t.Fatalf("jsonElems(%q): %d elements, want %d", data, len(got), len(want))
			}
			for i := range got {
				if !bytes.Equal(got[i], want[i]) {
					t.Fatalf("jsonElems(%q)[%d] = %q, want %q", data, i, got[i], want[i])
				}
			}
		case '{':
			var h head
			var lh legacyHead
			herr, lerr := json.Unmarshal(data, &h), json.Unmarshal(data, &lh)
			if herr != nil {
				return // a header field of another type: value reports it
			}
			items := bytes.TrimSpace(h.Items.b)
			switch {
			case lerr != nil:
				if len(items) == 0 || items[0] == '[' || string(items) == "null" {
					t.Fatalf("%q: items %q, but Unmarshal fails: %v", data, items, lerr)
				}
			case lh.Items == nil:
				if len(items) != 0 && string(items) != "null" {
					t.Fatalf("%q: items %q, Unmarshal finds none", data, items)
				}
			default:
				got := jsonElems(items)
				if len(got) != len(*lh.Items) {
					t.Fatalf("%q: %d items, Unmarshal %d", data, len(got), len(*lh.Items))
				}
				for i := range got {
					if !bytes.Equal(got[i], (*lh.Items)[i]) {
						t.Fatalf("%q: item %d %q, Unmarshal %q", data, i, got[i], (*lh.Items)[i])
					}
				}
			}
		}
	})
}

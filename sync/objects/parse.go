package objects

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/meshdns/meshdns/sync/model"
	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/yaml"
)

// MaxFileSize is the largest objects file Parse reads.
const MaxFileSize = 256 << 20

// maxListDepth bounds Lists inside Lists.
const maxListDepth = 4

// Stats counts what a parse found.
type Stats struct {
	// Documents is the number of YAML documents or JSON values read.
	Documents      int
	Services       int
	EndpointSlices int
	ServiceEntries int
	// Skipped counts objects of kinds that carry no names, by
	// "apiVersion kind" ("apps/v1 Deployment").
	Skipped map[string]int
}

// SkippedTotal returns the number of objects skipped.
func (s Stats) SkippedTotal() int {
	n := 0
	for _, c := range s.Skipped {
		n += c
	}
	return n
}

// Load parses the objects file at path.
func Load(path string) (*model.Objects, Stats, error) {
	data, err := readFile(path)
	if err != nil {
		return nil, Stats{}, err
	}
	return parseData(data, path)
}

// Parse reads an objects file from r; name is used in errors. On error it
// returns nil objects: either the whole file loads or nothing does.
func Parse(r io.Reader, name string) (*model.Objects, Stats, error) {
	data, err := io.ReadAll(io.LimitReader(r, MaxFileSize+1))
	if err != nil {
		return nil, Stats{}, &ParseError{File: name, Err: err}
	}
	return parseData(data, name)
}

// parseData is Parse of the file's content, read whole (up to one byte
// more than MaxFileSize).
func parseData(data []byte, name string) (objs *model.Objects, st Stats, err error) {
	if len(data) > MaxFileSize {
		return nil, Stats{}, &ParseError{File: name, Err: fmt.Errorf("larger than %d bytes", MaxFileSize)}
	}
	defer func() {
		// The YAML library is third-party code fed arbitrary bytes: a
		// panic in it must not take the pod's DNS helper down.
		if r := recover(); r != nil {
			objs, st, err = nil, Stats{}, &ParseError{File: name, Err: fmt.Errorf("parser panic: %v", r)}
		}
	}()
	p := &parser{file: name, objs: &model.Objects{}, st: Stats{Skipped: map[string]int{}}}
	data = bytes.TrimPrefix(data, []byte("\xef\xbb\xbf"))
	if looksJSON(data) {
		err = p.jsonStream(data)
	} else {
		err = p.yamlStream(data)
	}
	if err != nil {
		return nil, Stats{}, err
	}
	return p.objs, p.st, nil
}

type parser struct {
	file string
	objs *model.Objects
	st   Stats
}

// where locates the document being parsed.
type where struct {
	doc, line int
	item      string
}

func (p *parser) errorf(w where, kind, ns, name string, err error) error {
	return &ParseError{File: p.file, Document: w.doc, Line: w.line, Item: w.item, Kind: kind, Namespace: ns, Name: name, Err: err}
}

func looksJSON(data []byte) bool {
	t := bytes.TrimLeft(data, " \t\r\n")
	return len(t) > 0 && (t[0] == '{' || t[0] == '[')
}

// lineAt returns the 1-based line of byte offset off.
func lineAt(data []byte, off int64) int {
	var c lines
	return c.at(data, off)
}

// lines finds the lines of increasing offsets of the same data, counting
// each byte once: a stream of documents asks the line of each, and
// counting from the start every time made a load quadratic (88 % of the
// parse of 60,000 documents).
type lines struct {
	off  int64 // counted up to here
	line int   // newlines before off
}

// at returns the 1-based line of byte offset off of data; an offset
// before the last one asked is counted from the start.
func (c *lines) at(data []byte, off int64) int {
	off = min(max(off, 0), int64(len(data)))
	if off < c.off {
		*c = lines{}
	}
	c.line += bytes.Count(data[c.off:off], []byte("\n"))
	c.off = off
	return 1 + c.line
}

func (p *parser) jsonStream(data []byte) error {
	d := json.NewDecoder(bytes.NewReader(data))
	var ln lines
	for n := 1; ; n++ {
		start := d.InputOffset()
		start += int64(len(data[start:]) - len(bytes.TrimLeft(data[start:], " \t\r\n")))
		var raw json.RawMessage
		err := d.Decode(&raw)
		if err == io.EOF {
			return nil
		}
		w := where{doc: n, line: ln.at(data, start)}
		if err != nil {
			var se *json.SyntaxError
			if errors.As(err, &se) {
				err = fmt.Errorf("%w (at line %d)", err, lineAt(data, se.Offset))
			}
			return p.errorf(w, "", "", "", err)
		}
		p.st.Documents++
		if err := p.value(raw, w, 0); err != nil {
			return err
		}
	}
}

// yamlDoc is one document of a YAML stream.
type yamlDoc struct {
	line int // first line, 1-based
	body []byte
}

// splitYAML splits a stream at "---" lines (and after "..." lines),
// keeping documents that hold anything besides blank lines and comments.
func splitYAML(data []byte) []yamlDoc {
	var docs []yamlDoc
	cur := yamlDoc{line: 1}
	content := false
	flush := func(next int) {
		if content {
			docs = append(docs, cur)
		}
		cur, content = yamlDoc{line: next}, false
	}
	lines := bytes.SplitAfter(data, []byte("\n"))
	for i, l := range lines {
		t := bytes.TrimRight(l, "\r\n")
		switch {
		case bytes.Equal(t, []byte("---")) || bytes.HasPrefix(t, []byte("--- ")) || bytes.HasPrefix(t, []byte("---\t")):
			flush(i + 2)
			rest := bytes.TrimSpace(t[3:])
			if len(rest) > 0 && rest[0] != '#' {
				// "--- value": the document starts on this line.
				cur.line = i + 1
				cur.body = append(cur.body, rest...)
				cur.body = append(cur.body, '\n')
				content = true
			}
		case bytes.Equal(t, []byte("...")):
			flush(i + 2)
		default:
			cur.body = append(cur.body, l...)
			if s := bytes.TrimSpace(t); len(s) > 0 && s[0] != '#' {
				if !content {
					cur.line = i + 1
				}
				content = true
			}
		}
	}
	flush(0)
	return docs
}

func (p *parser) yamlStream(data []byte) error {
	for n, doc := range splitYAML(data) {
		w := where{doc: n + 1, line: doc.line}
		js, err := yaml.YAMLToJSONStrict(doc.body)
		if err != nil {
			return p.errorf(w, "", "", "", err)
		}
		if bytes.Equal(bytes.TrimSpace(js), []byte("null")) {
			continue
		}
		p.st.Documents++
		if err := p.value(js, w, 0); err != nil {
			return err
		}
	}
	return nil
}

// head is what every object starts with.
type head struct {
	APIVersion string `json:"apiVersion"`
	Kind       string `json:"kind"`
	Metadata   struct {
		Name      string `json:"name"`
		Namespace string `json:"namespace"`
	} `json:"metadata"`
	Items *[]json.RawMessage `json:"items"`
}

// value handles one JSON value: an object, a List of them, or a bare
// array of them.
func (p *parser) value(raw json.RawMessage, w where, depth int) error {
	t := bytes.TrimLeft(raw, " \t\r\n")
	if len(t) > 0 && t[0] == '[' {
		var items []json.RawMessage
		if err := json.Unmarshal(raw, &items); err != nil {
			return p.errorf(w, "", "", "", err)
		}
		return p.items(items, "", "", w, depth)
	}
	if len(t) == 0 || t[0] != '{' {
		return p.errorf(w, "", "", "", errors.New("not an object"))
	}
	var h head
	if err := json.Unmarshal(raw, &h); err != nil {
		return p.errorf(w, "", "", "", fmt.Errorf("object header: %w", err))
	}
	if h.Kind == "" {
		return p.errorf(w, "", h.Metadata.Namespace, h.Metadata.Name, errors.New("no kind"))
	}
	if h.Items != nil && strings.HasSuffix(h.Kind, "List") {
		return p.items(*h.Items, h.APIVersion, strings.TrimSuffix(h.Kind, "List"), w, depth)
	}
	return p.object(raw, &h, w)
}

// items handles the items of a List. Items of a typed list (ServiceList)
// may leave out apiVersion and kind: they are the list's.
func (p *parser) items(items []json.RawMessage, apiVersion, kind string, w where, depth int) error {
	if depth >= maxListDepth {
		return p.errorf(w, "", "", "", fmt.Errorf("Lists nested deeper than %d", maxListDepth))
	}
	base := w.item
	for i, it := range items {
		iw := w
		iw.item = fmt.Sprintf("%sitems[%d]", base, i)
		if base != "" {
			iw.item = fmt.Sprintf("%s.items[%d]", base, i)
		}
		if kind != "" {
			fixed, err := defaultTypeMeta(it, apiVersion, kind)
			if err != nil {
				return p.errorf(iw, "", "", "", err)
			}
			it = fixed
		}
		if err := p.value(it, iw, depth+1); err != nil {
			return err
		}
	}
	return nil
}

// defaultTypeMeta sets apiVersion and kind on an item that lacks them.
func defaultTypeMeta(item json.RawMessage, apiVersion, kind string) (json.RawMessage, error) {
	var m map[string]json.RawMessage
	if err := json.Unmarshal(item, &m); err != nil {
		return nil, fmt.Errorf("not an object: %w", err)
	}
	changed := false
	if _, ok := m["kind"]; !ok {
		m["kind"], _ = json.Marshal(kind)
		changed = true
	}
	if _, ok := m["apiVersion"]; !ok && apiVersion != "" {
		m["apiVersion"], _ = json.Marshal(apiVersion)
		changed = true
	}
	if !changed {
		return item, nil
	}
	return json.Marshal(m)
}

// object decodes one object of a kind that carries names, or counts it
// as skipped.
func (p *parser) object(raw json.RawMessage, h *head, w where) error {
	fail := func(err error) error {
		return p.errorf(w, h.Kind, h.Metadata.Namespace, h.Metadata.Name, err)
	}
	group, _, _ := strings.Cut(h.APIVersion, "/")
	if !strings.Contains(h.APIVersion, "/") {
		group = ""
	}
	known := true
	switch {
	case h.Kind == "Service" && h.APIVersion == "v1",
		h.Kind == "EndpointSlice" && group == "discovery.k8s.io" && (h.APIVersion == "discovery.k8s.io/v1" || h.APIVersion == "discovery.k8s.io/v1beta1"),
		model.IsServiceEntryGVK(h.APIVersion, h.Kind):
	default:
		known = false
	}
	if !known {
		p.st.Skipped[strings.TrimSpace(h.APIVersion+" "+h.Kind)]++
		return nil
	}
	if h.Metadata.Name == "" {
		return fail(errors.New("metadata.name: missing"))
	}
	// Objects without a namespace are in "default", as kubectl would
	// create them with the default context.
	ns := h.Metadata.Namespace
	if ns == "" {
		ns = "default"
	}
	switch h.Kind {
	case "Service":
		svc := &corev1.Service{}
		if err := json.Unmarshal(raw, svc); err != nil {
			return fail(err)
		}
		svc.Namespace = ns
		p.objs.Services = append(p.objs.Services, svc)
		p.st.Services++
	case "EndpointSlice":
		es := &discoveryv1.EndpointSlice{}
		if err := json.Unmarshal(raw, es); err != nil {
			return fail(err)
		}
		es.Namespace = ns
		p.objs.EndpointSlices = append(p.objs.EndpointSlices, es)
		p.st.EndpointSlices++
	default:
		u := &unstructured.Unstructured{}
		if err := u.UnmarshalJSON(raw); err != nil {
			return fail(err)
		}
		se, err := model.ServiceEntryFromUnstructured(u)
		if err != nil {
			return fail(err)
		}
		se.Namespace = ns
		p.objs.ServiceEntries = append(p.objs.ServiceEntries, se)
		p.st.ServiceEntries++
	}
	return nil
}

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
	data, _, err := readFile(path)
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
func parseData(data []byte, name string) (*model.Objects, Stats, error) {
	return parse(data, name, false)
}

// parse is parseData, reading every document whole when whole is set.
func parse(data []byte, name string, whole bool) (*model.Objects, Stats, error) {
	p := &parser{file: name, objs: &model.Objects{}, st: Stats{Skipped: map[string]int{}}, whole: whole}
	return p.run(data)
}

// run parses data, the whole file.
func (p *parser) run(data []byte) (objs *model.Objects, st Stats, err error) {
	if len(data) > MaxFileSize {
		return nil, Stats{}, &ParseError{File: p.file, Err: fmt.Errorf("larger than %d bytes", MaxFileSize)}
	}
	defer func() {
		// The YAML library is third-party code fed arbitrary bytes: a
		// panic in it must not take the pod's DNS helper down.
		if r := recover(); r != nil {
			objs, st, err = nil, Stats{}, &ParseError{File: p.file, Err: fmt.Errorf("parser panic: %v", r)}
		}
	}()
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
	// whole: read every document whole, a List's items too, and JSON
	// with the decoder (the tests' reference for the in-place reading).
	whole bool
	// listsWhole counts the YAML Lists begun an item at a time and read
	// whole after all (an item that does not convert alone).
	listsWhole int
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

// jsonStream reads a stream of JSON values: each one in place (a
// subslice of data, jsonscan.go) once json.Valid accepts it, and from the
// first one that is not an object or an array, or not valid, on with the
// decoder (jsonDecode), which reports what is wrong where.
func (p *parser) jsonStream(data []byte) error {
	var ln lines
	off := 0
	for n := 1; ; n++ {
		start := jsonSpace(data, off)
		if start == len(data) {
			return nil
		}
		end, ok := jsonEnd(data, start)
		if p.whole || !ok || data[start] != '{' && data[start] != '[' || !json.Valid(data[start:end]) {
			return p.jsonDecode(data, off, n, &ln)
		}
		p.st.Documents++
		if err := p.value(data[start:end], where{doc: n, line: ln.at(data, int64(start))}, 0); err != nil {
			return err
		}
		off = end
	}
}

// jsonDecode reads the stream of JSON values of data from offset off on
// with a decoder; n is the number of the first.
func (p *parser) jsonDecode(data []byte, off, n int, ln *lines) error {
	d := json.NewDecoder(bytes.NewReader(data[off:]))
	for ; ; n++ {
		start := int64(off) + d.InputOffset()
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
				err = fmt.Errorf("%w (at line %d)", err, ln.at(data, int64(off)+se.Offset))
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
// Their bodies are data's own bytes, not copies.
func splitYAML(data []byte) []yamlDoc {
	var docs []yamlDoc
	cur := yamlDoc{line: 1}
	start, content := 0, false
	flush := func(end, nextLine, nextStart int) {
		if content {
			cur.body = data[start:end]
			docs = append(docs, cur)
		}
		cur, content, start = yamlDoc{line: nextLine}, false, nextStart
	}
	off := 0
	for i := 1; off < len(data); i++ {
		next := len(data)
		if e := bytes.IndexByte(data[off:], '\n'); e >= 0 {
			next = off + e + 1
		}
		l := data[off:next]
		t := bytes.TrimRight(l, "\r\n")
		switch {
		case bytes.Equal(t, []byte("---")) || bytes.HasPrefix(t, []byte("--- ")) || bytes.HasPrefix(t, []byte("---\t")):
			flush(off, i+1, next)
			if rest := bytes.TrimSpace(t[3:]); len(rest) > 0 && rest[0] != '#' {
				// "--- value": the document starts on this line.
				cur.line, start, content = i, off+bytes.Index(l, rest), true
			}
		case bytes.Equal(t, []byte("...")):
			flush(off, i+1, next)
		default:
			if s := bytes.TrimSpace(t); len(s) > 0 && s[0] != '#' {
				if !content {
					cur.line = i
				}
				content = true
			}
		}
		off = next
	}
	flush(len(data), 0, 0)
	return docs
}

func (p *parser) yamlStream(data []byte) error {
	for n, doc := range splitYAML(data) {
		w := where{doc: n + 1, line: doc.line}
		if done, err := p.yamlList(doc.body, w); done {
			if err != nil {
				return err
			}
			continue
		}
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
	// Items is the JSON of the items, in place (rawRef): a List's
	// items are read one by one where they are.
	Items rawRef `json:"items"`
}

// legacyHead is head with its items decoded: its errors are the ones an
// items field that is not an array gets.
type legacyHead struct {
	Items *[]json.RawMessage `json:"items"`
}

// value handles one JSON value: an object, a List of them, or a bare
// array of them. raw is valid JSON (json.Valid's, a decoder's, or a part
// of either).
func (p *parser) value(raw json.RawMessage, w where, depth int) error {
	t := bytes.TrimLeft(raw, " \t\r\n")
	if len(t) > 0 && t[0] == '[' {
		return p.items(jsonElems(t), "", "", w, depth)
	}
	if len(t) == 0 || t[0] != '{' {
		return p.errorf(w, "", "", "", errors.New("not an object"))
	}
	var h head
	if err := json.Unmarshal(raw, &h); err != nil {
		return p.errorf(w, "", "", "", fmt.Errorf("object header: %w", err))
	}
	items := bytes.TrimLeft(h.Items.b, " \t\r\n")
	list := len(items) > 0 && string(items) != "null"
	if list && items[0] != '[' {
		// Not an array: the error decoding it gets, as before the kind.
		var lh legacyHead
		if err := json.Unmarshal(raw, &lh); err != nil {
			return p.errorf(w, "", "", "", fmt.Errorf("object header: %w", err))
		}
	}
	if h.Kind == "" {
		return p.errorf(w, "", h.Metadata.Namespace, h.Metadata.Name, errors.New("no kind"))
	}
	if list && items[0] == '[' && strings.HasSuffix(h.Kind, "List") {
		return p.items(jsonElems(items), h.APIVersion, strings.TrimSuffix(h.Kind, "List"), w, depth)
	}
	return p.object(raw, &h, w)
}

// items handles the items of a List. Items of a typed list (ServiceList)
// may leave out apiVersion and kind: they are the list's.
func (p *parser) items(items [][]byte, apiVersion, kind string, w where, depth int) error {
	if depth >= maxListDepth {
		return p.errorf(w, "", "", "", fmt.Errorf("Lists nested deeper than %d", maxListDepth))
	}
	for i, it := range items {
		if err := p.item(i, it, apiVersion, kind, w, depth); err != nil {
			return err
		}
	}
	return nil
}

// item handles item i of a List (whose items are at depth+1).
func (p *parser) item(i int, it []byte, apiVersion, kind string, w where, depth int) error {
	iw := w
	iw.item = fmt.Sprintf("%sitems[%d]", w.item, i)
	if w.item != "" {
		iw.item = fmt.Sprintf("%s.items[%d]", w.item, i)
	}
	if kind != "" {
		fixed, err := defaultTypeMeta(it, apiVersion, kind)
		if err != nil {
			return p.errorf(iw, "", "", "", err)
		}
		it = fixed
	}
	return p.value(it, iw, depth+1)
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
		// Only what the model reads is kept (as the API server source
		// keeps it): a file exported with kubectl holds owners, labels,
		// annotations, conditions, nodes and Pod references, and all of
		// them held at once made the load's peak.
		p.objs.Services = append(p.objs.Services, model.ShrinkService(svc))
		p.st.Services++
	case "EndpointSlice":
		es := &discoveryv1.EndpointSlice{}
		if err := json.Unmarshal(raw, es); err != nil {
			return fail(err)
		}
		es.Namespace = ns
		p.objs.EndpointSlices = append(p.objs.EndpointSlices, model.ShrinkEndpointSlice(es))
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

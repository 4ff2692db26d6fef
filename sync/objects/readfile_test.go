package objects

import (
	"bytes"
	"crypto/sha256"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestReadFile(t *testing.T) {
	dir := t.TempDir()
	content := strings.Repeat("---\n"+svcYAML("aa"), 1000) // about 100 KB
	small := filepath.Join(dir, "small.yaml")
	if err := os.WriteFile(small, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	data, sum, err := readFile(small)
	if err != nil || string(data) != content {
		t.Fatalf("readFile = %q, %v; want the file's content", data, err)
	}
	if sum != sha256.Sum256([]byte(content)) {
		t.Errorf("readFile's hash %x, want the content's", sum)
	}
	// Sized once: the content and one read's room, rounded up to the
	// allocator's 8 KiB pages; a buffer grown while reading doubles.
	if c := cap(data); c > len(content)+512+8192 {
		t.Errorf("buffer of %d bytes for %d: grown while reading", c, len(content))
	}
	if h, err := hashFile(small); err != nil || h != sha256.Sum256([]byte(content)) {
		t.Errorf("hashFile = %x, %v; want the content's SHA-256", h, err)
	}

	// Larger than MaxFileSize (a sparse file): refused without being read.
	big := filepath.Join(dir, "big.yaml")
	f, err := os.Create(big)
	if err != nil {
		t.Fatal(err)
	}
	if err := f.Truncate(MaxFileSize + 1); err != nil {
		t.Fatal(err)
	}
	f.Close()
	if data, _, err := readFile(big); err == nil || !strings.Contains(err.Error(), "larger than") || data != nil {
		t.Errorf("readFile of %d bytes: %d bytes, %v; want refused", MaxFileSize+1, len(data), err)
	}
	if _, _, err := Load(big); err == nil || !strings.Contains(err.Error(), "larger than") {
		t.Errorf("Load of %d bytes: %v; want refused", MaxFileSize+1, err)
	}

	if _, _, err := readFile(filepath.Join(dir, "missing")); !os.IsNotExist(err) {
		t.Errorf("missing file: %v", err)
	}
	if _, err := hashFile(filepath.Join(dir, "missing")); !os.IsNotExist(err) {
		t.Errorf("hashFile of a missing file: %v", err)
	}
}

// TestJSONSqueezer: blanks after what ends a token anyway go, a run after
// a literal or a number keeps its first, strings and newlines stay; given
// in pieces it keeps the same.
func TestJSONSqueezer(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{`{ "a" : [ 1 , 2 ] }`, `{"a":[1 ,2 ]}`},
		{"{\n    \"a\": 1,\n    \"b\": {}\n}\n", "{\n\"a\":1,\n\"b\":{}\n}\n"},
		{"{\r\n  \"a\": true\r\n}", "{\n\"a\":true\r\n}"},
		{`"a  b"  ,  "c\"  d"`, `"a  b","c\"  d"`},
		{`"a\\"  :  1`, `"a\\":1`},
		{"1  \t 2", "1 2"},
		{"1\t 2", "1\t2"},
		{"tru  e", "tru e"},
		{"  [ null ,\ttrue ]  ", "[null ,true ]"},
		{"[t  ", "[t "},    // a literal cut short: the error is about the blank after it
		{"[t \"", "[t \""}, // the same
		{"{}  ", "{}"},
		{"\xef\xbb\xbf  {}", "\xef\xbb\xbf {}"},
	} {
		var z jsonSqueezer
		if got := string(z.squeeze(nil, []byte(tc.in))); got != tc.want {
			t.Errorf("squeeze(%q) = %q, want %q", tc.in, got, tc.want)
		}
		var zp jsonSqueezer
		var got []byte
		for i := range len(tc.in) {
			got = zp.squeeze(got, []byte(tc.in[i:i+1]))
		}
		if string(got) != tc.want {
			t.Errorf("squeeze(%q) a byte at a time = %q, want %q", tc.in, got, tc.want)
		}
	}
}

// TestReadFileJSON: a JSON file indented as kubectl -o json writes it is
// read without its indentation, into a buffer of just that size, hashed as
// it is in the file, and parses to what the file as it is parses to.
func TestReadFileJSON(t *testing.T) {
	var b strings.Builder
	b.WriteString("{\n    \"apiVersion\": \"v1\",\n    \"items\": [\n")
	for i := range 200 {
		if i > 0 {
			b.WriteString(",\n")
		}
		fmt.Fprintf(&b, "        {\n            \"apiVersion\": \"v1\",\n            \"kind\": \"Service\",\n            \"metadata\": {\n                \"name\": \"s%d\",\n                \"namespace\": \"ns\"\n            },\n            \"spec\": {\n                \"clusterIP\": \"10.96.0.%d\"\n            }\n        }", i, i%250+1)
	}
	b.WriteString("\n    ],\n    \"kind\": \"List\"\n}\n")
	raw := []byte(b.String())
	path := filepath.Join(t.TempDir(), "list.json")
	if err := os.WriteFile(path, raw, 0o644); err != nil {
		t.Fatal(err)
	}
	data, sum, err := readFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if sum != sha256.Sum256(raw) {
		t.Errorf("hash %x, want the file's", sum)
	}
	if len(data) > len(raw)/2 || bytes.Count(data, []byte("\n")) != bytes.Count(raw, []byte("\n")) {
		t.Errorf("read %d of %d bytes, %d of %d newlines: want the indentation gone, the lines kept", len(data), len(raw), bytes.Count(data, []byte("\n")), bytes.Count(raw, []byte("\n")))
	}
	if c := cap(data); c > len(data)+512+8192 {
		t.Errorf("buffer of %d bytes for %d", c, len(data))
	}
	objs, st, err := parseData(data, "list.json")
	wobjs, wst, werr := parseData(raw, "list.json")
	if err != nil || werr != nil || st.Services != 200 {
		t.Fatalf("%v, %v, %+v", err, werr, st)
	}
	if d := cmp.Diff(wst, st); d != "" {
		t.Errorf("stats (-as in the file +read):\n%s", d)
	}
	if d := cmp.Diff(wobjs, objs); d != "" {
		t.Errorf("objects (-as in the file +read):\n%s", d)
	}
}

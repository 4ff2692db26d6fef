package cniplugin

import (
	"encoding/json"
	"os"
	"path/filepath"
	"testing"

	"github.com/meshdns/meshdns/node/podevent"
)

func pluginTypes(t *testing.T, b []byte) []string {
	t.Helper()
	var l struct {
		Name    string `json:"name"`
		Plugins []struct {
			Type string `json:"type"`
		} `json:"plugins"`
	}
	if err := json.Unmarshal(b, &l); err != nil {
		t.Fatal(err)
	}
	if l.Name != "k8s-pod-network" {
		t.Fatalf("name lost: %s", b)
	}
	var out []string
	for _, p := range l.Plugins {
		out = append(out, p.Type)
	}
	return out
}

func TestChainUnchain(t *testing.T) {
	orig, err := os.ReadFile("testdata/10-bridge.conflist")
	if err != nil {
		t.Fatal(err)
	}
	entry := func() map[string]any { return map[string]any{"nameservers": []string{"10.96.0.10"}} }
	b, err := Chain(orig, entry())
	if err != nil {
		t.Fatal(err)
	}
	// Twice: still one entry, last in the chain.
	if b, err = Chain(b, entry()); err != nil {
		t.Fatal(err)
	}
	if got := pluginTypes(t, b); len(got) != 3 || got[0] != "bridge" || got[1] != "portmap" || got[2] != podevent.PluginType {
		t.Fatalf("chained plugins = %q", got)
	}
	if _, err := Parse(mustEntry(t, b)); err != nil {
		t.Fatalf("the chained entry does not parse as meshdns-cni's config: %v", err)
	}
	out, changed, err := Unchain(b)
	if err != nil || !changed {
		t.Fatal(changed, err)
	}
	if got := pluginTypes(t, out); len(got) != 2 || got[1] != "portmap" {
		t.Fatalf("unchained plugins = %q", got)
	}
	if _, changed, _ := Unchain(out); changed {
		t.Fatal("unchain of a list without meshdns-cni changed it")
	}
	for _, bad := range []string{"", "{", `{"plugins":[]}`, `{"plugins":"x"}`} {
		if _, err := Chain([]byte(bad), entry()); err == nil {
			t.Errorf("Chain(%q) accepted", bad)
		}
	}
}

// mustEntry returns meshdns-cni's entry of conflist b with the list's
// cniVersion and name, as libcni hands it to the plugin.
func mustEntry(t *testing.T, b []byte) []byte {
	var l struct {
		CNIVersion string           `json:"cniVersion"`
		Name       string           `json:"name"`
		Plugins    []map[string]any `json:"plugins"`
	}
	if err := json.Unmarshal(b, &l); err != nil {
		t.Fatal(err)
	}
	e := l.Plugins[len(l.Plugins)-1]
	e["cniVersion"], e["name"] = l.CNIVersion, l.Name
	out, _ := json.Marshal(e)
	return out
}

func TestConflistAndWrite(t *testing.T) {
	dir := t.TempDir()
	if _, err := Conflist(dir); err == nil {
		t.Fatal("empty dir: want an error")
	}
	for _, n := range []string{"20-b.conflist", "10-a.conflist", "05-x.conf"} {
		os.WriteFile(filepath.Join(dir, n), []byte("{}"), 0o644)
	}
	p, err := Conflist(dir)
	if err != nil || filepath.Base(p) != "10-a.conflist" {
		t.Fatalf("Conflist = %s %v", p, err)
	}
	if err := WriteAtomic(p, []byte("new"), 0o644); err != nil {
		t.Fatal(err)
	}
	if b, _ := os.ReadFile(p); string(b) != "new" {
		t.Fatalf("content %q", b)
	}
	ents, _ := os.ReadDir(dir)
	if len(ents) != 3 {
		t.Fatalf("temporary files left: %v", ents)
	}
}

func FuzzChain(f *testing.F) {
	b, _ := os.ReadFile("testdata/10-bridge.conflist")
	f.Add(b)
	f.Add([]byte(`{"plugins":[{"type":"meshdns-cni"}]}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		out, err := Chain(b, map[string]any{})
		if err != nil {
			return
		}
		back, _, err := Unchain(out)
		if err != nil {
			t.Fatalf("Unchain of Chain's output: %v", err)
		}
		if _, changed, _ := Unchain(back); changed {
			t.Fatal("meshdns-cni still chained after Unchain")
		}
	})
}

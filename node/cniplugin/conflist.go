package cniplugin

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/meshdns/meshdns/node/podevent"
)

// Conflist returns the conflist the runtime uses in dir: the first file
// (by name) ending in .conflist, as libcni and containerd pick it.
func Conflist(dir string) (string, error) {
	ents, err := os.ReadDir(dir)
	if err != nil {
		return "", err
	}
	var names []string
	for _, e := range ents {
		if !e.IsDir() && strings.HasSuffix(e.Name(), ".conflist") {
			names = append(names, e.Name())
		}
	}
	if len(names) == 0 {
		return "", fmt.Errorf("no .conflist in %s (is the main CNI plugin installed?)", dir)
	}
	slices.Sort(names)
	return filepath.Join(dir, names[0]), nil
}

// Chain appends entry (meshdns-cni's configuration, with "type"
// "meshdns-cni") to the plugins of the conflist text b, replacing an entry
// of that type already there; everything else is kept as it was.
func Chain(b []byte, entry map[string]any) ([]byte, error) {
	list, plugins, err := decodeList(b)
	if err != nil {
		return nil, err
	}
	entry["type"] = podevent.PluginType
	plugins = slices.DeleteFunc(plugins, isOurs)
	raw, err := json.Marshal(entry)
	if err != nil {
		return nil, err
	}
	list["plugins"], err = json.Marshal(append(plugins, raw))
	if err != nil {
		return nil, err
	}
	return encodeList(list)
}

// Unchain removes meshdns-cni's entries from the conflist text b.
func Unchain(b []byte) ([]byte, bool, error) {
	list, plugins, err := decodeList(b)
	if err != nil {
		return nil, false, err
	}
	n := len(plugins)
	plugins = slices.DeleteFunc(plugins, isOurs)
	if len(plugins) == n {
		return b, false, nil
	}
	if list["plugins"], err = json.Marshal(plugins); err != nil {
		return nil, false, err
	}
	out, err := encodeList(list)
	return out, true, err
}

func isOurs(p json.RawMessage) bool {
	var t struct {
		Type string `json:"type"`
	}
	return json.Unmarshal(p, &t) == nil && t.Type == podevent.PluginType
}

func decodeList(b []byte) (map[string]json.RawMessage, []json.RawMessage, error) {
	var list map[string]json.RawMessage
	if err := json.Unmarshal(b, &list); err != nil {
		return nil, nil, fmt.Errorf("conflist: %w", err)
	}
	var plugins []json.RawMessage
	if err := json.Unmarshal(list["plugins"], &plugins); err != nil || len(plugins) == 0 {
		return nil, nil, errors.New("conflist: no plugins list")
	}
	return list, plugins, nil
}

func encodeList(list map[string]json.RawMessage) ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetIndent("", "  ")
	if err := enc.Encode(list); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// WriteAtomic replaces path with b (a temporary file renamed over it), so
// the runtime never reads half a file.
func WriteAtomic(path string, b []byte, mode os.FileMode) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), ".meshdns-*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.Write(b); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Chmod(mode); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), path)
}

package pods

import (
	"encoding/json"
	"errors"
	"io"
	"os"
	"path/filepath"

	"github.com/meshdns/meshdns/node/podevent"
)

// maxCacheFile bounds one cache entry read.
const maxCacheFile = 1 << 20

// cached is the part of a libcni result cache entry
// (<dir>/results/<network>-<container>-<ifname>) recovery reads.
type cached struct {
	Kind        string      `json:"kind"`
	ContainerID string      `json:"containerId"`
	Config      []byte      `json:"config"`
	NetNS       string      `json:"netns"`
	CniArgs     [][2]string `json:"cniArgs"`
}

// Recover lists the pod sandboxes whose network the runtime set up with a
// conflist chaining meshdns-cni, from the runtime's CNI result cache (dir is
// libcni's cache directory, /var/lib/cni by default) — what the runtime
// itself reads to run DEL. Sandboxes whose namespace is gone are left out.
// Unreadable entries are skipped and counted.
func Recover(dir string) (events []podevent.Event, skipped int, err error) {
	ents, err := os.ReadDir(filepath.Join(dir, "results"))
	if errors.Is(err, os.ErrNotExist) {
		return nil, 0, nil
	}
	if err != nil {
		return nil, 0, err
	}
	for _, de := range ents {
		if !de.Type().IsRegular() {
			continue
		}
		e, ok := readCached(filepath.Join(dir, "results", de.Name()))
		switch {
		case !ok:
			skipped++
		case e != nil:
			events = append(events, *e)
		}
	}
	return events, skipped, nil
}

// readCached returns the add event of one entry: nil, true when the entry
// is fine but not meshdns's or its namespace is gone.
func readCached(path string) (*podevent.Event, bool) {
	f, err := os.Open(path)
	if err != nil {
		return nil, false
	}
	defer f.Close()
	var c cached
	if err := json.NewDecoder(io.LimitReader(f, maxCacheFile)).Decode(&c); err != nil || c.ContainerID == "" {
		return nil, false
	}
	var conf struct {
		Type    string `json:"type"`
		Plugins []struct {
			Type string `json:"type"`
		} `json:"plugins"`
	}
	if err := json.Unmarshal(c.Config, &conf); err != nil {
		return nil, false
	}
	ours := conf.Type == podevent.PluginType
	for _, p := range conf.Plugins {
		ours = ours || p.Type == podevent.PluginType
	}
	if !ours || c.NetNS == "" {
		return nil, true
	}
	if _, err := os.Stat(c.NetNS); err != nil {
		return nil, true
	}
	e := podevent.Event{Op: podevent.OpAdd, ContainerID: c.ContainerID, NetNS: c.NetNS}
	for _, kv := range c.CniArgs {
		switch kv[0] {
		case "K8S_POD_NAMESPACE":
			e.Namespace = kv[1]
		case "K8S_POD_NAME":
			e.Name = kv[1]
		case "K8S_POD_UID":
			e.UID = kv[1]
		}
	}
	if e.Check() != nil {
		return nil, true
	}
	return &e, true
}

package observe

import (
	"encoding/json"
	"net"
	"net/http"
	"net/netip"
	"sort"
	"strings"
)

// NamesDump is the JSON document /debug/names serves: every name of the
// current table, its records and the objects they came from.
type NamesDump struct {
	Loaded bool       `json:"loaded"`
	Serial uint32     `json:"serial,omitempty"`
	Names  []NameInfo `json:"names"`
}

// NameInfo is one owner name of the table.
type NameInfo struct {
	Name    string       `json:"name"`
	Records []RecordInfo `json:"records"`
}

// RecordInfo is one record of a name.
type RecordInfo struct {
	Type   string `json:"type"`
	Data   string `json:"data"`
	Source string `json:"source,omitempty"`
}

// Names returns the current table as a NamesDump, sorted by name.
func (o *Observer) Names() NamesDump {
	tab := o.table()
	d := NamesDump{Names: []NameInfo{}}
	if tab == nil {
		return d
	}
	d.Loaded, d.Serial = true, tab.Serial()
	idx := map[string]int{}
	for _, r := range tab.Records() {
		i, ok := idx[r.Name]
		if !ok {
			i = len(d.Names)
			idx[r.Name] = i
			d.Names = append(d.Names, NameInfo{Name: r.Name})
		}
		d.Names[i].Records = append(d.Names[i].Records, RecordInfo{Type: r.Type, Data: r.Data, Source: r.Source})
	}
	sort.SliceStable(d.Names, func(i, j int) bool { return d.Names[i].Name < d.Names[j].Name })
	return d
}

func (o *Observer) serveNames(w http.ResponseWriter, r *http.Request) {
	if !o.cfg.DebugFromAnywhere && !fromLoopback(r) {
		http.Error(w, "/debug/names is served to loopback clients only", http.StatusForbidden)
		return
	}
	d := o.Names()
	if q := strings.ToLower(r.URL.Query().Get("q")); q != "" {
		kept := d.Names[:0]
		for _, n := range d.Names {
			if strings.Contains(strings.ToLower(n.Name), q) {
				kept = append(kept, n)
			}
		}
		d.Names = kept
	}
	w.Header().Set("Content-Type", "application/json")
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	_ = enc.Encode(d)
}

// fromLoopback reports whether the request came from a loopback address.
func fromLoopback(r *http.Request) bool {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return false
	}
	ip, err := netip.ParseAddr(host)
	return err == nil && ip.Unmap().IsLoopback()
}

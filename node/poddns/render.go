package poddns

import (
	"io"
	"strings"
)

// Render writes d as the container runtime writes a pod's resolv.conf
// (containerd and CRI-O: search, nameserver and options lines, each only
// when it has entries).
func (d DNS) Render() string {
	var b strings.Builder
	if len(d.Searches) > 0 {
		b.WriteString("search " + strings.Join(d.Searches, " ") + "\n")
	}
	for _, ns := range d.Nameservers {
		b.WriteString("nameserver " + ns + "\n")
	}
	if len(d.Options) > 0 {
		b.WriteString("options " + strings.Join(d.Options, " ") + "\n")
	}
	return b.String()
}

func stringsReader(s string) io.Reader { return strings.NewReader(s) }

package harness

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"

	"github.com/meshdns/meshdns/bench/internal/names"
	"github.com/meshdns/meshdns/internal/loadgen"
)

// inputs are the generated files and workload lists.
type inputs struct {
	objects, meshHosts, allHosts, allZone string
	dnsperf                               map[string]string // workload -> dnsperf data file
	queries                               map[string][]loadgen.Question
	ndots                                 []string
	probe                                 string
}

// writeInputs generates the name set's files in dir.
func writeInputs(dir string, set *names.Set, mix names.Mix, ndotsNames int) (*inputs, error) {
	in := &inputs{dnsperf: map[string]string{}, queries: map[string][]loadgen.Question{}}
	write := func(name string, fill func(*bytes.Buffer) error) (string, error) {
		var b bytes.Buffer
		if err := fill(&b); err != nil {
			return "", err
		}
		p := filepath.Join(dir, name)
		return p, os.WriteFile(p, b.Bytes(), 0o644)
	}
	var err error
	if in.objects, err = write("objects.yaml", func(b *bytes.Buffer) error { return set.WriteObjects(b) }); err != nil {
		return nil, err
	}
	if in.meshHosts, err = write("hosts.mesh", func(b *bytes.Buffer) error { return set.WriteHosts(b, names.HostsOptions{Mesh: true}) }); err != nil {
		return nil, err
	}
	all := names.HostsOptions{Mesh: true, External: true}
	if in.allHosts, err = write("hosts.all", func(b *bytes.Buffer) error { return set.WriteHosts(b, all) }); err != nil {
		return nil, err
	}
	if in.allZone, err = write("root.zone", func(b *bytes.Buffer) error { return set.WriteZone(b, all) }); err != nil {
		return nil, err
	}
	for w, qs := range map[string][]names.Query{WorkloadMesh: set.MeshQueries(), WorkloadExternal: set.ExternalQueries()} {
		if in.dnsperf[w], err = write("dnsperf."+w, func(b *bytes.Buffer) error { return names.WriteDNSPerf(b, qs) }); err != nil {
			return nil, err
		}
		for _, q := range qs {
			in.queries[w] = append(in.queries[w], loadgen.Question{Name: q.Name, Type: q.Type})
		}
	}
	if in.ndots, err = set.NdotsLookups(mix, ndotsNames); err != nil {
		return nil, err
	}
	in.probe = set.MeshQueries()[0].Name
	return in, nil
}

// writeSpec writes a load spec for the generator process.
func writeSpec(dir string, n int, s loadgen.Spec) (string, error) {
	b, err := json.Marshal(s)
	if err != nil {
		return "", err
	}
	p := filepath.Join(dir, fmt.Sprintf("spec-%04d.json", n))
	return p, os.WriteFile(p, b, 0o644)
}

package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"

	"github.com/meshdns/meshdns/resolvconf"
)

// manifestsDir holds the deployment manifests, from this package's directory.
const manifestsDir = "../../manifests"

// manifestPod stands in for the pod a manifest's flags meet at start-up.
var manifestPod = podContext{
	resolv:    resolvconf.Config{Nameservers: []netip.Addr{netip.MustParseAddr("10.96.0.10")}},
	namespace: "default",
}

// parsedArgs is a meshdns container's command line, parsed and checked by
// the flag set of its command.
type parsedArgs struct {
	command string      // "run", "rules install" or "node"
	run     *runFlags   // command "run"
	rules   *rulesFlags // command "rules install"
	node    *nodeFlags  // command "node"
}

// parseMeshdnsArgs parses a meshdns command line (the container's args;
// the image's entrypoint is meshdns) with the flag set the command uses,
// and runs the checks the command makes before it touches the system.
func parseMeshdnsArgs(args []string) (parsedArgs, error) {
	var out bytes.Buffer
	discard := slog.New(slog.NewTextHandler(io.Discard, nil))
	fail := func(err error) (parsedArgs, error) {
		if s := strings.TrimSpace(out.String()); s != "" {
			err = fmt.Errorf("%w (%s)", err, strings.SplitN(s, "\n", 2)[0])
		}
		return parsedArgs{}, err
	}
	switch {
	case len(args) >= 1 && args[0] == "run":
		fs, f := newRunFlags(&out)
		if err := parseArgs(fs, args[1:], f.check); err != nil {
			return fail(err)
		}
		if _, _, err := f.setup(io.Discard); err != nil {
			return fail(err)
		}
		if _, err := f.rules.config(manifestPod, discard, queueCount(f.rules.queues)); err != nil {
			return fail(err)
		}
		return parsedArgs{command: "run", run: f}, nil
	case len(args) >= 2 && args[0] == "rules" && args[1] == "install":
		fs, f := newRulesFlags(args[1], &out)
		if err := parseArgs(fs, args[2:], nil); err != nil {
			return fail(err)
		}
		if _, err := f.log.logger(io.Discard); err != nil {
			return fail(err)
		}
		if _, err := f.rules.config(manifestPod, discard, queueCount(f.rules.queues)); err != nil {
			return fail(err)
		}
		return parsedArgs{command: "rules install", rules: f}, nil
	case len(args) >= 1 && args[0] == "node":
		fs, f := newNodeFlags(&out)
		if err := parseArgs(fs, args[1:], f.check); err != nil {
			return fail(err)
		}
		if _, err := f.engine.config(); err != nil {
			return fail(err)
		}
		return parsedArgs{command: "node", node: f}, nil
	}
	return parsedArgs{}, fmt.Errorf("not a meshdns command a manifest runs: %q", args)
}

// TestParseMeshdnsArgs: the parser behind TestManifestFlags rejects what
// meshdns itself would reject.
func TestParseMeshdnsArgs(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want string // "" for accepted, else a substring of the error
	}{
		{[]string{"run", "--rules=none", "--metrics-addr=:15099"}, ""},
		{[]string{"rules", "install", "--queues=1"}, ""},
		{[]string{"run", "--no-such-flag"}, "not defined"},
		{[]string{"run", "--queues=many"}, "invalid value"},
		{[]string{"run", "--rules=maybe"}, "--rules"},
		{[]string{"run", "--tcp=sometimes"}, "--tcp"},
		{[]string{"run", "--queue-impl=fast"}, "--queue-impl"},
		{[]string{"run", "--objects=a", "--kubeconfig=b"}, "exclude"},
		{[]string{"run", "--capture=some"}, "--capture"},
		{[]string{"run", "--mark=0"}, "--mark"},
		{[]string{"run", "--own-ports=15060"}, "not defined"}, // own sockets use random ports, exempted by mark
		{[]string{"run", "--cache-max-ttl=429496730"}, "--cache-max-ttl"},
		{[]string{"run", "--edns-size=100"}, "--edns-size"},
		{[]string{"run", "--log-format=xml"}, "--log-format"},
		{[]string{"run", "extra"}, "unexpected arguments"},
		{[]string{"rules", "install", "--tcp=on"}, "not defined"},
		{[]string{"rules", "install", "--rules=none"}, "not defined"},
		{[]string{"rules", "install", "--iptables-backend=ebpf"}, "--iptables-backend"},
		{[]string{"rules", "remove"}, "not a meshdns command"},
		{[]string{"serve"}, "not a meshdns command"},
	} {
		_, err := parseMeshdnsArgs(tc.args)
		switch {
		case tc.want == "" && err != nil:
			t.Errorf("%q: %v", tc.args, err)
		case tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)):
			t.Errorf("%q: error %v, want one containing %q", tc.args, err, tc.want)
		}
	}
}

// manifestPodSpec is a pod template found in a manifest file.
type manifestPodSpec struct {
	where string // file and object
	spec  corev1.PodSpec
}

// manifestPodSpecs returns every pod spec (a workload's template, or a
// Pod's spec) in the YAML files under dir, partial ones (patches) included.
func manifestPodSpecs(t *testing.T, dir string) []manifestPodSpec {
	t.Helper()
	var out []manifestPodSpec
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || !strings.HasSuffix(path, ".yaml") {
			return err
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		dec := utilyaml.NewYAMLOrJSONDecoder(bytes.NewReader(b), 4096)
		for i := 0; ; i++ {
			var obj struct {
				Kind     string `json:"kind"`
				Metadata struct {
					Name string `json:"name"`
				} `json:"metadata"`
				Spec struct {
					Template *struct {
						Spec json.RawMessage `json:"spec"`
					} `json:"template"`
				} `json:"spec"`
			}
			var raw json.RawMessage
			if err := dec.Decode(&raw); errors.Is(err, io.EOF) {
				break
			} else if err != nil {
				return fmt.Errorf("%s document %d: %w", path, i, err)
			}
			if len(raw) == 0 || string(raw) == "null" {
				continue
			}
			if err := json.Unmarshal(raw, &obj); err != nil {
				return fmt.Errorf("%s document %d: %w", path, i, err)
			}
			var spec json.RawMessage
			switch {
			case obj.Kind == "Pod":
				var p struct {
					Spec json.RawMessage `json:"spec"`
				}
				if err := json.Unmarshal(raw, &p); err != nil {
					return err
				}
				spec = p.Spec
			case obj.Spec.Template != nil:
				spec = obj.Spec.Template.Spec
			default:
				continue
			}
			ps := manifestPodSpec{where: fmt.Sprintf("%s %s/%s", strings.TrimPrefix(path, dir+"/"), obj.Kind, obj.Metadata.Name)}
			jd := json.NewDecoder(bytes.NewReader(spec))
			jd.DisallowUnknownFields()
			if err := jd.Decode(&ps.spec); err != nil {
				return fmt.Errorf("%s: pod spec: %w", ps.where, err)
			}
			out = append(out, ps)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// isMeshdns reports whether c runs the meshdns binary (either image; not
// meshdns-cni's, tested in cmd/meshdns-cni).
func isMeshdns(c corev1.Container) bool {
	img := c.Image
	if i := strings.LastIndex(img, "/"); i >= 0 {
		img = img[i+1:]
	}
	return strings.HasPrefix(img, "meshdns") && !strings.HasPrefix(img, "meshdns-cni")
}

var envRef = regexp.MustCompile(`\$\(([A-Za-z_][A-Za-z0-9_]*)\)`)

// expandArgs replaces $(VAR) references to the container's environment as
// the kubelet does, with stand-in values for fields it fills at run time.
func expandArgs(c corev1.Container) ([]string, error) {
	env := map[string]string{}
	for _, e := range c.Env {
		switch {
		case e.ValueFrom == nil:
			env[e.Name] = e.Value
		case e.ValueFrom.FieldRef != nil && e.ValueFrom.FieldRef.FieldPath == "metadata.namespace":
			env[e.Name] = manifestPod.namespace
		default:
			env[e.Name] = "stand-in"
		}
	}
	out := make([]string, len(c.Args))
	var bad []string
	for i, a := range c.Args {
		out[i] = envRef.ReplaceAllStringFunc(a, func(ref string) string {
			name := envRef.FindStringSubmatch(ref)[1]
			v, ok := env[name]
			if !ok {
				bad = append(bad, ref)
				return ref
			}
			return v
		})
	}
	if bad != nil {
		return nil, fmt.Errorf("args reference %v, not in the container's env (the kubelet would pass them literally)", bad)
	}
	return out, nil
}

// TestManifestFlags parses the args of every meshdns container in the
// manifests with the flag sets the commands use (an unknown flag or a bad
// value fails), and checks that the rules init container and the sidecar
// of each pod fit together.
func TestManifestFlags(t *testing.T) {
	specs := manifestPodSpecs(t, manifestsDir)
	pods, nodes := 0, 0
	for _, ps := range specs {
		var install, run *parsedArgs
		var sidecar corev1.Container
		all := append(append([]corev1.Container{}, ps.spec.InitContainers...), ps.spec.Containers...)
		for _, c := range all {
			if !isMeshdns(c) {
				continue
			}
			where := ps.where + " container " + c.Name
			if len(c.Command) > 0 {
				t.Errorf("%s: command %q overrides the image's meshdns entrypoint", where, c.Command)
				continue
			}
			args, err := expandArgs(c)
			if err != nil {
				t.Errorf("%s: %v", where, err)
				continue
			}
			p, err := parseMeshdnsArgs(args)
			if err != nil {
				t.Errorf("%s: meshdns %s: %v", where, strings.Join(args, " "), err)
				continue
			}
			t.Logf("%s: meshdns %s: ok", where, strings.Join(args, " "))
			switch {
			case p.command == "rules install" && install == nil:
				install = &p
			case p.command == "run" && run == nil:
				run, sidecar = &p, c
			case p.command == "node":
				nodes++
			default:
				t.Errorf("%s: a second %q container", where, p.command)
			}
		}
		if install == nil && run == nil {
			continue
		}
		pods++
		if install == nil || run == nil {
			t.Errorf("%s: want a `rules install` init container and a `run` sidecar, got install=%v run=%v", ps.where, install != nil, run != nil)
			continue
		}
		checkPair(t, ps.where, install.rules, run.run)
		checkSidecar(t, ps.where, sidecar, run.run)
	}
	// example/deployment.yaml and the sidecar component's patch.
	if pods < 2 {
		t.Fatalf("meshdns containers found in %d pod specs under %s, want at least 2", pods, manifestsDir)
	}
	// node/daemonset.yaml.
	if nodes != 1 {
		t.Fatalf("%d `meshdns node` containers under %s, want 1", nodes, manifestsDir)
	}
}

// checkPair: the init container installs the rules the sidecar consumes.
func checkPair(t *testing.T, where string, in *rulesFlags, run *runFlags) {
	t.Helper()
	if run.rules.rules != "none" {
		t.Errorf("%s: the init container installs the rules, but the sidecar runs with --rules=%s (want none)", where, run.rules.rules)
	}
	same := func(flag string, a, b any) {
		if a != b {
			t.Errorf("%s: --%s differs: %v in `rules install`, %v in `run`", where, flag, a, b)
		}
	}
	same("capture", in.rules.capture, run.rules.capture)
	same("queue-num", in.rules.queueNum, run.rules.queueNum)
	same("queues", in.rules.queues, run.rules.queues)
	// The mark also exempts the replies to the sidecar's own queries
	// (random ports), so both must agree on it.
	same("mark", in.rules.mark, run.rules.mark)
	same("capture-responses (run: --cache-size > 0)", in.rules.responses, run.engine.cacheSize > 0)
	if in.rules.queues == 0 {
		t.Errorf("%s: --queues 0 means one per CPU, which can differ between the containers: pin it", where)
	}
}

// checkSidecar: what the sidecar writes is writable, and the probes reach
// the metrics listener.
func checkSidecar(t *testing.T, where string, c corev1.Container, run *runFlags) {
	t.Helper()
	where += " container " + c.Name
	roRoot := c.SecurityContext != nil && c.SecurityContext.ReadOnlyRootFilesystem != nil && *c.SecurityContext.ReadOnlyRootFilesystem
	if run.tcp.mode == "on" && roRoot {
		dir := filepath.Dir(run.tcp.keyFile)
		ok := false
		for _, m := range c.VolumeMounts {
			if !m.ReadOnly && (dir == m.MountPath || strings.HasPrefix(dir, strings.TrimSuffix(m.MountPath, "/")+"/")) {
				ok = true
			}
		}
		if !ok {
			t.Errorf("%s: --tcp-key-file %s is on the read-only root filesystem: mount a writable volume at %s", where, run.tcp.keyFile, dir)
		}
	}
	probes := []*corev1.Probe{c.StartupProbe, c.ReadinessProbe, c.LivenessProbe}
	for _, p := range probes {
		if p == nil || p.HTTPGet == nil {
			continue
		}
		if run.metrics == "" {
			t.Errorf("%s: HTTP probes but --metrics-addr is empty", where)
			return
		}
		host, port, err := net.SplitHostPort(run.metrics)
		if err != nil {
			t.Errorf("%s: --metrics-addr %q: %v", where, run.metrics, err)
			return
		}
		if host != "" && host != "0.0.0.0" && host != "::" {
			t.Errorf("%s: --metrics-addr %q: the kubelet probes the pod IP, not %s", where, run.metrics, host)
		}
		pp := p.HTTPGet.Port.String()
		for _, cp := range c.Ports {
			if cp.Name == pp {
				pp = strconv.Itoa(int(cp.ContainerPort))
			}
		}
		if pp != port {
			t.Errorf("%s: probe %s on port %s, but meshdns listens on %s", where, p.HTTPGet.Path, pp, port)
		}
	}
}

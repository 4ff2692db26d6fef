package node

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/miekg/dns"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes/scheme"
)

func TestMain(m *testing.M) { os.Exit(Main(m)) }

// The cluster DNS's zone: decoys for the mesh names (addresses meshdns
// never gives, so an answer shows its source) and an external name.
const clusterZone = `$TTL 7
web.default.svc.cluster.local.  A  198.19.1.1
api.default.svc.cluster.local.  A  198.19.1.2
www.example.org.                A  198.19.0.10
`

const (
	webFQDN  = "web.default.svc.cluster.local"
	apiFQDN  = "api.default.svc.cluster.local"
	webIP    = "10.0.0.80" // the Service's ClusterIP: meshdns's answer
	apiIP    = "10.0.0.81"
	webDecoy = "198.19.1.1" // the cluster DNS's answer
	external = "www.example.org"
	extIP    = "198.19.0.10"
)

// TestNode brings one node up and runs meshdns pods on it. The subtests
// run in order on the same node and pods.
func TestNode(t *testing.T) {
	n := Start(t, clusterZone)
	n.applyRBAC(t)
	n.createService(t, "web", webIP)
	n.createService(t, "api", apiIP)

	var pod *corev1.Pod // the labelled pod, once Ready
	t.Run("PodStarts", func(t *testing.T) {
		want := n.RenderPod(t, "meshdns-app", true)
		if len(want.Spec.InitContainers) != 2 || want.Spec.InitContainers[0].Name != "meshdns-rules" || want.Spec.InitContainers[1].Name != "meshdns" {
			t.Fatalf("the component did not add meshdns: init containers %v", names(want.Spec.InitContainers))
		}
		pod = n.CreatePod(t, want)
		rules, _ := Status(pod, "meshdns-rules")
		if rules.State.Terminated == nil || rules.State.Terminated.ExitCode != 0 {
			t.Errorf("meshdns-rules: state %+v, want terminated with 0", rules.State)
		}
		side, _ := Status(pod, "meshdns")
		if !side.Ready || side.State.Running == nil || side.RestartCount != 0 {
			t.Errorf("meshdns sidecar: ready=%v restarts=%d state %+v", side.Ready, side.RestartCount, side.State)
		}
		pid := n.PodPid(t, pod, "meshdns")
		st := procStatus(t, pid)
		if st["Uid"] != "65532\t65532\t65532\t65532" || st["Gid"] != "65532\t65532\t65532\t65532" {
			t.Errorf("sidecar Uid %q Gid %q, want 65532", st["Uid"], st["Gid"])
		}
		// CAP_NET_ADMIN is bit 12: the only capability it holds or can
		// ever get.
		for _, k := range []string{"CapEff", "CapPrm", "CapBnd"} {
			if st[k] != "0000000000001000" {
				t.Errorf("sidecar %s = %s, want only CAP_NET_ADMIN (0000000000001000)", k, st[k])
			}
		}
		if !rootReadOnly(t, pid) {
			t.Error("sidecar's root filesystem is writable")
		}
		// meshdns gives the Go runtime 3/4 of its container's memory
		// limit (cmd/meshdns/memlimit.go; the manifests set no GOMEMLIMIT).
		if l := n.ContainerLog(pod, "meshdns"); !strings.Contains(l, `msg="Go memory limit set from the container's" limit_bytes=100663296 container_bytes=134217728`) {
			t.Errorf("the sidecar did not set its Go memory limit to 3/4 of its 128Mi:\n%s", l)
		}
		// The queue is bound in the pod's namespace.
		q, err := os.ReadFile(fmt.Sprintf("/proc/%d/net/netfilter/nfnetlink_queue", pid))
		if err != nil || !queueBound(string(q), 5353) {
			t.Errorf("queue 5353 not bound in the pod: %v\n%s", err, q)
		}
		save := n.podIptables(t, pid)
		if !strings.Contains(save, "NFQUEUE --queue-num 5353 --queue-bypass") {
			t.Errorf("the pod's rules lack the capture rule:\n%s", save)
		}
	})
	if pod == nil {
		t.Fatal("the meshdns pod did not start")
	}

	t.Run("Resolves", func(t *testing.T) {
		resolv, err := n.Exec(context.Background(), pod, "app", nil, "/bin/busybox", "cat", "/etc/resolv.conf")
		if err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(resolv, "nameserver "+ClusterDNS) || !strings.Contains(resolv, "search default.svc.cluster.local svc.cluster.local cluster.local") {
			t.Errorf("the kubelet-written resolv.conf:\n%s", resolv)
		}
		before := n.DNS.Count(webFQDN+".", dns.TypeA)
		got := n.lookup(t, pod, webFQDN, external, "web", "api.default")
		want := map[string]string{webFQDN: webIP, external: extIP, "web": webIP, "api.default": apiIP}
		for name, addr := range want {
			if got[name] != addr {
				t.Errorf("%s: %q, want %s", name, got[name], addr)
			}
		}
		if c := n.DNS.Count(webFQDN+".", dns.TypeA); c != before {
			t.Errorf("the cluster DNS was asked for %s %d times: meshdns did not answer it in the pod", webFQDN, c-before)
		}
		if n.DNS.Count(external+".", dns.TypeA) == 0 {
			t.Errorf("%s did not reach the cluster DNS", external)
		}
	})

	t.Run("LimitsUnderLoad", func(t *testing.T) {
		side, _ := Status(pod, "meshdns")
		restarts := side.RestartCount
		out, err := n.Exec(context.Background(), pod, "app", nil, "/dnsclient", "load", "-for", "20s", "-workers", "16", webFQDN, apiFQDN, "web", "api")
		if err != nil {
			t.Fatal(err)
		}
		var s summary
		if err := json.Unmarshal([]byte(out), &s); err != nil {
			t.Fatalf("%v: %s", err, out)
		}
		t.Logf("load: %d answered, %d failed, answers %v", s.OK, s.Failed, s.Answers)
		if s.Failed != 0 || s.OK == 0 {
			t.Errorf("load: %d failed of %d", s.Failed, s.OK+s.Failed)
		}
		for a := range s.Answers {
			if a != webIP && a != apiIP {
				t.Errorf("answer %q under load: not meshdns's", a)
			}
		}
		p := n.getPod(t, pod.Name)
		side, _ = Status(p, "meshdns")
		if side.RestartCount != restarts || side.State.Running == nil {
			t.Errorf("sidecar restarted under load: %d restarts, last state %+v", side.RestartCount, side.LastTerminationState)
		}
		mem := cgroupFile(t, n.PodPid(t, p, "meshdns"), "memory")
		oom, _ := os.ReadFile(filepath.Join(mem, "memory.oom_control"))
		peak, _ := os.ReadFile(filepath.Join(mem, "memory.max_usage_in_bytes"))
		limit, _ := os.ReadFile(filepath.Join(mem, "memory.limit_in_bytes"))
		t.Logf("sidecar memory: peak %s bytes, limit %s bytes; %s", strings.TrimSpace(string(peak)), strings.TrimSpace(string(limit)), strings.ReplaceAll(string(oom), "\n", " "))
		if !strings.Contains(string(oom), "oom_kill 0") {
			t.Errorf("sidecar OOM kills: %s", oom)
		}
		if strings.TrimSpace(string(limit)) != "134217728" {
			t.Errorf("sidecar memory limit %s, want the shipped 128Mi", limit)
		}
	})

	t.Run("SidecarRestart", func(t *testing.T) {
		ctx := context.Background()
		oldPid := n.PodPid(t, pod, "meshdns")
		key := readKey(t, oldPid)

		// A DNS-over-TCP flow answered in the pod, left open across the
		// restart.
		tcpIn, tcpOut, tcpDone := n.stream(t, pod, "/dnsclient", "tcp", "-server", ClusterDNS+":53")
		if a := tcpAsk(t, tcpIn, tcpOut, webFQDN); a != webIP {
			t.Fatalf("TCP answer before the restart: %q", a)
		}
		// A client resolving throughout.
		loopIn, loopOut, loopDone := n.stream(t, pod, "/dnsclient", "loop", "-for", "3m", "-every", "50ms", webFQDN)
		time.Sleep(3 * time.Second)

		sideID := ContainerID(t, pod, "meshdns")
		appPid := n.PodPid(t, pod, "app")
		if _, err := n.Ctr(ctx, "tasks", "kill", "-s", "SIGKILL", sideID); err != nil {
			t.Fatal(err)
		}
		killed := time.Now()
		// The gap: until the kubelet has restarted the sidecar (seconds: it
		// notices the exit, starts the container, meshdns binds the queue),
		// no process reads the queue.
		checkBypass(t, appPid, killed, "the sidecar")
		p := n.WaitPod(t, pod.Namespace, pod.Name, 120*time.Second, func(p *corev1.Pod) bool {
			s, _ := Status(p, "meshdns")
			return s.RestartCount >= 1 && s.Ready
		})
		t.Logf("sidecar restarted by the kubelet and ready again %v after the kill", time.Since(killed).Round(100*time.Millisecond))
		time.Sleep(3 * time.Second)
		loopIn.Close()
		var s summary
		line := readLine(t, loopOut, 30*time.Second)
		if err := json.Unmarshal([]byte(line), &s); err != nil {
			t.Fatalf("%v: %q", err, line)
		}
		<-loopDone
		t.Logf("lookups throughout: %d answered, %d failed; %v", s.OK, s.Failed, s.Runs)
		if s.Failed != 0 {
			t.Errorf("%d lookups failed across the sidecar restart", s.Failed)
		}
		if len(s.Runs) == 0 || s.Runs[0].Answer != webIP || s.Runs[len(s.Runs)-1].Answer != webIP {
			t.Errorf("answers %v: want meshdns's before the kill and again after the restart", s.Runs)
		}
		// The looping client's lookup in flight at the kill is dropped with
		// the queue and retried after the resolver's timeout, so its bypass
		// answers are seen only when one of its lookups falls into the gap:
		// logged (the bypass itself is asserted above). What is required
		// of it is that none fails.
		var bypassed int
		for _, r := range s.Runs {
			if r.Answer == webDecoy {
				bypassed += r.Count
			}
		}
		t.Logf("%d lookups answered by the cluster DNS through --queue-bypass while the sidecar was down", bypassed)

		// The TCP flow resumes under the restarted sidecar: the ISN cookie
		// key came back from the emptyDir.
		newPid := n.PodPid(t, p, "meshdns")
		if newPid == oldPid {
			t.Fatal("the sidecar's pid did not change")
		}
		if k := readKey(t, newPid); !bytes.Equal(k, key) {
			t.Error("the TCP key changed across the restart")
		}
		if a := tcpAsk(t, tcpIn, tcpOut, webFQDN); a != webIP {
			t.Errorf("TCP answer on the same connection after the restart: %q, want %s", a, webIP)
		}
		tcpIn.Close()
		<-tcpDone
		app, _ := Status(p, "app")
		if app.RestartCount != 0 {
			t.Errorf("the app restarted %d times", app.RestartCount)
		}
		pod = p
	})

	var plain *corev1.Pod
	t.Run("NoLabelNoMeshdns", func(t *testing.T) {
		want := n.RenderPod(t, "plain-app", false)
		if len(want.Spec.InitContainers) != 0 || len(want.Spec.Containers) != 1 || len(want.Spec.Volumes) != 0 {
			t.Fatalf("an unlabelled Deployment got meshdns: init %v, containers %v", names(want.Spec.InitContainers), names(want.Spec.Containers))
		}
		plain = n.CreatePod(t, want)
		got := n.lookup(t, plain, webFQDN)
		if got[webFQDN] != webDecoy {
			t.Errorf("%s in the unlabelled pod: %q, want the cluster DNS's %s", webFQDN, got[webFQDN], webDecoy)
		}
		save := n.podIptables(t, n.PodPid(t, plain, "app"))
		if strings.Contains(save, "MESHDNS") || strings.Contains(save, "NFQUEUE") {
			t.Errorf("rules in the unlabelled pod:\n%s", save)
		}
	})

	t.Run("DeleteLeavesNothing", func(t *testing.T) {
		for _, p := range []*corev1.Pod{pod, plain} {
			if p == nil {
				continue
			}
			n.DeletePod(t, p.Namespace, p.Name)
			n.checkGone(t, p)
		}
	})

	t.Run("NodeAgent", n.testNodeAgent)
}

type summary struct {
	OK      int64            `json:"ok"`
	Failed  int64            `json:"failed"`
	Runs    []run            `json:"runs"`
	Answers map[string]int64 `json:"answers"`
}

type run struct {
	Answer string `json:"answer"`
	Count  int    `json:"count"`
}

func names(cs []corev1.Container) []string {
	var ns []string
	for _, c := range cs {
		ns = append(ns, c.Name)
	}
	return ns
}

// lookup resolves names in the pod's app container and returns each
// name's addresses (joined) or error.
func (n *Node) lookup(t *testing.T, p *corev1.Pod, names ...string) map[string]string {
	t.Helper()
	out, err := n.Exec(context.Background(), p, "app", nil, append([]string{"/dnsclient", "lookup"}, names...)...)
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]string{}
	sc := bufio.NewScanner(strings.NewReader(out))
	for sc.Scan() {
		var r struct {
			Name  string   `json:"name"`
			Addrs []string `json:"addrs"`
			Err   string   `json:"err"`
		}
		if err := json.Unmarshal(sc.Bytes(), &r); err != nil {
			t.Fatalf("%v: %s", err, sc.Text())
		}
		if r.Err != "" {
			got[r.Name] = "error: " + r.Err
		} else {
			got[r.Name] = strings.Join(r.Addrs, ",")
		}
	}
	return got
}

// stream runs argv in the app container with a stdin pipe, returning it,
// the output lines, and a channel closed when the command ends.
func (n *Node) stream(t *testing.T, p *corev1.Pod, argv ...string) (io.WriteCloser, <-chan string, <-chan struct{}) {
	t.Helper()
	inR, inW := io.Pipe()
	outR, outW := io.Pipe()
	lines := make(chan string, 100)
	done := make(chan struct{})
	go func() {
		defer close(done)
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
		defer cancel()
		s, ok := Status(p, "app")
		if !ok {
			outW.CloseWithError(fmt.Errorf("no app container"))
			return
		}
		id := strings.TrimPrefix(s.ContainerID, "containerd://")
		cmd := exec.CommandContext(ctx, n.containerd.ctr, append([]string{"--address", n.containerd.sock, "-n", "k8s.io", "tasks", "exec", "--exec-id", fmt.Sprintf("s%d", time.Now().UnixNano()), id}, argv...)...)
		cmd.Stdin, cmd.Stdout = inR, outW
		var errb bytes.Buffer
		cmd.Stderr = &errb
		if err := cmd.Run(); err != nil {
			// Not t.Logf: the test may be over.
			fmt.Fprintf(os.Stderr, "node: %v: %v: %s\n", argv, err, errb.String())
		}
		outW.Close()
	}()
	go func() {
		sc := bufio.NewScanner(outR)
		for sc.Scan() {
			lines <- sc.Text()
		}
		close(lines)
	}()
	t.Cleanup(func() { inW.Close() })
	return inW, lines, done
}

func readLine(t *testing.T, lines <-chan string, timeout time.Duration) string {
	t.Helper()
	select {
	case l, ok := <-lines:
		if !ok {
			t.Fatal("the command ended without output")
		}
		return l
	case <-time.After(timeout):
		t.Fatal("no output after", timeout)
	}
	return ""
}

// tcpAsk sends name on the tcp command's connection and returns the A
// addresses of the answer.
func tcpAsk(t *testing.T, in io.Writer, out <-chan string, name string) string {
	t.Helper()
	if _, err := io.WriteString(in, name+"\n"); err != nil {
		t.Fatal(err)
	}
	line := readLine(t, out, 30*time.Second)
	var a struct {
		Answer []string `json:"answer"`
		Err    string   `json:"err"`
	}
	if err := json.Unmarshal([]byte(line), &a); err != nil {
		t.Fatalf("%v: %q", err, line)
	}
	if a.Err != "" {
		return "error: " + a.Err
	}
	return strings.Join(a.Answer, ",")
}

// checkBypass asks the mesh name from the network namespace of process
// appPid (dig through nsenter: milliseconds) 100 ms after what was killed
// at killed, up to three times (a query the dying process had queued is
// lost and asked again): with no meshdns reading the queue,
// --queue-bypass sends it to the cluster DNS, whose decoy shows where the
// answer came from.
func checkBypass(t *testing.T, appPid int, killed time.Time, what string) {
	t.Helper()
	time.Sleep(time.Until(killed.Add(100 * time.Millisecond)))
	var gap []string
	for i := 0; i < 3 && (len(gap) == 0 || gap[len(gap)-1] != webDecoy); i++ {
		out, _ := exec.Command("nsenter", "-t", fmt.Sprint(appPid), "-n", "dig", "+short", "+time=1", "+tries=1",
			"@"+ClusterDNS, webFQDN).Output()
		gap = append(gap, strings.TrimSpace(string(out)))
	}
	t.Logf("lookups in the pod right after %s was killed, %v after it: %q", what, time.Since(killed).Round(10*time.Millisecond), gap)
	if gap[len(gap)-1] != webDecoy {
		t.Errorf("lookups in the pod right after %s was killed: %q, want the cluster DNS's decoy %s through --queue-bypass", what, gap, webDecoy)
	}
}

func procStatus(t *testing.T, pid int) map[string]string {
	t.Helper()
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		t.Fatal(err)
	}
	m := map[string]string{}
	for _, l := range strings.Split(string(b), "\n") {
		if k, v, ok := strings.Cut(l, ":"); ok {
			m[k] = strings.TrimSpace(v)
		}
	}
	return m
}

// rootReadOnly reports whether the process's / is mounted read-only.
func rootReadOnly(t *testing.T, pid int) bool {
	t.Helper()
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/mountinfo", pid))
	if err != nil {
		t.Fatal(err)
	}
	for _, l := range strings.Split(string(b), "\n") {
		f := strings.Fields(l)
		if len(f) > 5 && f[4] == "/" {
			return strings.HasPrefix(f[5], "ro")
		}
	}
	t.Fatal("no / in the sidecar's mountinfo")
	return false
}

// queueBound reports whether /proc/net/netfilter/nfnetlink_queue lists
// queue num.
func queueBound(table string, num int) bool {
	for _, l := range strings.Split(table, "\n") {
		f := strings.Fields(l)
		if len(f) > 0 && f[0] == fmt.Sprint(num) {
			return true
		}
	}
	return false
}

// podIptables is the IPv4 rules of the network namespace of process pid,
// both iptables back-ends.
func (n *Node) podIptables(t *testing.T, pid int) string {
	t.Helper()
	var all string
	for _, save := range []string{"iptables-nft-save", "iptables-legacy-save"} {
		out, err := exec.Command("nsenter", fmt.Sprintf("--net=/proc/%d/ns/net", pid), save).CombinedOutput()
		if err != nil {
			t.Fatalf("%s in the pod: %v: %s", save, err, out)
		}
		all += string(out)
	}
	return all
}

// readKey reads the sidecar's TCP ISN cookie key through its root.
func readKey(t *testing.T, pid int) []byte {
	t.Helper()
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/root/run/meshdns/tcp-isn.key", pid))
	if err != nil {
		t.Fatal(err)
	}
	if len(b) == 0 {
		t.Fatal("empty TCP key")
	}
	return b
}

// cgroupFile is the directory of process pid's cgroup in a v1 hierarchy.
func cgroupFile(t *testing.T, pid int, hierarchy string) string {
	t.Helper()
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/cgroup", pid))
	if err != nil {
		t.Fatal(err)
	}
	for _, l := range strings.Split(string(b), "\n") {
		f := strings.SplitN(l, ":", 3)
		if len(f) == 3 && f[1] == hierarchy {
			return filepath.Join(cgroupFS, hierarchy, f[2])
		}
	}
	t.Fatalf("process %d has no %s cgroup", pid, hierarchy)
	return ""
}

func (n *Node) getPod(t *testing.T, name string) *corev1.Pod {
	t.Helper()
	p, err := n.Client.CoreV1().Pods("default").Get(context.Background(), name, metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// checkGone checks that a deleted pod left nothing on the node: no
// containers or tasks, no pod directory, no cgroups, no network namespace,
// no veth on the bridge, no address held by the IPAM.
func (n *Node) checkGone(t *testing.T, p *corev1.Pod) {
	t.Helper()
	uid := string(p.UID)
	ctx := context.Background()
	// The kubelet removes a deleted pod's containers at its next container
	// garbage collection (once a minute).
	var ids []string
	for _, st := range append(append([]corev1.ContainerStatus{}, p.Status.InitContainerStatuses...), p.Status.ContainerStatuses...) {
		ids = append(ids, strings.TrimPrefix(st.ContainerID, "containerd://"))
	}
	err := waitFor(ctx, 150*time.Second, "pod "+p.Name+" cleaned up", func(ctx context.Context) (bool, error) {
		var left []string
		cctx, cancel := context.WithTimeout(ctx, 15*time.Second)
		defer cancel()
		out, err := n.Ctr(cctx, "containers", "ls", "-q")
		if err != nil {
			return false, err
		}
		tasks, err := n.Ctr(cctx, "tasks", "ls", "-q")
		if err != nil {
			return false, err
		}
		for _, id := range ids {
			if strings.Contains(out, id) || strings.Contains(tasks, id) {
				left = append(left, "container "+id)
			}
		}
		if _, err := os.Stat(filepath.Join(n.Dir, "kubelet", "pods", uid)); err == nil {
			left = append(left, "pod directory")
		}
		_ = filepath.WalkDir(filepath.Join(cgroupFS, "memory", os.Getenv(envCgroup)), func(path string, d os.DirEntry, err error) error {
			if err == nil && d.IsDir() && strings.Contains(path, "pod"+uid) {
				left = append(left, "cgroup "+path)
			}
			return nil
		})
		if out, _ := exec.Command("ip", "-o", "link", "show", "master", "cni0").CombinedOutput(); strings.Contains(string(out), "veth") && p.Name == "plain-app" {
			left = append(left, "veths: "+string(out))
		}
		if ips, _ := filepath.Glob(filepath.Join(n.Dir, "cni-ipam", "meshdns-node", p.Status.PodIP)); len(ips) > 0 {
			left = append(left, "IPAM address "+p.Status.PodIP)
		}
		if len(left) > 0 {
			return false, fmt.Errorf("%v", left)
		}
		return true, nil
	})
	if err != nil {
		t.Error(err)
	}
	if p.Name == "plain-app" {
		// The last pod: no pod network namespace is left at all.
		ns, _ := filepath.Glob(filepath.Join(n.Dir, "containerd", "state", "*", "netns", "*"))
		if len(ns) > 0 {
			t.Errorf("pod network namespaces left: %v", ns)
		}
	}
}

// applyRBAC creates the shipped ServiceAccount, ClusterRole and
// ClusterRoleBinding (manifests/rbac): the API server authorizes with
// RBAC, so they are what lets the sidecar read names.
func (n *Node) applyRBAC(t *testing.T) {
	t.Helper()
	files, err := filepath.Glob(filepath.Join(n.RepoRoot, "manifests", "rbac", "*.yaml"))
	if err != nil || len(files) != 3 {
		t.Fatalf("manifests/rbac: %v %v", files, err)
	}
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		obj, _, err := scheme.Codecs.UniversalDeserializer().Decode(b, nil, nil)
		if err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		n.createRBAC(t, obj)
	}
}

func (n *Node) createService(t *testing.T, name, ip string) {
	t.Helper()
	svc := &corev1.Service{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: "default"},
		Spec: corev1.ServiceSpec{
			ClusterIP: ip,
			Selector:  map[string]string{"app": name},
			Ports:     []corev1.ServicePort{{Name: "http", Port: 80}},
		},
	}
	if _, err := n.Client.CoreV1().Services("default").Create(context.Background(), svc, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
}

package node

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/miekg/dns"
	corev1 "k8s.io/api/core/v1"
)

// testNodeAgent runs node mode on the node: the shipped manifests/node
// DaemonSet's pod (hostNetwork, privileged, its install-cni container
// chaining meshdns-cni into the node's conflist), then an app pod without
// any meshdns container but labelled meshdns.io/dns-capture=enabled, whose
// DNS the agent answers in the pod's own network namespace because the
// real containerd ran meshdns-cni on the pod's ADD, and an unlabelled pod
// it leaves alone. Runs after the sidecar pods are gone.
func (n *Node) testNodeAgent(t *testing.T) {
	ctx := context.Background()
	before := chainTypes(t, n.Conflist(t))
	a := n.RenderNodeAgent(t)
	if !a.DaemonSet.Spec.Template.Spec.HostNetwork {
		t.Fatal("the shipped DaemonSet is not hostNetwork")
	}
	n.ForThisNode(t, a.DaemonSet)
	agent := n.StartNodeAgent(t, a)
	agentPid := n.PodPid(t, agent, "meshdns")
	if netnsOf(t, agentPid) != netnsOf(t, os.Getpid()) {
		t.Error("the agent does not run in the node's network namespace")
	}
	if got, want := chainTypes(t, n.Conflist(t)), append(before, "meshdns-cni"); strings.Join(got, ",") != strings.Join(want, ",") {
		t.Fatalf("the node's chain with the agent installed: %v, want %v", got, want)
	}
	if _, err := os.Stat(filepath.Join(CNIBinDir(n.Dir), "meshdns-cni")); err != nil {
		t.Fatalf("meshdns-cni not installed in the node's plugin directory: %v", err)
	}

	// An app without any meshdns container, its pod labelled for node
	// mode: the runtime's CNI ADD is what captures it.
	want := n.RenderPod(t, "node-app", false)
	if len(want.Spec.InitContainers) != 0 || len(want.Spec.Containers) != 1 {
		t.Fatalf("the app pod has meshdns containers: %v %v", names(want.Spec.InitContainers), names(want.Spec.Containers))
	}
	want.Labels[CaptureLabel] = "enabled"
	app := n.CreatePod(t, want)
	appPid := n.PodPid(t, app, "app")
	if save := n.podIptables(t, appPid); !strings.Contains(save, "NFQUEUE --queue-num 5353 --queue-bypass") {
		t.Errorf("meshdns-cni did not install the capture rule in the pod:\n%s", save)
	}
	if q, err := os.ReadFile(fmt.Sprintf("/proc/%d/net/netfilter/nfnetlink_queue", appPid)); err != nil || !queueBound(string(q), 5353) {
		t.Errorf("queue 5353 not bound in the pod's namespace: %v\n%s", err, q)
	}
	if log := n.ContainerLog(agent, "meshdns"); !strings.Contains(log, `msg="pod served" pod=default/node-app`) {
		t.Errorf("the agent did not log serving the pod:\n%s", log)
	}
	n.checkAnswers(t, app, "by the agent")
	n.checkContext(t, agent, app)

	// A pod without the label (nor its namespace) is left alone: the
	// agent tells meshdns-cni so, which installs nothing.
	plain := n.CreatePod(t, n.RenderPod(t, "node-plain", false))
	if save := n.podIptables(t, n.PodPid(t, plain, "app")); strings.Contains(save, "NFQUEUE") {
		t.Errorf("rules in the unlabelled pod:\n%s", save)
	}
	if got := n.lookup(t, plain, webFQDN); got[webFQDN] != webDecoy {
		t.Errorf("%s in the unlabelled pod: %q, want the cluster DNS's %s", webFQDN, got[webFQDN], webDecoy)
	}
	if log := n.ContainerLog(agent, "meshdns"); !strings.Contains(log, `msg="pod not captured" pod=default/node-plain`) {
		t.Errorf("the agent did not log leaving the unlabelled pod alone:\n%s", log)
	}
	n.DeletePod(t, plain.Namespace, plain.Name)
	n.checkGone(t, plain)

	// kill -9 of the agent: the pod's DNS goes to the cluster DNS through
	// --queue-bypass; the kubelet restarts the agent, which finds the pod
	// in containerd's CNI cache and answers it again, the pod untouched.
	if _, err := n.Ctr(ctx, "tasks", "kill", "-s", "SIGKILL", ContainerID(t, agent, "meshdns")); err != nil {
		t.Fatal(err)
	}
	killed := time.Now()
	checkBypass(t, appPid, killed, "the agent")
	agent = n.WaitPod(t, agent.Namespace, agent.Name, 120*time.Second, func(p *corev1.Pod) bool {
		s, _ := Status(p, "meshdns")
		return s.RestartCount >= 1 && s.Ready
	})
	t.Logf("agent restarted by the kubelet and ready again %v after the kill", time.Since(killed).Round(100*time.Millisecond))
	if log := n.ContainerLog(agent, "meshdns"); !strings.Contains(log, "recovered=1") {
		t.Errorf("the restarted agent did not recover the pod from the CNI cache:\n%s", log)
	}
	n.checkAnswers(t, app, "by the restarted agent")
	if p := n.getPod(t, app.Name); p.Status.ContainerStatuses[0].RestartCount != 0 || ContainerID(t, p, "app") != ContainerID(t, app, "app") {
		t.Errorf("the app pod was touched by the agent's restart: %+v", p.Status.ContainerStatuses)
	}

	// The pod's DEL, run by containerd, releases it in the agent.
	n.DeletePod(t, app.Namespace, app.Name)
	n.checkGone(t, app)
	if log := n.ContainerLog(agent, "meshdns"); !strings.Contains(log, `msg="pod released" pod=default/node-app`) {
		t.Errorf("the agent did not release the deleted pod:\n%s", log)
	}
	if ns, _ := filepath.Glob(filepath.Join(NetnsDir(n.Dir), "*")); len(ns) > 0 {
		t.Errorf("pod network namespaces left: %v", ns)
	}

	// Deleting the agent's pod (the DaemonSet deleted) takes meshdns-cni
	// out of the chain and the plugin directory.
	n.DeletePod(t, agent.Namespace, agent.Name)
	n.checkGone(t, agent)
	if got := chainTypes(t, n.Conflist(t)); strings.Join(got, ",") != strings.Join(before, ",") {
		t.Errorf("the node's chain after the agent was deleted: %v, want %v", got, before)
	}
	if _, err := os.Stat(filepath.Join(CNIBinDir(n.Dir), "meshdns-cni")); !os.IsNotExist(err) {
		t.Errorf("meshdns-cni left in the node's plugin directory: %v", err)
	}
}

// checkAnswers resolves a mesh name (FQDN and short), and an external
// name in the app pod: meshdns's addresses for the mesh names with the
// cluster DNS never asked, the cluster DNS's for the external one.
func (n *Node) checkAnswers(t *testing.T, p *corev1.Pod, who string) {
	t.Helper()
	before := n.DNS.Count(webFQDN+".", dns.TypeA)
	extBefore := n.DNS.Count(external+".", dns.TypeA)
	got := n.lookup(t, p, webFQDN, "web", "api.default", external)
	want := map[string]string{webFQDN: webIP, "web": webIP, "api.default": apiIP, external: extIP}
	for name, addr := range want {
		if got[name] != addr {
			t.Errorf("%s answered %s: %q, want %s", name, who, got[name], addr)
		}
	}
	if c := n.DNS.Count(webFQDN+".", dns.TypeA); c != before {
		t.Errorf("the cluster DNS was asked for %s %d times: not answered %s in the pod", webFQDN, c-before, who)
	}
	if n.DNS.Count(external+".", dns.TypeA) == extBefore {
		t.Errorf("%s did not reach the cluster DNS", external)
	}
}

// checkContext checks that the DNS context the agent computed for pod p
// (from its object, as the kubelet computes it) is what the real kubelet
// wrote into the pod's resolv.conf: its nameservers and search list.
func (n *Node) checkContext(t *testing.T, agent, p *corev1.Pod) {
	t.Helper()
	resolv, err := n.Exec(context.Background(), p, "app", nil, "/bin/busybox", "cat", "/etc/resolv.conf")
	if err != nil {
		t.Fatal(err)
	}
	var servers, search []string
	for _, l := range strings.Split(resolv, "\n") {
		f := strings.Fields(l)
		switch {
		case len(f) > 1 && f[0] == "nameserver":
			servers = append(servers, f[1])
		case len(f) > 1 && f[0] == "search":
			search = f[1:]
		}
	}
	want := fmt.Sprintf("nameservers=[%s] search=\"[%s]\"", strings.Join(servers, " "), strings.Join(search, " "))
	var served string
	for _, l := range strings.Split(n.ContainerLog(agent, "meshdns"), "\n") {
		if strings.Contains(l, `msg="pod served" pod=`+p.Namespace+"/"+p.Name+" ") {
			served = l
		}
	}
	if !strings.Contains(served, want) {
		t.Errorf("the agent's context for %s/%s is not the kubelet's resolv.conf:\nagent: %s\nkubelet: %s", p.Namespace, p.Name, served, resolv)
	}
}

// chainTypes lists the plugin types of a conflist, in order.
func chainTypes(t testing.TB, conflist string) []string {
	t.Helper()
	var c struct {
		Plugins []struct {
			Type string `json:"type"`
		} `json:"plugins"`
	}
	if err := json.Unmarshal([]byte(conflist), &c); err != nil {
		t.Fatalf("conflist: %v\n%s", err, conflist)
	}
	var types []string
	for _, p := range c.Plugins {
		types = append(types, p.Type)
	}
	return types
}

// netnsOf is the network namespace of process pid.
func netnsOf(t testing.TB, pid int) string {
	t.Helper()
	l, err := os.Readlink(fmt.Sprintf("/proc/%d/ns/net", pid))
	if err != nil {
		t.Fatal(err)
	}
	return l
}

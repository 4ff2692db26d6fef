package node

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"
	"sigs.k8s.io/kustomize/api/krusty"
	"sigs.k8s.io/kustomize/kyaml/filesys"
)

// CaptureLabel is meshdns's per-workload switch, read by the component.
const CaptureLabel = "meshdns.io/dns-capture"

// appDeployment is a workload as a user writes it: the client image's
// dnsclient as the app, run like the example's app (non-root, read-only
// root, no capabilities), the meshdns service account.
func appDeployment(name string, capture bool) string {
	label := ""
	if capture {
		label = "\n    " + CaptureLabel + `: "enabled"`
	}
	return `apiVersion: apps/v1
kind: Deployment
metadata:
  name: ` + name + `
  namespace: default
  labels:
    app.kubernetes.io/name: ` + name + label + `
spec:
  replicas: 1
  selector:
    matchLabels:
      app.kubernetes.io/name: ` + name + `
  template:
    metadata:
      labels:
        app.kubernetes.io/name: ` + name + `
    spec:
      serviceAccountName: meshdns
      terminationGracePeriodSeconds: 5
      securityContext:
        seccompProfile:
          type: RuntimeDefault
      containers:
        - name: app
          image: ` + ImageClient + `
          command: ["/dnsclient", "sleep"]
          securityContext:
            runAsUser: 65534
            runAsNonRoot: true
            allowPrivilegeEscalation: false
            readOnlyRootFilesystem: true
            capabilities:
              drop: ["ALL"]
          resources:
            requests:
              cpu: 10m
              memory: 16Mi
            limits:
              memory: 64Mi
`
}

// RenderPod runs `kustomize build` of a kustomization holding the app's
// Deployment and the shipped sidecar component (manifests/components/
// sidecar), and returns the pod the Deployment's controller would create,
// bound to the node (there is no controller-manager or scheduler).
func (n *Node) RenderPod(t testing.TB, name string, capture bool) *corev1.Pod {
	t.Helper()
	fs := filesys.MakeFsInMemory()
	comp := filepath.Join(n.RepoRoot, "manifests", "components", "sidecar")
	ents, err := os.ReadDir(comp)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range ents {
		b, err := os.ReadFile(filepath.Join(comp, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		if err := fs.WriteFile("/components/sidecar/"+e.Name(), b); err != nil {
			t.Fatal(err)
		}
	}
	must := func(err error) {
		if err != nil {
			t.Helper()
			t.Fatal(err)
		}
	}
	must(fs.WriteFile("/app/deployment.yaml", []byte(appDeployment(name, capture))))
	must(fs.WriteFile("/app/kustomization.yaml", []byte("apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nresources:\n  - deployment.yaml\ncomponents:\n  - ../components/sidecar\n")))
	rm, err := krusty.MakeKustomizer(krusty.MakeDefaultOptions()).Run(fs, "/app")
	if err != nil {
		t.Fatalf("kustomize build: %v", err)
	}
	y, err := rm.AsYaml()
	if err != nil {
		t.Fatal(err)
	}
	var d appsv1.Deployment
	if err := utilyaml.NewYAMLOrJSONDecoder(bytes.NewReader(y), 4096).Decode(&d); err != nil {
		t.Fatalf("decode the built Deployment: %v\n%s", err, y)
	}
	tmpl := d.Spec.Template
	pod := &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: d.Namespace, Labels: tmpl.Labels, Annotations: tmpl.Annotations},
		Spec:       *tmpl.Spec.DeepCopy(),
	}
	pod.Spec.NodeName = NodeName
	return pod
}

// CreatePod creates pod and waits until it is Ready; it returns the pod as
// the kubelet reports it.
func (n *Node) CreatePod(t testing.TB, pod *corev1.Pod) *corev1.Pod {
	t.Helper()
	ctx := context.Background()
	created := time.Now()
	if _, err := n.Client.CoreV1().Pods(pod.Namespace).Create(ctx, pod, metav1.CreateOptions{}); err != nil {
		t.Fatalf("create pod %s: %v", pod.Name, err)
	}
	p := n.WaitPod(t, pod.Namespace, pod.Name, 120*time.Second, func(p *corev1.Pod) bool { return podReady(p) })
	t.Logf("pod %s Ready %v after creation", pod.Name, time.Since(created).Round(100*time.Millisecond))
	return p
}

func podReady(p *corev1.Pod) bool {
	for _, c := range p.Status.Conditions {
		if c.Type == corev1.PodReady {
			return c.Status == corev1.ConditionTrue
		}
	}
	return false
}

// WaitPod polls the pod until ok accepts it, failing t with the pod's
// status and the node's logs after timeout.
func (n *Node) WaitPod(t testing.TB, ns, name string, timeout time.Duration, ok func(*corev1.Pod) bool) *corev1.Pod {
	t.Helper()
	var last *corev1.Pod
	err := waitFor(context.Background(), timeout, "pod "+name, func(ctx context.Context) (bool, error) {
		p, err := n.Client.CoreV1().Pods(ns).Get(ctx, name, metav1.GetOptions{})
		if err != nil {
			return false, err
		}
		last = p
		return ok(p), nil
	})
	if err != nil {
		n.dumpPod(t, last)
		t.Fatal(err)
	}
	return last
}

func (n *Node) dumpPod(t testing.TB, p *corev1.Pod) {
	t.Helper()
	if p != nil {
		for _, s := range append(append([]corev1.ContainerStatus{}, p.Status.InitContainerStatuses...), p.Status.ContainerStatuses...) {
			t.Logf("container %s: ready=%v restarts=%d state=%+v last=%+v", s.Name, s.Ready, s.RestartCount, s.State, s.LastTerminationState)
		}
		t.Logf("pod %s phase %s conditions %+v", p.Name, p.Status.Phase, p.Status.Conditions)
		for _, c := range append(append([]corev1.Container{}, p.Spec.InitContainers...), p.Spec.Containers...) {
			t.Logf("log of %s:\n%s", c.Name, n.ContainerLog(p, c.Name))
		}
	}
	t.Logf("kubelet log tail:\n%s", n.kubelet.tail())
	t.Logf("containerd log tail:\n%s", n.containerd.tail())
}

// ContainerLog is the current log of a container of p, read from the
// kubelet's pod log directory.
func (n *Node) ContainerLog(p *corev1.Pod, container string) string {
	dir := filepath.Join(n.Dir, "pod-logs", p.Namespace+"_"+p.Name+"_"+string(p.UID), container)
	ents, err := os.ReadDir(dir)
	if err != nil {
		return err.Error()
	}
	var out []byte
	for _, e := range ents {
		b, _ := os.ReadFile(filepath.Join(dir, e.Name()))
		out = append(out, fmt.Sprintf("--- %s\n", e.Name())...)
		out = append(out, b...)
	}
	if len(out) > 8000 {
		out = out[len(out)-8000:]
	}
	return string(out)
}

// Status returns the status of container name (an init container or an
// app container) of pod p.
func Status(p *corev1.Pod, name string) (corev1.ContainerStatus, bool) {
	for _, s := range append(append([]corev1.ContainerStatus{}, p.Status.InitContainerStatuses...), p.Status.ContainerStatuses...) {
		if s.Name == name {
			return s, true
		}
	}
	return corev1.ContainerStatus{}, false
}

// ContainerID is the containerd ID of a running container of p.
func ContainerID(t testing.TB, p *corev1.Pod, name string) string {
	t.Helper()
	s, ok := Status(p, name)
	if !ok || s.ContainerID == "" {
		t.Fatalf("pod %s has no container %s", p.Name, name)
	}
	id, ok := strings.CutPrefix(s.ContainerID, "containerd://")
	if !ok {
		t.Fatalf("container %s: ID %q", name, s.ContainerID)
	}
	return id
}

// Exec runs argv in container name of p (ctr tasks exec: the container's
// user, namespaces and root) with stdin, and returns its standard output.
func (n *Node) Exec(ctx context.Context, p *corev1.Pod, container string, stdin io.Reader, argv ...string) (string, error) {
	s, ok := Status(p, container)
	if !ok {
		return "", fmt.Errorf("pod %s has no container %s", p.Name, container)
	}
	id := strings.TrimPrefix(s.ContainerID, "containerd://")
	execID := "t" + strconv.FormatInt(time.Now().UnixNano(), 36)
	cmd := exec.CommandContext(ctx, n.containerd.ctr, append([]string{"--address", n.containerd.sock, "-n", "k8s.io", "tasks", "exec", "--exec-id", execID, id}, argv...)...)
	cmd.Stdin = stdin
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	if err := cmd.Run(); err != nil {
		return out.String(), fmt.Errorf("exec %v in %s/%s: %v: %s", argv, p.Name, container, err, errb.String())
	}
	return out.String(), nil
}

// Ctr runs ctr in the CRI's namespace.
func (n *Node) Ctr(ctx context.Context, args ...string) (string, error) {
	return n.containerd.run(ctx, args...)
}

// PodPid is the host pid of container name of p (its task's).
func (n *Node) PodPid(t testing.TB, p *corev1.Pod, container string) int {
	t.Helper()
	id := ContainerID(t, p, container)
	out, err := n.Ctr(context.Background(), "tasks", "ls")
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range strings.Split(out, "\n") {
		f := strings.Fields(line)
		if len(f) >= 3 && f[0] == id {
			pid, err := strconv.Atoi(f[1])
			if err != nil {
				t.Fatal(err)
			}
			return pid
		}
	}
	t.Fatalf("no task %s in:\n%s", id, out)
	return 0
}

// DeletePod deletes the pod and waits until the API server no longer has
// it (the kubelet has stopped its containers and confirmed).
func (n *Node) DeletePod(t testing.TB, ns, name string) {
	t.Helper()
	ctx := context.Background()
	if err := n.Client.CoreV1().Pods(ns).Delete(ctx, name, metav1.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	err := waitFor(ctx, 90*time.Second, "pod "+name+" gone", func(ctx context.Context) (bool, error) {
		_, err := n.Client.CoreV1().Pods(ns).Get(ctx, name, metav1.GetOptions{})
		if apierrors.IsNotFound(err) {
			return true, nil
		}
		return false, err
	})
	if err != nil && !errors.Is(err, context.Canceled) {
		t.Fatalf("%v\nkubelet:\n%s", err, n.kubelet.tail())
	}
}

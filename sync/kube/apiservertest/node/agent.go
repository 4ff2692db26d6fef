package node

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"
	"k8s.io/client-go/kubernetes/scheme"
	"sigs.k8s.io/kustomize/api/krusty"
	"sigs.k8s.io/kustomize/kyaml/filesys"
)

// NodeAgent is the shipped node mode (manifests/node) as `kustomize build`
// renders it.
type NodeAgent struct {
	Objects   []runtime.Object // ServiceAccount, ClusterRole, ClusterRoleBinding
	DaemonSet *appsv1.DaemonSet
}

// RenderNodeAgent runs `kustomize build manifests/node` and decodes what it
// renders.
func (n *Node) RenderNodeAgent(t testing.TB) NodeAgent {
	t.Helper()
	dir := filepath.Join(n.RepoRoot, "manifests", "node")
	rm, err := krusty.MakeKustomizer(krusty.MakeDefaultOptions()).Run(filesys.MakeFsOnDisk(), dir)
	if err != nil {
		t.Fatalf("kustomize build %s: %v", dir, err)
	}
	y, err := rm.AsYaml()
	if err != nil {
		t.Fatal(err)
	}
	var a NodeAgent
	dec := utilyaml.NewYAMLOrJSONDecoder(bytes.NewReader(y), 4096)
	for {
		var raw runtime.RawExtension
		if err := dec.Decode(&raw); errors.Is(err, io.EOF) {
			break
		} else if err != nil {
			t.Fatal(err)
		}
		obj, _, err := scheme.Codecs.UniversalDeserializer().Decode(raw.Raw, nil, nil)
		if err != nil {
			t.Fatalf("manifests/node: %v", err)
		}
		if ds, ok := obj.(*appsv1.DaemonSet); ok {
			a.DaemonSet = ds
		} else {
			a.Objects = append(a.Objects, obj)
		}
	}
	if a.DaemonSet == nil || len(a.Objects) != 3 {
		t.Fatalf("manifests/node renders %d objects and DaemonSet %v", len(a.Objects), a.DaemonSet != nil)
	}
	return a
}

// ForThisNode changes what an operator sets for a node of theirs, and
// nothing else: the cluster DNS address (the kubelet's --cluster-dns, as
// the DaemonSet's comment asks), and the node's paths where this node
// keeps them under its directory (CNI configuration and plugin
// directories, the pods' network namespaces, the kubelet's resolv.conf).
// The socket and the CNI cache stay at the shipped paths.
func (n *Node) ForThisNode(t testing.TB, ds *appsv1.DaemonSet) {
	t.Helper()
	spec := &ds.Spec.Template.Spec
	hostPaths := map[string]string{
		"cni-conf":    CNIConfDir(n.Dir),
		"cni-bin":     CNIBinDir(n.Dir),
		"netns":       NetnsDir(n.Dir),
		"node-resolv": filepath.Join(n.Dir, "resolv.conf"),
	}
	for i := range spec.Volumes {
		v := &spec.Volumes[i]
		if p, ok := hostPaths[v.Name]; ok {
			if v.HostPath == nil {
				t.Fatalf("volume %s is not a hostPath", v.Name)
			}
			v.HostPath.Path = p
			delete(hostPaths, v.Name)
		}
	}
	if len(hostPaths) > 0 {
		t.Fatalf("the DaemonSet lacks the volumes %v", hostPaths)
	}
	for i := range spec.Containers {
		c := &spec.Containers[i]
		for j, a := range c.Args {
			switch {
			case strings.HasPrefix(a, "--cluster-dns="), strings.HasPrefix(a, "--nameservers="):
				k, _, _ := strings.Cut(a, "=")
				c.Args[j] = k + "=" + ClusterDNS
			}
		}
		// The namespaces are opened by the path meshdns-cni reports, the
		// node's: mounted where they are on the node.
		for j := range c.VolumeMounts {
			if c.VolumeMounts[j].Name == "netns" {
				c.VolumeMounts[j].MountPath = NetnsDir(n.Dir)
			}
		}
	}
}

// StartNodeAgent creates the node agent's RBAC objects and the DaemonSet's
// pod for this node (there is no DaemonSet controller), and waits until it
// is Ready.
func (n *Node) StartNodeAgent(t testing.TB, a NodeAgent) *corev1.Pod {
	t.Helper()
	n.publishRootCA(t, a.DaemonSet.Namespace)
	for _, obj := range a.Objects {
		n.createRBAC(t, obj)
	}
	tmpl := a.DaemonSet.Spec.Template
	pod := &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: a.DaemonSet.Name + "-" + NodeName, Namespace: a.DaemonSet.Namespace,
			Labels: tmpl.Labels, Annotations: tmpl.Annotations},
		Spec: *tmpl.Spec.DeepCopy(),
	}
	pod.Spec.NodeName = NodeName
	return n.CreatePod(t, pod)
}

// createRBAC creates a ServiceAccount, ClusterRole or ClusterRoleBinding
// of the shipped manifests.
func (n *Node) createRBAC(t testing.TB, obj runtime.Object) {
	t.Helper()
	ctx := context.Background()
	var err error
	switch o := obj.(type) {
	case *corev1.ServiceAccount:
		_, err = n.Client.CoreV1().ServiceAccounts(o.Namespace).Create(ctx, o, metav1.CreateOptions{})
	case *rbacv1.ClusterRole:
		_, err = n.Client.RbacV1().ClusterRoles().Create(ctx, o, metav1.CreateOptions{})
	case *rbacv1.ClusterRoleBinding:
		_, err = n.Client.RbacV1().ClusterRoleBindings().Create(ctx, o, metav1.CreateOptions{})
	default:
		err = fmt.Errorf("unexpected %T", obj)
	}
	if err != nil {
		t.Fatalf("%T %v: %v", obj, obj, err)
	}
}

// Conflist is the node's CNI configuration file, as containerd reads it.
func (n *Node) Conflist(t testing.TB) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(CNIConfDir(n.Dir), "10-meshdns-node.conflist"))
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

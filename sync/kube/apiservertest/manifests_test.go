package apiservertest

import (
	"bytes"
	"context"
	"encoding/json"
	"io/fs"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/client-go/kubernetes"
	"sigs.k8s.io/kustomize/api/krusty"
	"sigs.k8s.io/kustomize/kyaml/filesys"

	"github.com/meshdns/meshdns/sync/kube/apiservertest/kubetest"
)

// TestManifestsApply server-side applies every manifest under manifests/
// and the kustomize build of manifests/ to a real API server with strict
// field validation (workloads with dry-run=All), so a schema or field error
// fails here.
func TestManifestsApply(t *testing.T) {
	ctx := context.Background()
	s := startAPIServer(t, kubetest.Options{EtcdURL: startEtcd(t), Prefix: "/meshdns-manifests"})
	admin := adminConfig(s.Addr)
	waitNamespace(t, kubernetes.NewForConfigOrDie(admin), "default")
	a := newApplier(t, admin)
	dir := filepath.Join(repoRoot(t), "manifests")
	installCRD(t, ctx, admin, a, filepath.Join(dir, "test/serviceentry-crd.yaml"))

	// Every plain manifest file. Kustomize files and the component's patch
	// (a partial object) are covered by the kustomize build below.
	var files []string
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && d.Name() == "components" {
			return filepath.SkipDir
		}
		if !d.IsDir() && strings.HasSuffix(p, ".yaml") && d.Name() != "kustomization.yaml" {
			files = append(files, p)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(files) < 5 {
		t.Fatalf("only %d manifest files found: %v", len(files), files)
	}
	applied := map[string]*unstructured.Unstructured{}
	for _, f := range files {
		for _, o := range readObjects(t, f) {
			out, err := a.apply(ctx, o, false)
			if err != nil {
				t.Errorf("%s: %v", strings.TrimPrefix(f, dir+"/"), err)
				continue
			}
			applied[o.GetKind()+"/"+o.GetName()] = out
			t.Logf("applied %s %s/%s from %s", o.GetKind(), o.GetNamespace(), o.GetName(), strings.TrimPrefix(f, dir+"/"))
		}
	}

	// The kustomization builds and applies.
	k := krusty.MakeKustomizer(krusty.MakeDefaultOptions())
	rm, err := k.Run(filesys.MakeFsOnDisk(), dir)
	if err != nil {
		t.Fatalf("kustomize build manifests/: %v", err)
	}
	y, err := rm.AsYaml()
	if err != nil {
		t.Fatal(err)
	}
	built, err := decodeObjects(bytes.NewReader(y))
	if err != nil {
		t.Fatal(err)
	}
	rendered := map[string]*unstructured.Unstructured{}
	for _, o := range built {
		out, err := a.apply(ctx, o, false)
		if err != nil {
			t.Errorf("kustomize output: %v", err)
			continue
		}
		rendered[o.GetKind()+"/"+o.GetName()] = out
	}
	for _, want := range []string{"ServiceAccount/meshdns", "ClusterRole/meshdns", "ClusterRoleBinding/meshdns", "Deployment/meshdns-example", "Deployment/meshdns-labelled-app"} {
		if rendered[want] == nil {
			t.Errorf("kustomize output lacks %s", want)
		}
	}

	// The label-enabled workload got exactly the example's meshdns
	// containers and volume: the component and the example do not drift.
	ex, lab := applied["Deployment/meshdns-example"], rendered["Deployment/meshdns-labelled-app"]
	if ex == nil || lab == nil {
		t.Fatal("example deployments missing")
	}
	for _, field := range [][]string{{"spec", "template", "spec", "initContainers"}, {"spec", "template", "spec", "volumes"}} {
		a, _, _ := unstructured.NestedFieldNoCopy(ex.Object, field...)
		b, _, _ := unstructured.NestedFieldNoCopy(lab.Object, field...)
		if a == nil || !reflect.DeepEqual(a, b) {
			aj, _ := json.MarshalIndent(a, "", " ")
			bj, _ := json.MarshalIndent(b, "", " ")
			t.Errorf("%s differ between example/deployment.yaml and the sidecar component:\n%s\n---\n%s", strings.Join(field, "."), aj, bj)
		}
	}
	// The server kept the sidecar a native sidecar and the app container.
	inits, _, _ := unstructured.NestedSlice(lab.Object, "spec", "template", "spec", "initContainers")
	if len(inits) != 2 || inits[1].(map[string]any)["restartPolicy"] != "Always" {
		t.Errorf("initContainers of the labelled app: %v", inits)
	}
	ctrs, _, _ := unstructured.NestedSlice(lab.Object, "spec", "template", "spec", "containers")
	if len(ctrs) != 1 || ctrs[0].(map[string]any)["name"] != "app" {
		t.Errorf("containers of the labelled app: %v", ctrs)
	}

	// Control: strict validation does reject a bad field, so the checks
	// above could fail.
	bad := applied["Deployment/meshdns-example"].DeepCopy()
	bad.SetResourceVersion("")
	bad.SetManagedFields(nil)
	unstructured.RemoveNestedField(bad.Object, "status")
	if err := unstructured.SetNestedField(bad.Object, "yes", "spec", "template", "spec", "readOnlyRootFilesystem"); err != nil {
		t.Fatal(err)
	}
	if _, err := a.apply(ctx, bad, true); err == nil || !strings.Contains(err.Error(), "readOnlyRootFilesystem") {
		t.Fatalf("a misplaced field was accepted: %v", err)
	}
}

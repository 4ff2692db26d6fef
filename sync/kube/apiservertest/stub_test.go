package apiservertest

import (
	"testing"

	"go.etcd.io/etcd/server/v3/embed"
	apiextclient "k8s.io/apiextensions-apiserver/pkg/client/clientset/clientset"
	"k8s.io/apiserver/pkg/storage/storagebackend"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/kubernetes"
	kubeapiservertesting "k8s.io/kubernetes/cmd/kube-apiserver/app/testing"
)

var (
	_ = embed.NewConfig
	_ = apiextclient.NewForConfig
	_ = storagebackend.NewDefaultConfig
	_ = dynamic.NewForConfig
	_ = kubernetes.NewForConfig
	_ = kubeapiservertesting.StartTestServerOrDie
)

func TestStub(t *testing.T) {}

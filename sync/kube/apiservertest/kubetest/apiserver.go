package kubetest

import (
	"context"
	"errors"
	"net/url"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apiserver/pkg/storage/storagebackend"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	kubeapiservertesting "k8s.io/kubernetes/cmd/kube-apiserver/app/testing"
)

// Static credentials every server instance of a test accepts, so that a
// client keeps working across an API server restart (the test server's
// own loopback token changes with each instance).
const (
	AdminToken = "meshdns-test-admin-token"
	AdminUser  = "meshdns-test-admin"
)

// APIServer is one kube-apiserver instance on a shared etcd.
type APIServer struct {
	TS   *kubeapiservertesting.TestServer
	Addr string // host:port it serves on (127.0.0.1)
	once sync.Once
}

// Stop tears the server down; later calls do nothing.
func (s *APIServer) Stop() { s.once.Do(s.TS.TearDownFn) }

// Options describe the API servers of one test.
type Options struct {
	EtcdURL string
	Prefix  string   // etcd key prefix: the same prefix is the same cluster
	Flags   []string // extra kube-apiserver flags
	// ServiceAccounts keeps the ServiceAccount admission plugin, which
	// gives pods their API token volume (a kubelet needs it; the plain API
	// tests create pods without service accounts and disable it).
	ServiceAccounts bool
}

// StartAPIServer starts a kube-apiserver on etcd. The server serves the
// default service range (10.0.0.0/16, the API's own Service at 10.0.0.1,
// which its serving certificate names) plus an IPv6 one (dual-stack
// Services) and accepts AdminToken as a member of system:masters.
func StartAPIServer(t testing.TB, o Options) *APIServer {
	t.Helper()
	tokens := filepath.Join(t.TempDir(), "tokens.csv")
	if err := os.WriteFile(tokens, []byte(AdminToken+","+AdminUser+",meshdns-test-admin-uid,\"system:masters\"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	storage := storagebackend.NewDefaultConfig(o.Prefix, nil)
	storage.Transport.ServerList = []string{o.EtcdURL}
	flags := []string{
		"--endpoint-reconciler-type=none",
		"--service-cluster-ip-range=10.0.0.0/16,fd00:10::/108",
		"--token-auth-file=" + tokens,
		// The node manifests run privileged containers (the CNI installer),
		// as a cluster that runs any CNI plugin allows.
		"--allow-privileged=true",
	}
	if !o.ServiceAccounts {
		flags = append(flags, "--disable-admission-plugins=ServiceAccount")
	}
	flags = append(flags, o.Flags...)
	ts := kubeapiservertesting.StartTestServerOrDie(t,
		&kubeapiservertesting.TestServerInstanceOptions{EnableCertAuth: false, DisableInvariantChecks: true},
		flags, storage)
	s := &APIServer{TS: ts, Addr: mustHostPort(t, ts.ClientConfig.Host)}
	t.Cleanup(s.Stop)
	return s
}

func mustHostPort(t testing.TB, host string) string {
	t.Helper()
	u, err := url.Parse(host)
	if err != nil || u.Host == "" {
		t.Fatalf("server host %q: %v", host, err)
	}
	return u.Host
}

// AdminConfig is a client of addr authenticated with the static admin
// token. TLS is not verified: each server instance has its own serving
// certificate.
func AdminConfig(addr string) *rest.Config {
	return &rest.Config{
		Host:            "https://" + addr,
		BearerToken:     AdminToken,
		TLSClientConfig: rest.TLSClientConfig{Insecure: true},
		QPS:             1000,
		Burst:           1000,
		Timeout:         30 * time.Second,
	}
}

// WaitNamespace waits until the server's system namespaces controller has
// created ns (creating it if the server does not).
func WaitNamespace(t testing.TB, cs kubernetes.Interface, ns string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	for {
		_, err := cs.CoreV1().Namespaces().Get(ctx, ns, metav1.GetOptions{})
		if err == nil {
			return
		}
		if apierrors.IsNotFound(err) {
			_, cerr := cs.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}}, metav1.CreateOptions{})
			if cerr == nil || apierrors.IsAlreadyExists(cerr) {
				return
			}
			err = cerr
		}
		select {
		case <-ctx.Done():
			t.Fatalf("namespace %s: %v", ns, errors.Join(err, ctx.Err()))
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// RepoRoot is the meshdns repository root, found from dir (a package
// directory inside it) by walking up to the directory holding manifests/.
func RepoRoot(t testing.TB, dir string) string {
	t.Helper()
	d, err := filepath.Abs(dir)
	if err != nil {
		t.Fatal(err)
	}
	for {
		if _, err := os.Stat(filepath.Join(d, "manifests", "components")); err == nil {
			return d
		}
		up := filepath.Dir(d)
		if up == d {
			t.Fatalf("no repository root above %s", dir)
		}
		d = up
	}
}

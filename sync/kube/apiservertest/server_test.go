package apiservertest

import (
	"context"
	"errors"
	"io"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"go.etcd.io/etcd/server/v3/embed"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apiserver/pkg/storage/storagebackend"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	kubeapiservertesting "k8s.io/kubernetes/cmd/kube-apiserver/app/testing"
)

// startEtcd starts an embedded single-member etcd in a temporary directory
// and returns its client URL. It stops with the test.
func startEtcd(t *testing.T) string {
	t.Helper()
	cfg := embed.NewConfig()
	cfg.Name = "meshdns-test"
	cfg.Dir = t.TempDir()
	cfg.UnsafeNoFsync = true
	cfg.TickMs, cfg.ElectionMs = 10, 100
	cfg.LogLevel = "error"
	local := url.URL{Scheme: "http", Host: "127.0.0.1:0"}
	cfg.ListenClientUrls = []url.URL{local}
	cfg.AdvertiseClientUrls = []url.URL{local}
	cfg.ListenPeerUrls = []url.URL{local}
	cfg.AdvertisePeerUrls = []url.URL{local}
	cfg.InitialCluster = cfg.InitialClusterFromName(cfg.Name)
	e, err := embed.StartEtcd(cfg)
	if err != nil {
		t.Fatalf("etcd: %v", err)
	}
	select {
	case <-e.Server.ReadyNotify():
	case <-time.After(60 * time.Second):
		e.Close()
		t.Fatal("etcd not ready after 60 s")
	}
	t.Cleanup(e.Close)
	return "http://" + e.Clients[0].Addr().String()
}

// Static credentials every server instance of a test accepts, so that a
// client keeps working across an API server restart (the test server's
// own loopback token changes with each instance).
const (
	adminToken = "meshdns-test-admin-token"
	adminUser  = "meshdns-test-admin"
)

// apiServer is one kube-apiserver instance on a shared etcd.
type apiServer struct {
	ts   *kubeapiservertesting.TestServer
	addr string // host:port it serves on
	once sync.Once
}

func (s *apiServer) stop() { s.once.Do(s.ts.TearDownFn) }

// serverOptions describe the API servers of one test.
type serverOptions struct {
	etcdURL string
	prefix  string   // etcd key prefix: the same prefix is the same cluster
	flags   []string // extra kube-apiserver flags
}

// startAPIServer starts a kube-apiserver on etcd. The server serves the
// default service range plus an IPv6 one (dual-stack Services) and accepts
// adminToken as a member of system:masters.
func startAPIServer(t *testing.T, o serverOptions) *apiServer {
	t.Helper()
	tokens := filepath.Join(t.TempDir(), "tokens.csv")
	if err := os.WriteFile(tokens, []byte(adminToken+","+adminUser+",meshdns-test-admin-uid,\"system:masters\"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	storage := storagebackend.NewDefaultConfig(o.prefix, nil)
	storage.Transport.ServerList = []string{o.etcdURL}
	flags := append([]string{
		"--endpoint-reconciler-type=none",
		"--disable-admission-plugins=ServiceAccount",
		"--service-cluster-ip-range=10.0.0.0/16,fd00:10::/108",
		"--token-auth-file=" + tokens,
	}, o.flags...)
	ts := kubeapiservertesting.StartTestServerOrDie(t,
		&kubeapiservertesting.TestServerInstanceOptions{EnableCertAuth: false, DisableInvariantChecks: true},
		flags, storage)
	s := &apiServer{ts: ts, addr: mustHostPort(t, ts.ClientConfig.Host)}
	t.Cleanup(s.stop)
	return s
}

func mustHostPort(t *testing.T, host string) string {
	t.Helper()
	u, err := url.Parse(host)
	if err != nil || u.Host == "" {
		t.Fatalf("server host %q: %v", host, err)
	}
	return u.Host
}

// adminConfig is a client of addr authenticated with the static admin token.
// TLS is not verified: each server instance has its own serving certificate.
func adminConfig(addr string) *rest.Config {
	return &rest.Config{
		Host:            "https://" + addr,
		BearerToken:     adminToken,
		TLSClientConfig: rest.TLSClientConfig{Insecure: true},
		QPS:             1000,
		Burst:           1000,
		Timeout:         30 * time.Second,
	}
}

// proxy is a TCP forwarder with a fixed address in front of the API server,
// so a client keeps one address while the server behind it is replaced.
type proxy struct {
	ln      net.Listener
	backend atomic.Pointer[string]
	mu      sync.Mutex
	conns   map[net.Conn]struct{}
	accepts atomic.Int64
}

func startProxy(t *testing.T) *proxy {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	return startProxyOn(t, ln)
}

// startProxyOn serves a proxy on ln (which may live in another network
// namespace: the proxy dials its backend from the test's own namespace).
func startProxyOn(t *testing.T, ln net.Listener) *proxy {
	t.Helper()
	p := &proxy{ln: ln, conns: map[net.Conn]struct{}{}}
	go p.serve()
	t.Cleanup(func() { ln.Close(); p.cut() })
	return p
}

func (p *proxy) addr() string { return p.ln.Addr().String() }

// point sends new connections to backend ("" refuses them).
func (p *proxy) point(backend string) { p.backend.Store(&backend) }

// cut closes every open connection, as a dying server does.
func (p *proxy) cut() {
	p.mu.Lock()
	defer p.mu.Unlock()
	for c := range p.conns {
		c.Close()
	}
}

func (p *proxy) track(c net.Conn, add bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if add {
		p.conns[c] = struct{}{}
	} else {
		delete(p.conns, c)
	}
}

func (p *proxy) serve() {
	for {
		c, err := p.ln.Accept()
		if err != nil {
			return
		}
		p.accepts.Add(1)
		go p.forward(c)
	}
}

func (p *proxy) forward(c net.Conn) {
	defer c.Close()
	b := p.backend.Load()
	if b == nil || *b == "" {
		return
	}
	u, err := net.DialTimeout("tcp", *b, 5*time.Second)
	if err != nil {
		return
	}
	defer u.Close()
	p.track(c, true)
	p.track(u, true)
	defer p.track(c, false)
	defer p.track(u, false)
	done := make(chan struct{}, 2)
	go func() { _, _ = io.Copy(u, c); done <- struct{}{} }()
	go func() { _, _ = io.Copy(c, u); done <- struct{}{} }()
	<-done
}

// waitNamespace waits until the server's system namespaces controller has
// created ns.
func waitNamespace(t *testing.T, cs kubernetes.Interface, ns string) {
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

func repoRoot(t *testing.T) string {
	t.Helper()
	root, err := filepath.Abs("../../..")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(root, "manifests")); err != nil {
		t.Fatalf("repository root %s: %v", root, err)
	}
	return root
}

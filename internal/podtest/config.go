package podtest

import (
	"time"

	"github.com/meshdns/meshdns/internal/clusterdns"
)

// DefaultResolvConf is the pod's resolv.conf when Config.ResolvConf is
// empty: the upstream's IPv4 address as nameserver and a Kubernetes pod's
// search list in namespace "default" with ndots:5.
const DefaultResolvConf = "nameserver 198.18.0.1\n" +
	"search default.svc.cluster.local svc.cluster.local cluster.local\n" +
	"options ndots:5\n"

// Config describes a pod under test. The zero value needs only Objects.
type Config struct {
	// Objects is the objects file meshdns loads (--objects). Empty means
	// no --objects flag: Args then name the API server (--kubeconfig).
	Objects string
	// Args are more `meshdns run` flags, after --objects.
	Args []string
	// NoMeshdns builds the namespaces and the upstream only; start meshdns
	// later with Pod.StartMeshdns.
	NoMeshdns bool
	// ReadyTimeout bounds the wait for `msg=serving`; 0 means
	// DefaultReadyTimeout.
	ReadyTimeout time.Duration

	// ResolvConf is the pod's resolv.conf (/etc/netns/<pod>/resolv.conf);
	// empty means DefaultResolvConf.
	ResolvConf string
	// Prefix names the namespaces "mdt-<Prefix>-pod" and "mdt-<Prefix>-up";
	// empty means "pt<pid>-<random>", which later runs recognise and remove
	// if this process dies without cleaning up. Parallel tests need
	// distinct prefixes.
	Prefix string

	// Zone is the upstream's zone-file text; empty means
	// clusterdns.ExampleZone (external names, and decoy answers for the mesh
	// names of examples/objects.yaml).
	Zone string
	// Records adds upstream records by owner name (clusterdns.Config.Records).
	Records map[string][]string
	// Upstream, when set, is called with the upstream's Config before the
	// server is made, to change anything else (Marker, Delay, Mode).
	Upstream func(*clusterdns.Config)
}

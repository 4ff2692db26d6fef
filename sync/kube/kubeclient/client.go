package kubeclient

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"

	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/runtime/serializer"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/cache"

	"github.com/meshdns/meshdns/sync/kube/protoshrink"
)

// Resource is one of the resources meshdns lists and watches.
type Resource int

// The resources.
const (
	Services       Resource = iota // core/v1
	EndpointSlices                 // discovery.k8s.io/v1
	Pods                           // core/v1
	Namespaces                     // core/v1, cluster-scoped
)

// String is the resource's plural name in the API.
func (r Resource) String() string {
	switch r {
	case Services:
		return "services"
	case EndpointSlices:
		return "endpointslices"
	case Pods:
		return "pods"
	case Namespaces:
		return "namespaces"
	}
	return fmt.Sprintf("Resource(%d)", int(r))
}

// Object returns an empty object of the resource's type, the example an
// informer is built with.
func (r Resource) Object() runtime.Object {
	switch r {
	case Services:
		return &corev1.Service{}
	case EndpointSlices:
		return &discoveryv1.EndpointSlice{}
	case Pods:
		return &corev1.Pod{}
	case Namespaces:
		return &corev1.Namespace{}
	}
	return nil
}

// Interface is what meshdns reads the API server through.
type Interface interface {
	// ListWatch lists and watches r in namespace ("" for all namespaces
	// and for cluster-scoped resources), restricted by fieldSelector when
	// it is not empty.
	ListWatch(r Resource, namespace, fieldSelector string) cache.ListerWatcher
	// ServerResourcesForGroupVersion is the API server's discovery
	// document of one group version ("networking.istio.io/v1").
	ServerResourcesForGroupVersion(groupVersion string) (*metav1.APIResourceList, error)
}

// Client implements Interface for an API server.
type Client struct {
	core, discovery *rest.RESTClient
	// raw asks for discovery documents (JSON) by path.
	raw *rest.RESTClient
}

var _ Interface = (*Client)(nil)

// New returns a Client for the API server of rc. It does not contact the
// server.
func New(rc *rest.Config) (*Client, error) {
	hc, err := rest.HTTPClientFor(rc)
	if err != nil {
		return nil, fmt.Errorf("kubeclient: %w", err)
	}
	return NewForConfigAndClient(rc, hc)
}

// NewForConfigAndClient is New with the HTTP client its requests go
// through: the connections hc holds (one, over HTTP/2) are shared with
// whatever else uses hc.
func NewForConfigAndClient(rc *rest.Config, hc *http.Client) (*Client, error) {
	scheme := runtime.NewScheme()
	if err := corev1.AddToScheme(scheme); err != nil {
		return nil, err
	}
	if err := discoveryv1.AddToScheme(scheme); err != nil {
		return nil, err
	}
	// Services and EndpointSlices in protobuf decode straight into the
	// small form the source keeps (protoshrink).
	codecs := protoshrink.NewNegotiatedSerializer(serializer.NewCodecFactory(scheme).WithoutConversion())
	restFor := func(gv schema.GroupVersion, apiPath string, protobuf bool) (*rest.RESTClient, error) {
		c := rest.CopyConfig(rc)
		c.GroupVersion, c.APIPath, c.NegotiatedSerializer = &gv, apiPath, codecs
		if protobuf {
			c.AcceptContentTypes = "application/vnd.kubernetes.protobuf,application/json"
			c.ContentType = "application/vnd.kubernetes.protobuf"
		}
		if c.UserAgent == "" {
			c.UserAgent = rest.DefaultKubernetesUserAgent()
		}
		return rest.RESTClientForConfigAndClient(c, hc)
	}
	core, err := restFor(corev1.SchemeGroupVersion, "/api", true)
	if err != nil {
		return nil, fmt.Errorf("kubeclient: core/v1: %w", err)
	}
	disc, err := restFor(discoveryv1.SchemeGroupVersion, "/apis", true)
	if err != nil {
		return nil, fmt.Errorf("kubeclient: discovery.k8s.io/v1: %w", err)
	}
	raw, err := restFor(schema.GroupVersion{}, "", false)
	if err != nil {
		return nil, fmt.Errorf("kubeclient: discovery: %w", err)
	}
	return &Client{core: core, discovery: disc, raw: raw}, nil
}

// ListWatch implements Interface.
func (c *Client) ListWatch(r Resource, namespace, fieldSelector string) cache.ListerWatcher {
	rc := c.core
	if r == EndpointSlices {
		rc = c.discovery
	}
	return cache.NewFilteredListWatchFromClient(rc, r.String(), namespace, func(o *metav1.ListOptions) {
		if fieldSelector != "" {
			o.FieldSelector = fieldSelector
		}
	})
}

// ServerResourcesForGroupVersion implements Interface: GET
// /apis/<group>/<version> (/api/v1 for the core group).
func (c *Client) ServerResourcesForGroupVersion(groupVersion string) (*metav1.APIResourceList, error) {
	path := "/apis/" + groupVersion
	if groupVersion == "v1" {
		path = "/api/v1"
	}
	body, err := c.raw.Get().AbsPath(path).DoRaw(context.Background())
	if err != nil {
		return nil, err // a *StatusError: apierrors.IsNotFound and IsForbidden tell
	}
	var list metav1.APIResourceList
	if err := json.Unmarshal(body, &list); err != nil {
		return nil, fmt.Errorf("kubeclient: discovery of %s: %w", groupVersion, err)
	}
	if list.GroupVersion == "" {
		list.GroupVersion = groupVersion
	}
	return &list, nil
}

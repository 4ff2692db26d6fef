package model

import (
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
)

// ServiceEntryGroup is the API group of Istio's ServiceEntry.
const ServiceEntryGroup = "networking.istio.io"

// LabelAutoAllocate is the ServiceEntry label that turns automatic VIPs
// off for the entry when set to "false".
const LabelAutoAllocate = "networking.istio.io/enable-autoallocate-ip"

// Resolution values of a ServiceEntry (Istio's enum names).
const (
	ResolutionNone          = "NONE"
	ResolutionStatic        = "STATIC"
	ResolutionDNS           = "DNS"
	ResolutionDNSRoundRobin = "DNS_ROUND_ROBIN"
	ResolutionDynamicDNS    = "DYNAMIC_DNS"
)

// resolutionName maps Istio's enum numbers to names, for entries written
// with numbers.
func resolutionName(n int64) (string, bool) {
	switch n {
	case 0:
		return ResolutionNone, true
	case 1:
		return ResolutionStatic, true
	case 2:
		return ResolutionDNS, true
	case 3:
		return ResolutionDNSRoundRobin, true
	case 4:
		return ResolutionDynamicDNS, true
	}
	return "", false
}

// ServiceEntry holds the fields of an Istio networking.istio.io ServiceEntry
// (v1, v1beta1 or v1alpha3; they share one schema) that DNS needs.
type ServiceEntry struct {
	Namespace         string
	Name              string
	Labels            map[string]string
	CreationTimestamp time.Time
	// Hosts as written in spec.hosts.
	Hosts []string
	// Addresses as written in spec.addresses: IP addresses or CIDRs.
	Addresses []string
	// Resolution is the spec.resolution enum name, upper case; "" when
	// unset, which Istio reads as NONE.
	Resolution string
	Ports      []ServiceEntryPort
	// StatusAddresses are the addresses istiod (1.25+) allocated and wrote
	// to status.addresses.
	StatusAddresses []ServiceEntryAddress
}

// ServiceEntryPort is one entry of spec.ports.
type ServiceEntryPort struct {
	Number     uint32
	Protocol   string
	Name       string
	TargetPort uint32
}

// ServiceEntryAddress is one entry of status.addresses: an address istiod
// allocated for Host ("" for every host of the entry).
type ServiceEntryAddress struct {
	Value string
	Host  string
}

// String returns "namespace/name".
func (se *ServiceEntry) String() string { return se.Namespace + "/" + se.Name }

// resolutionNone reports whether the entry's resolution is NONE (or unset).
func (se *ServiceEntry) resolutionNone() bool {
	return se.Resolution == "" || se.Resolution == ResolutionNone
}

// IsServiceEntryGVK reports whether apiVersion and kind name an Istio
// ServiceEntry this package understands.
func IsServiceEntryGVK(apiVersion, kind string) bool {
	if kind != "ServiceEntry" {
		return false
	}
	g, v, ok := strings.Cut(apiVersion, "/")
	if !ok || g != ServiceEntryGroup {
		return false
	}
	// The versions Istio serves; they share one schema.
	return v == "v1" || v == "v1beta1" || v == "v1alpha3"
}

// ServiceEntryFromUnstructured converts an unstructured ServiceEntry. It
// fails on a wrong kind or API version, a missing name, or a field of the
// wrong shape; it does not judge values (host names, addresses), which
// Build checks and reports.
func ServiceEntryFromUnstructured(u *unstructured.Unstructured) (*ServiceEntry, error) {
	if u == nil || u.Object == nil {
		return nil, fmt.Errorf("ServiceEntry: empty object")
	}
	if !IsServiceEntryGVK(u.GetAPIVersion(), u.GetKind()) {
		return nil, fmt.Errorf("not a ServiceEntry: apiVersion %q kind %q", u.GetAPIVersion(), u.GetKind())
	}
	obj := u.Object
	se := &ServiceEntry{}
	var err error
	if se.Name, err = optString(obj, "metadata", "name"); err != nil {
		return nil, err
	}
	if se.Name == "" {
		return nil, fmt.Errorf("metadata.name: missing")
	}
	if se.Namespace, err = optString(obj, "metadata", "namespace"); err != nil {
		return nil, err
	}
	if v, ok, _ := unstructured.NestedFieldNoCopy(obj, "metadata", "labels"); ok && v != nil {
		m, ok := v.(map[string]any)
		if !ok {
			return nil, fmt.Errorf("metadata.labels: want a map, have %T", v)
		}
		se.Labels = make(map[string]string, len(m))
		for k, lv := range m {
			s, ok := lv.(string)
			if !ok {
				return nil, fmt.Errorf("metadata.labels.%s: want a string, have %T", k, lv)
			}
			se.Labels[k] = s
		}
	}
	ts, err := optString(obj, "metadata", "creationTimestamp")
	if err != nil {
		return nil, err
	}
	if ts != "" {
		t, err := time.Parse(time.RFC3339, ts)
		if err != nil {
			return nil, fmt.Errorf("metadata.creationTimestamp: %w", err)
		}
		se.CreationTimestamp = t.UTC()
	}
	if se.Hosts, err = optStrings(obj, "spec", "hosts"); err != nil {
		return nil, err
	}
	if se.Addresses, err = optStrings(obj, "spec", "addresses"); err != nil {
		return nil, err
	}
	if v, ok, _ := unstructured.NestedFieldNoCopy(obj, "spec", "resolution"); ok && v != nil {
		switch r := v.(type) {
		case string:
			se.Resolution = strings.ToUpper(r)
		case int64:
			name, ok := resolutionName(r)
			if !ok {
				return nil, fmt.Errorf("spec.resolution: unknown value %d", r)
			}
			se.Resolution = name
		case float64:
			name, ok := resolutionName(int64(r))
			if !ok || r != math.Trunc(r) {
				return nil, fmt.Errorf("spec.resolution: unknown value %v", r)
			}
			se.Resolution = name
		default:
			return nil, fmt.Errorf("spec.resolution: want a string, have %T", v)
		}
	}
	ports, err := optMaps(obj, "spec", "ports")
	if err != nil {
		return nil, err
	}
	for i, p := range ports {
		var sp ServiceEntryPort
		if sp.Number, err = optPort(p, fmt.Sprintf("spec.ports[%d].number", i), "number"); err != nil {
			return nil, err
		}
		if sp.TargetPort, err = optPort(p, fmt.Sprintf("spec.ports[%d].targetPort", i), "targetPort"); err != nil {
			return nil, err
		}
		if sp.Name, err = optString(p, "name"); err != nil {
			return nil, fmt.Errorf("spec.ports[%d]: %w", i, err)
		}
		if sp.Protocol, err = optString(p, "protocol"); err != nil {
			return nil, fmt.Errorf("spec.ports[%d]: %w", i, err)
		}
		se.Ports = append(se.Ports, sp)
	}
	addrs, err := optMaps(obj, "status", "addresses")
	if err != nil {
		return nil, err
	}
	for i, a := range addrs {
		var sa ServiceEntryAddress
		if sa.Value, err = optString(a, "value"); err != nil {
			return nil, fmt.Errorf("status.addresses[%d]: %w", i, err)
		}
		if sa.Host, err = optString(a, "host"); err != nil {
			return nil, fmt.Errorf("status.addresses[%d]: %w", i, err)
		}
		se.StatusAddresses = append(se.StatusAddresses, sa)
	}
	return se, nil
}

// optField reads an optional field of type T (kind names it in errors: "a
// string"); null counts as absent. present is false when it is absent.
func optField[T any](obj map[string]any, kind string, path ...string) (v T, present bool, err error) {
	f, ok, err := unstructured.NestedFieldNoCopy(obj, path...)
	if err != nil {
		return v, false, fmt.Errorf("%s: %w", strings.Join(path, "."), err)
	}
	if !ok || f == nil {
		return v, false, nil
	}
	v, ok = f.(T)
	if !ok {
		return v, false, fmt.Errorf("%s: want %s, have %T", strings.Join(path, "."), kind, f)
	}
	return v, true, nil
}

// optString reads an optional string field; null counts as absent.
func optString(obj map[string]any, path ...string) (string, error) {
	s, _, err := optField[string](obj, "a string", path...)
	return s, err
}

// optStrings reads an optional list of strings.
func optStrings(obj map[string]any, path ...string) ([]string, error) {
	return optList[string](obj, "a string", path...)
}

// optMaps reads an optional list of objects.
func optMaps(obj map[string]any, path ...string) ([]map[string]any, error) {
	return optList[map[string]any](obj, "an object", path...)
}

// optList reads an optional list whose every element is a T (kind names
// it in errors); nil when the list is absent.
func optList[T any](obj map[string]any, kind string, path ...string) ([]T, error) {
	l, present, err := optField[[]any](obj, "a list", path...)
	if err != nil || !present {
		return nil, err
	}
	out := make([]T, 0, len(l))
	for i, e := range l {
		v, ok := e.(T)
		if !ok {
			return nil, fmt.Errorf("%s[%d]: want %s, have %T", strings.Join(path, "."), i, kind, e)
		}
		out = append(out, v)
	}
	return out, nil
}

// optPort reads an optional port number (0 to 65535; 0 when absent).
func optPort(obj map[string]any, what, field string) (uint32, error) {
	v, ok := obj[field]
	if !ok || v == nil {
		return 0, nil
	}
	var n int64
	switch x := v.(type) {
	case int64:
		n = x
	case float64:
		if x != math.Trunc(x) || x < 0 || x > 65535 {
			return 0, fmt.Errorf("%s: %v is not a port number", what, x)
		}
		n = int64(x)
	case string:
		// Istio's CRD accepts numbers only, but be kind to quoted ones.
		p, err := strconv.ParseUint(x, 10, 16)
		if err != nil {
			return 0, fmt.Errorf("%s: %q is not a port number", what, x)
		}
		n = int64(p)
	default:
		return 0, fmt.Errorf("%s: want a number, have %T", what, v)
	}
	if n < 0 || n > 65535 {
		return 0, fmt.Errorf("%s: %d is not a port number", what, n)
	}
	return uint32(n), nil
}

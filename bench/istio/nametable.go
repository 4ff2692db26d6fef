package main

import (
	"bytes"
	"fmt"
	"io"
	"net/netip"
	"sort"
	"strings"

	dnsProto "istio.io/istio/pkg/dns/proto"
	"sigs.k8s.io/yaml"
)

// Registry names as istiod writes them into NameTable_NameInfo.Registry
// (pilot/pkg/serviceregistry/provider).
const (
	registryKubernetes = "Kubernetes"
	registryExternal   = "External"
)

// object is the subset of Service, EndpointSlice, ServiceEntry and List that
// the name table needs.
type object struct {
	APIVersion string `json:"apiVersion"`
	Kind       string `json:"kind"`
	Metadata   struct {
		Name      string            `json:"name"`
		Namespace string            `json:"namespace"`
		Labels    map[string]string `json:"labels"`
	} `json:"metadata"`
	Items []object `json:"items"`

	// Service and ServiceEntry spec fields share one struct; each kind
	// reads its own.
	Spec struct {
		// Service
		Type                     string   `json:"type"`
		ClusterIP                string   `json:"clusterIP"`
		ClusterIPs               []string `json:"clusterIPs"`
		PublishNotReadyAddresses bool     `json:"publishNotReadyAddresses"`
		Ports                    []struct {
			Port int `json:"port"`
			// ServiceEntry ports use "number".
			Number int `json:"number"`
		} `json:"ports"`
		// ServiceEntry
		Hosts      []string `json:"hosts"`
		Addresses  []string `json:"addresses"`
		Resolution string   `json:"resolution"`
	} `json:"spec"`

	// EndpointSlice
	AddressType string `json:"addressType"`
	Endpoints   []struct {
		Addresses  []string `json:"addresses"`
		Hostname   string   `json:"hostname"`
		Conditions struct {
			Ready *bool `json:"ready"`
		} `json:"conditions"`
	} `json:"endpoints"`
}

// objects holds the decoded objects by kind.
type objects struct {
	services       []object
	slices         []object
	serviceEntries []object
}

// parseObjects reads a List or a stream of documents separated by "---".
func parseObjects(r io.Reader) (*objects, error) {
	data, err := io.ReadAll(r)
	if err != nil {
		return nil, err
	}
	out := &objects{}
	for i, doc := range splitDocuments(data) {
		var o object
		if err := yaml.Unmarshal(doc, &o); err != nil {
			return nil, fmt.Errorf("document %d: %w", i+1, err)
		}
		out.add(o)
	}
	return out, nil
}

func (o *objects) add(obj object) {
	switch obj.Kind {
	case "List", "ServiceList", "EndpointSliceList", "ServiceEntryList":
		for _, it := range obj.Items {
			o.add(it)
		}
	case "Service":
		o.services = append(o.services, obj)
	case "EndpointSlice":
		o.slices = append(o.slices, obj)
	case "ServiceEntry":
		o.serviceEntries = append(o.serviceEntries, obj)
	}
}

// splitDocuments splits a YAML stream at lines that are exactly "---".
func splitDocuments(data []byte) [][]byte {
	var docs [][]byte
	var cur bytes.Buffer
	flush := func() {
		if len(bytes.TrimSpace(cur.Bytes())) > 0 {
			docs = append(docs, append([]byte(nil), cur.Bytes()...))
		}
		cur.Reset()
	}
	for _, line := range bytes.SplitAfter(data, []byte("\n")) {
		if string(bytes.TrimRight(line, " \t\r\n")) == "---" {
			flush()
			continue
		}
		cur.Write(line)
	}
	flush()
	return docs
}

func validIP(s string) bool {
	_, err := netip.ParseAddr(s)
	return err == nil
}

// buildNameTable mirrors istiod's pkg/dns/server.BuildNameTable for a proxy
// whose Sidecar scope sees every namespace, in one cluster and one network:
//   - a Service with cluster IPs: its FQDN with the IPs, Registry Kubernetes,
//     Shortname and Namespace set (the agent derives name.ns, name.ns.svc and,
//     in its own namespace, name);
//   - a headless Service with ports: its FQDN with the ready endpoint IPs
//     (all endpoints with publishNotReadyAddresses), and for every endpoint
//     with a hostname "hostname.svc.ns.svc.<domain>" with Shortname
//     "hostname.svc";
//   - a ServiceEntry host with IP addresses: the host (wildcards as written),
//     Registry External; entries without addresses are skipped (istiod would
//     need auto-allocation, which the benchmark objects do not rely on).
//
// A Kubernetes service wins over a ServiceEntry for the same host; addresses
// of several ServiceEntries for the same host are merged.
func buildNameTable(objs *objects, clusterDomain string) *dnsProto.NameTable {
	nt := &dnsProto.NameTable{Table: map[string]*dnsProto.NameTable_NameInfo{}}

	ready := map[string][]object{} // ns/service -> slices
	for _, s := range objs.slices {
		svc := s.Metadata.Labels["kubernetes.io/service-name"]
		if svc == "" {
			continue
		}
		k := s.Metadata.Namespace + "/" + svc
		ready[k] = append(ready[k], s)
	}

	// ServiceEntries first so that Kubernetes services take precedence
	// exactly as BuildNameTable's merge rule does.
	for _, se := range objs.serviceEntries {
		var addrs []string
		for _, a := range se.Spec.Addresses {
			if validIP(a) {
				addrs = append(addrs, a)
			}
		}
		if len(addrs) == 0 {
			continue
		}
		for _, h := range se.Spec.Hosts {
			h = strings.ToLower(strings.TrimSuffix(h, "."))
			if ni, ok := nt.Table[h]; ok {
				ni.Ips = append(ni.Ips, addrs...)
				continue
			}
			nt.Table[h] = &dnsProto.NameTable_NameInfo{Ips: append([]string(nil), addrs...), Registry: registryExternal}
		}
	}

	for _, svc := range objs.services {
		ns, name := svc.Metadata.Namespace, svc.Metadata.Name
		if ns == "" {
			ns = "default"
		}
		if svc.Spec.Type == "ExternalName" {
			continue // no address: istiod leaves it out of the table
		}
		host := name + "." + ns + ".svc." + clusterDomain
		var addrs []string
		headless := svc.Spec.ClusterIP == "None"
		if !headless {
			ips := svc.Spec.ClusterIPs
			if len(ips) == 0 && svc.Spec.ClusterIP != "" {
				ips = []string{svc.Spec.ClusterIP}
			}
			for _, ip := range ips {
				if validIP(ip) {
					addrs = append(addrs, ip)
				}
			}
		} else if len(svc.Spec.Ports) > 0 {
			perHost := map[string][]string{}
			for _, sl := range ready[ns+"/"+name] {
				for _, ep := range sl.Endpoints {
					if len(ep.Addresses) == 0 {
						continue
					}
					ok := true
					for _, a := range ep.Addresses {
						ok = ok && validIP(a)
					}
					isReady := ep.Conditions.Ready == nil || *ep.Conditions.Ready
					if !ok || (!svc.Spec.PublishNotReadyAddresses && !isReady) {
						continue
					}
					if ep.Hostname != "" {
						h := ep.Hostname + "." + host
						perHost[h] = append(perHost[h], ep.Addresses...)
					}
					addrs = append(addrs, ep.Addresses...)
				}
			}
			for h, ips := range perHost {
				short := strings.TrimSuffix(h, "."+ns+".svc."+clusterDomain)
				nt.Table[h] = &dnsProto.NameTable_NameInfo{Ips: ips, Registry: registryKubernetes, Namespace: ns, Shortname: short}
			}
		}
		if len(addrs) == 0 {
			continue
		}
		nt.Table[host] = &dnsProto.NameTable_NameInfo{Ips: addrs, Registry: registryKubernetes, Namespace: ns, Shortname: name}
	}
	return nt
}

// hostCount returns the number of hosts and addresses in the table, sorted
// hosts first, for the start-up log line and the tests.
func hostNames(nt *dnsProto.NameTable) []string {
	out := make([]string, 0, len(nt.Table))
	for h := range nt.Table {
		out = append(out, h)
	}
	sort.Strings(out)
	return out
}

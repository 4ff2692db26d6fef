package modeltest

import (
	"encoding/json"
	"io"
	"time"

	"github.com/meshdns/meshdns/sync/model"
)

// WriteJSON writes objs as a JSON stream of objects, the format
// `meshdns run --objects` reads.
func WriteJSON(w io.Writer, objs *model.Objects) error {
	enc := json.NewEncoder(w)
	for _, s := range objs.Services {
		c := *s
		c.APIVersion, c.Kind = "v1", "Service"
		if err := enc.Encode(&c); err != nil {
			return err
		}
	}
	for _, s := range objs.EndpointSlices {
		c := *s
		c.APIVersion, c.Kind = "discovery.k8s.io/v1", "EndpointSlice"
		if err := enc.Encode(&c); err != nil {
			return err
		}
	}
	for _, se := range objs.ServiceEntries {
		if err := enc.Encode(serviceEntryJSON(se)); err != nil {
			return err
		}
	}
	return nil
}

func serviceEntryJSON(se *model.ServiceEntry) map[string]any {
	meta := map[string]any{"namespace": se.Namespace, "name": se.Name}
	if len(se.Labels) > 0 {
		meta["labels"] = se.Labels
	}
	if !se.CreationTimestamp.IsZero() {
		meta["creationTimestamp"] = se.CreationTimestamp.UTC().Format(time.RFC3339)
	}
	spec := map[string]any{"hosts": se.Hosts}
	if len(se.Addresses) > 0 {
		spec["addresses"] = se.Addresses
	}
	if se.Resolution != "" {
		spec["resolution"] = se.Resolution
	}
	var ports []map[string]any
	for _, p := range se.Ports {
		ports = append(ports, map[string]any{"number": p.Number, "name": p.Name, "protocol": p.Protocol})
	}
	if len(ports) > 0 {
		spec["ports"] = ports
	}
	out := map[string]any{"apiVersion": "networking.istio.io/v1", "kind": "ServiceEntry", "metadata": meta, "spec": spec}
	if len(se.StatusAddresses) > 0 {
		var st []map[string]any
		for _, a := range se.StatusAddresses {
			st = append(st, map[string]any{"value": a.Value, "host": a.Host})
		}
		out["status"] = map[string]any{"addresses": st}
	}
	return out
}

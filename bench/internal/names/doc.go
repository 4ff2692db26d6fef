// Package names generates the benchmark's name set: the Kubernetes objects
// every contender loads (Services, some headless with EndpointSlices, Istio
// ServiceEntries), the hosts file the upstream server answers from (the same
// mesh names plus external names only the upstream knows), and the query
// lists of the workloads.
//
// All record data lies in 198.19.0.0/16 and fd53:96::/64 (inside the
// benchmark address range, never routed anywhere: nothing connects to these
// addresses, they are only answers). The same Config and seed give the same
// set byte for byte.
package names

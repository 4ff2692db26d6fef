// Package dnsperf builds DNS-OARC dnsperf command lines for the full-load
// runs and parses dnsperf's statistics report. Running it (inside the pod
// namespace) is the harness's job.
package dnsperf

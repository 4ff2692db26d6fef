// Package tcpattack holds the attacks on meshdns's DNS-over-TCP state that
// its hardening defends against, run as a process of a pod would run them:
// from inside the pod's network namespace, against the pod's nameserver.
// The chaos suite runs them to bound meshdns's memory under attack; node
// mode's flood-isolation benchmark runs them from one pod while measuring
// its neighbour. Each attack runs for a duration and reports what it did,
// so a test can check that it really happened.
package tcpattack

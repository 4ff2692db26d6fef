// Package cniplugin is meshdns-cni, a chained CNI plugin: on ADD it installs
// meshdns's capture rules (nfq's, with --queue-bypass) inside the pod's new
// network namespace, before any container of the pod starts, tells the node
// agent over its UNIX socket (podevent), and passes the previous plugin's
// result through; on DEL it removes the rules (a namespace already gone is
// not an error) and tells the agent. An agent that is down never fails a
// pod: the bypass keeps the pod's DNS on the normal path, and the agent
// recovers the pod when it starts.
package cniplugin

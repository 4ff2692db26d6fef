// Package podevent is how meshdns-cni tells the node agent about a pod
// network namespace: one JSON Event per connection over a UNIX socket on the
// node, answered by one JSON Reply. Send is the plugin's side; Server the
// agent's. A line is at most MaxLine bytes and a connection lives at most
// Timeout, whatever the peer sends.
package podevent

// Command meshdns-cni is meshdns's chained CNI plugin for node mode (see
// node/cniplugin): the container runtime runs it after the main plugin on
// ADD and DEL of every pod network namespace.
package main

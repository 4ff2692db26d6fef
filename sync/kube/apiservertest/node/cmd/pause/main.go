// Command pause is the real-node tests' pod sandbox image: a static
// program that holds the pod's namespaces by sleeping until it is told to
// stop, as registry.k8s.io/pause does.
package main

import (
	"os"
	"os/signal"
	"syscall"
)

func main() {
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, syscall.SIGTERM, syscall.SIGINT)
	<-sig
}

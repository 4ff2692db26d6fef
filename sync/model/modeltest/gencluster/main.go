// Command gencluster writes the objects file of a generated cluster
// (modeltest.ScaleCluster) for `meshdns run --objects`:
//
//	go run ./sync/model/modeltest/gencluster -services 10000 > cluster.json
//
// -controllers adds the fields the controllers write (modeltest's
// ClusterConfig.Controllers), as a file exported with kubectl has them.
package main

import (
	"bufio"
	"flag"
	"fmt"
	"os"

	"github.com/meshdns/meshdns/sync/model/modeltest"
)

func main() {
	services := flag.Int("services", 10000, "Services (10 endpoints each, every 10th headless, 100 ServiceEntries)")
	controllers := flag.Bool("controllers", false, "fill in what Kubernetes's controllers write and DNS does not read, as `kubectl get -o yaml` shows it (owners, labels, node, zone, Pod references)")
	flag.Parse()
	c := modeltest.ScaleCluster(*services)
	c.Controllers = *controllers
	w := bufio.NewWriter(os.Stdout)
	err := modeltest.WriteJSON(w, modeltest.Cluster(c))
	if err == nil {
		err = w.Flush()
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "gencluster:", err)
		os.Exit(1)
	}
}

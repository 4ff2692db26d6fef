// Command gencluster writes the objects file of a generated cluster
// (modeltest.ScaleCluster) for `meshdns run --objects`:
//
//	go run ./sync/model/modeltest/gencluster -services 10000 > cluster.json
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
	flag.Parse()
	w := bufio.NewWriter(os.Stdout)
	err := modeltest.WriteJSON(w, modeltest.Cluster(modeltest.ScaleCluster(*services)))
	if err == nil {
		err = w.Flush()
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "gencluster:", err)
		os.Exit(1)
	}
}

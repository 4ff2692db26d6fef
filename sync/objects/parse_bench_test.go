package objects

import (
	"bytes"
	"fmt"
	"testing"

	"github.com/meshdns/meshdns/sync/model/modeltest"
)

// BenchmarkParseScale parses the objects file of the scale cluster
// (modeltest.ScaleCluster, as gencluster writes it: one JSON document per
// object) at 1,000, 3,000 and 10,000 Services. Linear in the file's size:
// ns/op and ns/doc stay level as it grows (it was quadratic while each
// document's line was counted from the start of the file).
func BenchmarkParseScale(b *testing.B) {
	for _, services := range []int{1000, 3000, 10000} {
		var file bytes.Buffer
		if err := modeltest.WriteJSON(&file, modeltest.Cluster(modeltest.ScaleCluster(services))); err != nil {
			b.Fatal(err)
		}
		b.Run(fmt.Sprintf("services=%d", services), func(b *testing.B) {
			b.SetBytes(int64(file.Len()))
			var docs int
			for b.Loop() {
				_, st, err := parseData(file.Bytes(), "scale.json")
				if err != nil {
					b.Fatal(err)
				}
				docs = st.Documents
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/float64(docs), "ns/doc")
		})
	}
}

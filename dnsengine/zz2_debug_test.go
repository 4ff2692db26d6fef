package dnsengine_test

import (
	"testing"

	"github.com/meshdns/meshdns/dnsengine"
	"github.com/meshdns/meshdns/sync/model"
	"github.com/meshdns/meshdns/sync/model/modeltest"
)

func TestZZSizes(t *testing.T) {
	objs := modeltest.Cluster(modeltest.IssueCluster(1000))
	opts := model.DefaultOptions()
	tab, _, _ := model.Build(objs, opts)
	t.Log(dnsengine.DebugSizes(tab), tab.Stats())
}

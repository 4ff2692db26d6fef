package model

import (
	"testing"

	corev1 "k8s.io/api/core/v1"
)

// TestObjectPool: the objects a pool hands out after reset are zero
// (unpacking appends a Service's ports to those already there), each
// handed out once between resets, and a pool grown past smallScratch is
// dropped.
func TestObjectPool(t *testing.T) {
	var p objectPool[corev1.Service]
	a, b := p.get(), p.get()
	if a == b {
		t.Fatal("one object handed out twice")
	}
	a.Name, a.Spec.Ports = "a", []corev1.ServicePort{{Port: 80}}
	p.reset()
	if x := p.get(); x != a || x.Name != "" || x.Spec.Ports != nil {
		t.Errorf("after reset: %p %+v, want %p zeroed", x, x, a)
	}
	for range smallScratch + 1 {
		p.get()
	}
	p.reset()
	if p.xs != nil {
		t.Errorf("a pool of %d objects kept", smallScratch+2)
	}
}

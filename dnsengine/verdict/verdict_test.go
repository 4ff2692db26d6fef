package verdict_test

import (
	"strings"
	"testing"

	"github.com/meshdns/meshdns/dnsengine/verdict"
)

// TestReasons: every reason has a name of its own, and the reasons of
// class tcp are TCP reasons (observe's result label; TestResultOf there
// holds the whole table).
func TestReasons(t *testing.T) {
	seen := map[string]bool{}
	for i := range verdict.NumReasons {
		r := verdict.Reason(i)
		n := r.String()
		if n == "unknown" || seen[n] {
			t.Errorf("reason %d: name %q", i, n)
		}
		seen[n] = true
		if r.Class() == verdict.ClassTCP && !strings.HasPrefix(n, "tcp_") {
			t.Errorf("%v: class tcp", r)
		}
		if r.Answered() != (r.Class() != verdict.ClassPassed && r.Class() != verdict.ClassTCP) {
			t.Errorf("%v: Answered %v, class %v", r, r.Answered(), r.Class())
		}
	}
	if verdict.Reason(verdict.NumReasons).String() != "unknown" {
		t.Error("a reason past NumReasons has a name")
	}
}

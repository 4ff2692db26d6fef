package nodetest

import (
	"os"
	"testing"

	"github.com/meshdns/meshdns/internal/podtest"
)

func TestMain(m *testing.M) {
	// A child process of a benchmark (flood_child_test.go).
	if spec := os.Getenv(fixedRateEnv); spec != "" {
		os.Exit(runFixedRate(spec))
	}
	podtest.Main(m)
}

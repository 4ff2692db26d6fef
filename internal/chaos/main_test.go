package chaos_test

import (
	"flag"
	"testing"

	"github.com/meshdns/meshdns/internal/podtest"
)

// longFlag selects the long form of every scenario (as MESHDNS_CHAOS_LONG=1).
var longFlag = flag.Bool("chaos.long", false, "run the long form of the reliability suite (make chaos)")

func TestMain(m *testing.M) { podtest.Main(m) }

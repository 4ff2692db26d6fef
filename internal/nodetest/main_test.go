package nodetest

import (
	"testing"

	"github.com/meshdns/meshdns/internal/podtest"
)

func TestMain(m *testing.M) { podtest.Main(m) }

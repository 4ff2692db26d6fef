package clusterdns

import (
	"log/slog"
	"time"
)

// DefaultTTL is the TTL of records that do not set one. meshdns never
// answers with it, so it marks an answer as the upstream's.
const DefaultTTL = 7

// MarkerName owns the TXT record Config.Marker adds to every response, and
// MarkerText is its text.
const (
	MarkerName = "answered-by.meshdns-upstream."
	MarkerText = "meshdns-upstream"
)

// Config describes a Server.
type Config struct {
	// Zone is zone-file (RFC 1035 master file) text. Relative names are
	// relative to Origin; $ORIGIN and $TTL directives work; $INCLUDE does
	// not.
	Zone string
	// Origin is the origin of Zone; empty means the root.
	Origin string
	// Records adds records by owner name: each value is the rest of a
	// zone-file line, "[TTL] TYPE RDATA", e.g. "A 198.19.0.10" or
	// "60 TXT \"hello\"". Names are absolute whether or not they end in ".".
	Records map[string][]string
	// TTL is the TTL of records that do not set one; 0 means DefaultTTL.
	TTL uint32

	// Delay holds every answer back this long (SetDelay changes it later).
	Delay time.Duration
	// Mode says how queries are treated (SetMode changes it later); the
	// zero value answers them.
	Mode Mode
	// Marker adds a TXT record MarkerName "meshdns-upstream" to the
	// additional section of every response.
	Marker bool

	// Logger receives one debug line per query and the server's start and
	// stop. Nil discards them.
	Logger *slog.Logger
}

package main

import (
	"log/slog"
	"runtime/debug"
	"time"

	"github.com/meshdns/meshdns/dnsengine"
	"github.com/meshdns/meshdns/observe"
	"github.com/meshdns/meshdns/sync/model"
)

// tableStore builds a table from each set of objects a source delivers and
// publishes it to the engine's registry. Builds run on the source's
// goroutine, never on the packet path.
type tableStore struct {
	reg  *dnsengine.AtomicRegistry
	opts model.Options
	log  *slog.Logger
	obs  *observe.Observer // nil until the observer exists; it counts builds and failures
}

// update builds and publishes; on failure the previous table keeps serving.
func (s *tableStore) update(objs *model.Objects) {
	start := time.Now()
	opts := s.opts
	opts.Serial = uint32(start.Unix())
	t, rep, err := model.Build(objs, opts)
	if err != nil {
		if s.obs != nil {
			s.obs.TableBuildFailed(err)
		}
		s.log.Error("name table not rebuilt; the previous one keeps serving", "err", err)
		return
	}
	const maxLogged = 20
	for i, p := range rep.Problems {
		if i == maxLogged {
			s.log.Warn("more objects skipped", "count", len(rep.Problems)-maxLogged)
			break
		}
		s.log.Warn("object skipped", "problem", p.String())
	}
	s.reg.Store(t)
	// The objects and the previous table are garbage now, many times the
	// size of the table: give their memory back at once rather than at the
	// background scavenger's pace, so the steady RSS is the table's.
	debug.FreeOSMemory()
	st := t.Stats()
	s.log.Info("name table loaded",
		"names", st.Names, "records", st.Records, "wildcards", st.Wildcards,
		"services", rep.Services.Loaded, "endpointslices", rep.EndpointSlices.Loaded,
		"serviceentries", rep.ServiceEntries.Loaded, "auto_vips", rep.AutoVIPs,
		"skipped", len(rep.Problems), "build", time.Since(start).Round(time.Microsecond))
	if s.obs != nil {
		s.obs.TableStored(t)
	}
}

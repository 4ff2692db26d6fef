package main

import (
	"log/slog"
	"os"
	"runtime/debug"
	"time"

	"github.com/meshdns/meshdns/dnsengine"
	"github.com/meshdns/meshdns/observe"
	"github.com/meshdns/meshdns/sync/model"
)

// tableStore brings the table up to date with each set of objects (or
// delta) a source delivers and publishes it to the engine's registry.
// With the API server as source a change rebuilds only the Services it
// touches (model.Incremental), which keeps the objects packed (what
// the model reads of them, sync/model/packed_codec.go). The objects file is reloaded whole on a change, and
// its objects are decoded whole: each load is one model.Build, and the
// objects are garbage once it is done. Updates run on the source's
// goroutine, never on the packet path.
type tableStore struct {
	reg  *dnsengine.AtomicRegistry
	inc  *model.Incremental // nil: whole builds
	opts model.Options
	log  *slog.Logger
	obs  *observe.Observer // nil until the observer exists; it counts builds and failures
	// logged: the problems of the last update, so that a delta logs only
	// new ones.
	logged map[string]bool
	// loaded puts back the garbage collector's target once the first
	// complete table is stored (loadgc.go).
	loaded func()
	// stored, when set, is handed each table published (queryfilter.go);
	// it must not block.
	stored func(*dnsengine.Table)
}

// publish hands t to the engine, then to stored.
func (s *tableStore) publish(t *dnsengine.Table) {
	s.reg.Store(t)
	if s.stored != nil {
		s.stored(t)
	}
}

func (s *tableStore) remember(ps []model.Problem) {
	s.logged = make(map[string]bool, len(ps))
	for _, p := range ps {
		s.logged[p.String()] = true
	}
}

// newTableStore returns a store publishing to reg, incremental or not.
func newTableStore(reg *dnsengine.AtomicRegistry, opts model.Options, log *slog.Logger, incremental bool) (*tableStore, error) {
	s := &tableStore{reg: reg, opts: opts, log: log}
	if incremental {
		inc, err := model.NewIncremental(opts)
		if err != nil {
			return nil, err
		}
		s.inc = inc
	}
	s.loaded = tightenGC(os.Getenv, log)
	return s, nil
}

// update applies and publishes; on failure the previous table keeps
// serving.
func (s *tableStore) update(objs *model.Objects) {
	start := time.Now()
	var t *dnsengine.Table
	var rep model.Report
	var err error
	if s.inc != nil {
		t, rep, err = s.inc.Apply(objs, uint32(start.Unix()))
	} else {
		opts := s.opts
		opts.Serial = uint32(start.Unix())
		t, rep, err = model.Build(objs, opts)
	}
	if err != nil {
		if s.obs != nil {
			s.obs.TableBuildFailed(err)
		}
		s.log.Error("name table not rebuilt; the previous one keeps serving", "err", err)
		return
	}
	complete := objs == nil || objs.Changes == nil
	if !complete {
		// A delta: cheap and frequent. Only problems not seen before
		// are logged.
		for _, p := range rep.Problems {
			if l := p.String(); !s.logged[l] {
				s.log.Warn("object skipped", "problem", l)
			}
		}
		s.remember(rep.Problems)
		s.publish(t)
		s.log.Debug("name table updated", "changed", objs.Len(), "groups", t.Groups(), "update", time.Since(start).Round(time.Microsecond))
		if s.obs != nil {
			s.obs.TableStored(t)
		}
		return
	}
	s.remember(rep.Problems)
	const maxLogged = 20
	for i, p := range rep.Problems {
		if i == maxLogged {
			s.log.Warn("more objects skipped", "count", len(rep.Problems)-maxLogged)
			break
		}
		s.log.Warn("object skipped", "problem", p.String())
	}
	s.publish(t)
	s.loaded()
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

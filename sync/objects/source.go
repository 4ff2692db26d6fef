package objects

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"sync"
	"time"

	"github.com/meshdns/meshdns/sync/model"
)

// DefaultInterval is how often Source looks at the file by default when
// inotify is not available.
const DefaultInterval = time.Second

// racyWindow: a file modified this close to (or after) the moment it was
// read may change again without a visible change of size or modification
// time (coarse timestamps), so it is reread until it is older.
const racyWindow = 2 * time.Second

// Config configures a Source.
type Config struct {
	// Path of the objects file.
	Path string
	// Interval between looks at the file when it cannot be watched with
	// inotify. Default: DefaultInterval.
	Interval time.Duration
	// Logger receives reloads (info) and broken replacements (error).
	// Nil discards.
	Logger *slog.Logger
}

// SourceStats counts a Source's work.
type SourceStats struct {
	// Loads counts successful loads, the first one included.
	Loads uint64
	// Errors counts replacements that could not be read or parsed (each
	// distinct content once) and disappearances of the file.
	Errors uint64
	// LastError is the last of those errors, nil once a load succeeds.
	LastError error
	// Reads counts the times the whole file was read into memory to be
	// parsed. A look at a file that may have changed hashes it as it
	// streams, and reads it only when the hash differs.
	Reads uint64
	// Parse holds the counts of the last successful parse.
	Parse Stats
}

// Source is a model.Source that loads the objects file and reloads it
// when it changes.
type Source struct {
	cfg Config
	log *slog.Logger

	// Used by Run's goroutine only.
	prev    os.FileInfo // the file as last read
	readAt  time.Time   // when it was last read
	hash    [sha256.Size]byte
	badHash [sha256.Size]byte // content that failed to parse
	bad     bool
	missing bool
	now     func() time.Time

	mu    sync.Mutex
	stats SourceStats
}

var _ model.Source = (*Source)(nil)

// NewSource returns a Source for cfg.
func NewSource(cfg Config) (*Source, error) {
	if cfg.Path == "" {
		return nil, errors.New("objects: no file path")
	}
	if cfg.Interval < 0 {
		return nil, fmt.Errorf("objects: negative interval %v", cfg.Interval)
	}
	if cfg.Interval == 0 {
		cfg.Interval = DefaultInterval
	}
	log := cfg.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Source{cfg: cfg, log: log.With("file", cfg.Path), now: time.Now}, nil
}

// Stats returns a snapshot of the counters. It is safe to call from any
// goroutine.
func (s *Source) Stats() SourceStats {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.stats
}

// Run loads the file and calls update with its objects, then looks at the
// file every interval and calls update again whenever its content changes
// and parses. It returns an error if the first load fails, and nil when
// ctx is done.
//
// After Load, Run does not load the file again: it only looks for changes
// since then.
func (s *Source) Run(ctx context.Context, update func(*model.Objects)) error {
	if s.prev == nil {
		objs, err := s.first()
		if err != nil {
			return err
		}
		update(objs)
	}
	w, err := newWatcher(s.cfg.Path)
	if err != nil {
		s.log.Warn("objects file not watched; polling it instead", "err", err, "interval", s.cfg.Interval)
		return s.runPolling(ctx, update)
	}
	defer w.close()
	// Events come while a writer is still at it (a write in place
	// truncates first): the file is looked at once they have been quiet
	// for watchQuiet.
	quiet := time.NewTimer(time.Hour)
	quiet.Stop()
	defer quiet.Stop()
	// A change between the load and the watch raised no event: its
	// writer may still be at it too, so the file is looked at as after
	// an event, not at once (that read a file truncated and not yet
	// written again: an update without its objects).
	if s.statChanged() {
		quiet.Reset(watchQuiet)
	}
	stop := context.AfterFunc(ctx, func() { w.close() })
	defer stop()
	// A file read while still inside the racy window is looked at again
	// once it has left it: a change within the same timestamp tick may
	// have raised its event before the read.
	racy := time.NewTimer(time.Hour)
	defer racy.Stop()
	armRacy := func() {
		racy.Stop()
		if s.prev != nil {
			if d := time.Until(s.prev.ModTime().Add(racyWindow + 100*time.Millisecond)); d > 0 {
				racy.Reset(d)
			}
		}
	}
	armRacy()
	events := make(chan error)
	done := make(chan struct{})
	defer close(done)
	go func() {
		for {
			err := w.wait()
			select {
			case events <- err:
			case <-done:
				return
			}
			if err != nil {
				return
			}
		}
	}()
	for {
		select {
		case <-ctx.Done():
			return nil
		case err := <-events:
			if err != nil {
				if ctx.Err() != nil {
					return nil
				}
				s.log.Warn("objects file watch failed; polling it instead", "err", err, "interval", s.cfg.Interval)
				return s.runPolling(ctx, update)
			}
			w.rewatch()
			quiet.Reset(watchQuiet)
			continue
		case <-quiet.C:
		case <-racy.C:
		}
		if objs := s.poll(); objs != nil {
			update(objs)
		}
		armRacy()
	}
}

// watchQuiet is how long the file's events must pause before it is read.
const watchQuiet = 200 * time.Millisecond

// runPolling looks at the file every Interval until ctx is done.
func (s *Source) runPolling(ctx context.Context, update func(*model.Objects)) error {
	t := time.NewTicker(s.cfg.Interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
			if objs := s.poll(); objs != nil {
				update(objs)
			}
		}
	}
}

// Load loads the file for the first time, before Run (which then does not
// load it again): a caller that needs the objects before it starts Run
// reads the file once.
func (s *Source) Load() (*model.Objects, error) { return s.first() }

// first loads the file for the first time.
func (s *Source) first() (*model.Objects, error) {
	fi, err := os.Stat(s.cfg.Path)
	if err != nil {
		return nil, fmt.Errorf("objects: %w", err)
	}
	data, h, err := s.read()
	if err != nil {
		return nil, fmt.Errorf("objects: %w", err)
	}
	objs, err := s.parse(fi, data, h)
	if err != nil {
		return nil, err
	}
	return objs, nil
}

// statChanged reports whether the file is not the one last read, by
// what stat says (missing, another inode, another size or time).
func (s *Source) statChanged() bool {
	fi, err := os.Stat(s.cfg.Path)
	return err != nil || s.prev == nil || !os.SameFile(s.prev, fi) || fi.Size() != s.prev.Size() || !fi.ModTime().Equal(s.prev.ModTime())
}

// poll looks at the file once and returns new objects if its content
// changed and parses, nil otherwise.
func (s *Source) poll() *model.Objects {
	fi, err := os.Stat(s.cfg.Path)
	if err != nil {
		if !s.missing {
			s.missing = true
			s.fail(fmt.Errorf("objects file unavailable, keeping the previous objects: %w", err))
		}
		return nil
	}
	s.missing = false
	if s.prev != nil && os.SameFile(s.prev, fi) && fi.Size() == s.prev.Size() &&
		fi.ModTime().Equal(s.prev.ModTime()) && fi.ModTime().Before(s.readAt.Add(-racyWindow)) {
		return nil
	}
	// The content is hashed as it streams first: a file looked at again
	// unchanged (a fresh file's racy window, a touch, a rewrite of the
	// same bytes) costs no copy of it in memory, so it leaves the steady
	// RSS alone.
	h, err := hashFile(s.cfg.Path)
	if err != nil {
		s.fail(fmt.Errorf("objects file unreadable, keeping the previous objects: %w", err))
		return nil
	}
	if h == s.hash || s.bad && h == s.badHash {
		s.prev, s.readAt = fi, s.now()
		return nil
	}
	data, h, err := s.read() // h: what is parsed, if the file changed again
	if err != nil {
		s.fail(fmt.Errorf("objects file unreadable, keeping the previous objects: %w", err))
		return nil
	}
	objs, err := s.parse(fi, data, h)
	if err != nil {
		s.prev, s.readAt = fi, s.now()
		s.bad, s.badHash = true, h
		s.fail(fmt.Errorf("keeping the previous objects: %w", err))
		return nil
	}
	return objs
}

// read reads the whole file into memory, to be parsed (readFile), and
// returns the hash of its bytes as they are in the file.
func (s *Source) read() ([]byte, [sha256.Size]byte, error) {
	data, h, err := readFile(s.cfg.Path)
	if err == nil {
		s.mu.Lock()
		s.stats.Reads++
		s.mu.Unlock()
	}
	return data, h, err
}

// parse parses data (whose hash is h) read from a file described by fi
// and records it as the current content.
func (s *Source) parse(fi os.FileInfo, data []byte, h [sha256.Size]byte) (*model.Objects, error) {
	readAt := s.now()
	objs, st, err := parseData(data, s.cfg.Path)
	if err != nil {
		return nil, err
	}
	s.prev, s.readAt, s.hash, s.bad = fi, readAt, h, false
	s.mu.Lock()
	s.stats.Loads++
	s.stats.LastError = nil
	s.stats.Parse = st
	s.mu.Unlock()
	s.log.Info("objects loaded", "services", st.Services, "endpointslices", st.EndpointSlices,
		"serviceentries", st.ServiceEntries, "skipped", st.SkippedTotal())
	for kind, n := range st.Skipped {
		s.log.Debug("objects skipped", "kind", kind, "count", n)
	}
	return objs, nil
}

func (s *Source) fail(err error) {
	s.mu.Lock()
	s.stats.Errors++
	s.stats.LastError = err
	s.mu.Unlock()
	s.log.Error("objects reload failed", "err", err)
}

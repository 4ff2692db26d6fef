package objects

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/meshdns/meshdns/sync/model"
)

// svcYAML is an objects file with one service; names of equal length give
// files of equal size.
func svcYAML(name string) string {
	return fmt.Sprintf("apiVersion: v1\nkind: Service\nmetadata: {name: %s, namespace: default}\nspec: {clusterIP: 10.96.0.1}\n", name)
}

type fileFixture struct {
	t    *testing.T
	path string
}

// write replaces the file's content in place and sets its modification time.
func (f fileFixture) write(content string, mtime time.Time) {
	f.t.Helper()
	if err := os.WriteFile(f.path, []byte(content), 0o644); err != nil {
		f.t.Fatal(err)
	}
	f.touch(mtime)
}

func (f fileFixture) touch(mtime time.Time) {
	f.t.Helper()
	if err := os.Chtimes(f.path, mtime, mtime); err != nil {
		f.t.Fatal(err)
	}
}

func svcName(t *testing.T, o *model.Objects) string {
	t.Helper()
	if o == nil {
		t.Fatal("no objects")
	}
	if len(o.Services) != 1 {
		t.Fatalf("%d services", len(o.Services))
	}
	return o.Services[0].Name
}

func TestSourcePoll(t *testing.T) {
	f := fileFixture{t, filepath.Join(t.TempDir(), "objects.yaml")}
	base := time.Now().Add(-time.Hour).Truncate(time.Second)
	f.write(svcYAML("aa"), base)

	s, err := NewSource(Config{Path: f.path})
	if err != nil {
		t.Fatal(err)
	}
	objs, err := s.first()
	if err != nil {
		t.Fatal(err)
	}
	if svcName(t, objs) != "aa" {
		t.Fatal("first load")
	}
	// reads: the times the file was read whole into memory; a look that
	// finds the content unchanged only hashes it.
	step := func(what string, want string, loads, errs, reads uint64) {
		t.Helper()
		got := s.poll()
		if want == "" && got != nil {
			t.Errorf("%s: unexpected update %v", what, got.Services)
		}
		if want != "" && (got == nil || svcName(t, got) != want) {
			t.Errorf("%s: want an update with %s, got %v", what, want, got)
		}
		if st := s.Stats(); st.Loads != loads || st.Errors != errs || st.Reads != reads {
			t.Errorf("%s: loads %d errors %d reads %d, want %d %d %d", what, st.Loads, st.Errors, st.Reads, loads, errs, reads)
		}
	}
	step("unchanged", "", 1, 0, 1)
	f.write(svcYAML("bb"), base.Add(time.Minute))
	step("changed", "bb", 2, 0, 2)
	f.touch(base.Add(2 * time.Minute))
	step("touched, same content: hashed, not read", "", 2, 0, 2)
	f.write("apiVersion: v1\nkind: Service\nmetadata: {name: x}\nspec: {ports: nope}\n", base.Add(3*time.Minute))
	step("broken", "", 2, 1, 3)
	if err := s.Stats().LastError; err == nil || !strings.Contains(err.Error(), "document 1 (line 1) (Service x)") {
		t.Errorf("LastError %v does not locate the problem", err)
	}
	f.touch(base.Add(4 * time.Minute))
	step("same broken content again: reported once, not read", "", 2, 1, 3)
	f.write(svcYAML("cc"), base.Add(5*time.Minute))
	step("repaired", "cc", 3, 1, 4)
	if s.Stats().LastError != nil {
		t.Error("LastError not cleared by a good load")
	}

	// Replaced by rename with the same size and time: a different file.
	tmp := f.path + ".tmp"
	if err := os.WriteFile(tmp, []byte(svcYAML("dd")), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Chtimes(tmp, base.Add(5*time.Minute), base.Add(5*time.Minute)); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(tmp, f.path); err != nil {
		t.Fatal(err)
	}
	step("renamed over", "dd", 4, 1, 5)

	if err := os.Remove(f.path); err != nil {
		t.Fatal(err)
	}
	step("removed", "", 4, 2, 5)
	step("still removed: reported once", "", 4, 2, 5)
	f.write(svcYAML("ee"), base.Add(6*time.Minute))
	step("back", "ee", 5, 2, 6)
}

// TestSourceRacy: a rewrite that keeps size and modification time is still
// seen while the file is recent enough for that to hide a change.
func TestSourceRacy(t *testing.T) {
	f := fileFixture{t, filepath.Join(t.TempDir(), "objects.yaml")}
	mtime := time.Now().Truncate(time.Second)
	f.write(svcYAML("aa"), mtime)
	s, err := NewSource(Config{Path: f.path})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.first(); err != nil {
		t.Fatal(err)
	}
	// Still in the window and unchanged (a file written just before
	// meshdns started, as a ConfigMap volume's is): looked at again, but
	// only hashed, not read into memory.
	if got := s.poll(); got != nil {
		t.Fatalf("unchanged file: update %v", got.Services)
	}
	if r := s.Stats().Reads; r != 1 {
		t.Fatalf("an unchanged file in the racy window was read whole again: %d reads, want 1", r)
	}
	f.write(svcYAML("bb"), mtime)
	if got := s.poll(); got == nil || svcName(t, got) != "bb" {
		t.Fatalf("same size and time, new content: got %v", got)
	}
	// Once the file is older than the window, an unchanged stat is trusted.
	s.readAt = mtime.Add(racyWindow + time.Second)
	f.write(svcYAML("cc"), mtime)
	if got := s.poll(); got != nil {
		t.Fatalf("an old file with an unchanged stat was reread: %v", got.Services)
	}
}

// newFileSource writes a file with one Service called name and returns a
// Source of it that would poll only hourly.
func newFileSource(t *testing.T, name string) (*Source, string) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "objects.yaml")
	if err := os.WriteFile(path, []byte(svcYAML(name)), 0o644); err != nil {
		t.Fatal(err)
	}
	s, err := NewSource(Config{Path: path, Interval: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	return s, path
}

// runSource runs s in the background; the names of the Services of its
// updates arrive on the channel, and stop ends Run and returns its error.
func runSource(t *testing.T, s *Source) (names <-chan string, stop func() error) {
	ctx, cancel := context.WithCancel(context.Background())
	got := make(chan string, 10)
	done := make(chan error, 1)
	go func() { done <- s.Run(ctx, func(o *model.Objects) { got <- svcName(t, o) }) }()
	t.Cleanup(cancel)
	return got, func() error { cancel(); return <-done }
}

// nextName waits for the next update's name.
func nextName(t *testing.T, names <-chan string, step string) string {
	t.Helper()
	select {
	case name := <-names:
		return name
	case <-time.After(10 * time.Second):
		t.Fatalf("%s: no update within 10 s (poll interval 1 h)", step)
		return ""
	}
}

func TestSourceRun(t *testing.T) {
	s, _ := newFileSource(t, "aa")
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var got []*model.Objects
	err := s.Run(ctx, func(o *model.Objects) {
		got = append(got, o)
		cancel()
	})
	if err != nil {
		t.Fatalf("Run: %v", err)
	}
	if len(got) != 1 || svcName(t, got[0]) != "aa" {
		t.Fatalf("updates: %v", got)
	}
	if st := s.Stats(); st.Loads != 1 || st.Parse.Services != 1 {
		t.Errorf("stats %+v", st)
	}

	missing, err := NewSource(Config{Path: filepath.Join(t.TempDir(), "none.yaml")})
	if err != nil {
		t.Fatal(err)
	}
	if err := missing.Run(context.Background(), func(*model.Objects) { t.Error("update without a file") }); err == nil {
		t.Error("Run on a missing file: no error")
	}
	broken := filepath.Join(t.TempDir(), "broken.yaml")
	if err := os.WriteFile(broken, []byte("kind: [\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	bs, _ := NewSource(Config{Path: broken})
	if err := bs.Run(context.Background(), func(*model.Objects) { t.Error("update from a broken file") }); err == nil || !strings.Contains(err.Error(), broken) {
		t.Errorf("Run on a broken file: %v", err)
	}
}

func TestNewSource(t *testing.T) {
	if _, err := NewSource(Config{}); err == nil {
		t.Error("no path accepted")
	}
	if _, err := NewSource(Config{Path: "x", Interval: -time.Second}); err == nil {
		t.Error("negative interval accepted")
	}
	s, err := NewSource(Config{Path: "x"})
	if err != nil || s.cfg.Interval != DefaultInterval {
		t.Errorf("default interval: %v %v", s, err)
	}
}

// TestSourceWatch: with a poll interval of an hour, changes reach update
// within seconds through inotify: a write in place, a replacement by
// rename (what editors and kubectl cp do), and the symlink swap of a
// Kubernetes ConfigMap volume.
func TestSourceWatch(t *testing.T) {
	dir := t.TempDir()
	data := func(name string) string { return filepath.Join(dir, name) }
	write := func(path, name string) {
		t.Helper()
		if err := os.WriteFile(path, []byte(svcYAML(name)), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	// The ConfigMap layout: objects.yaml -> ..data/objects.yaml,
	// ..data -> ..v1.
	if err := os.Mkdir(data("..v1"), 0o755); err != nil {
		t.Fatal(err)
	}
	write(data("..v1/objects.yaml"), "aa")
	if err := os.Symlink("..v1", data("..data")); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink("..data/objects.yaml", data("objects.yaml")); err != nil {
		t.Fatal(err)
	}
	s, err := NewSource(Config{Path: data("objects.yaml"), Interval: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	got, stop := runSource(t, s)
	expect := func(step, want string) {
		t.Helper()
		if name := nextName(t, got, step); name != want {
			t.Fatalf("%s: loaded %q, want %q", step, name, want)
		}
	}
	expect("first load", "aa")

	// In place, through both symlinks.
	write(data("..v1/objects.yaml"), "bb")
	expect("write in place", "bb")

	// The ConfigMap update: a new directory, ..data swapped by rename.
	if err := os.Mkdir(data("..v2"), 0o755); err != nil {
		t.Fatal(err)
	}
	write(data("..v2/objects.yaml"), "cc")
	if err := os.Symlink("..v2", data("..data_tmp")); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(data("..data_tmp"), data("..data")); err != nil {
		t.Fatal(err)
	}
	expect("ConfigMap symlink swap", "cc")

	// A write in place into the new target: the file's watch followed.
	write(data("..v2/objects.yaml"), "dd")
	expect("write in place after the swap", "dd")
	if err := stop(); err != nil {
		t.Fatalf("Run: %v", err)
	}
}

// TestSourceLoadThenRun: after Load, Run reads the file no more unless it
// changes (no second update with the same objects at start), and a change
// made between Load and Run still arrives.
func TestSourceLoadThenRun(t *testing.T) {
	s, path := newFileSource(t, "aa")
	objs, err := s.Load()
	if err != nil || svcName(t, objs) != "aa" {
		t.Fatalf("Load: %v %v", objs, err)
	}
	if err := os.WriteFile(path+".new", []byte(svcYAML("bbb")), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(path+".new", path); err != nil {
		t.Fatal(err)
	}
	got, stop := runSource(t, s)
	if name := nextName(t, got, "the change made between Load and Run"); name != "bbb" {
		t.Fatalf("first update after Load: %q, want the changed file's bbb", name)
	}
	if err := stop(); err != nil {
		t.Fatal(err)
	}
	if st := s.Stats(); st.Loads != 2 {
		t.Errorf("%d loads, want 2 (Load, then the change)", st.Loads)
	}
}

// TestSourceWriterAtStart: a file being written in place when Run starts
// (truncated after Load, its content 50 ms later) is read once its writer
// is done, not in between: no update without its objects.
func TestSourceWriterAtStart(t *testing.T) {
	s, path := newFileSource(t, "aa")
	if _, err := s.Load(); err != nil {
		t.Fatal(err)
	}
	if err := os.Truncate(path, 0); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	got := make(chan int, 10)
	done := make(chan error, 1)
	go func() { done <- s.Run(ctx, func(o *model.Objects) { got <- len(o.Services) }) }()
	time.Sleep(50 * time.Millisecond)
	if err := os.WriteFile(path, []byte(svcYAML("bb")), 0o644); err != nil {
		t.Fatal(err)
	}
	select {
	case n := <-got:
		if n != 1 {
			t.Fatalf("first update after the write with %d Services, want 1 (the file read while its writer was at it)", n)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("no update within 10 s")
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
}

// TestSourceJSONUnchanged: a JSON file, read without its blanks, is
// remembered by the hash of its bytes as they are in the file: touched,
// it is hashed and found the same, not read and loaded again.
func TestSourceJSONUnchanged(t *testing.T) {
	f := fileFixture{t, filepath.Join(t.TempDir(), "objects.json")}
	base := time.Now().Add(-time.Hour).Truncate(time.Second)
	f.write("{\n    \"apiVersion\": \"v1\",\n    \"kind\": \"Service\",\n    \"metadata\": {\"name\": \"aa\", \"namespace\": \"default\"},\n    \"spec\": {\"clusterIP\": \"10.96.0.1\"}\n}\n", base)
	s, err := NewSource(Config{Path: f.path})
	if err != nil {
		t.Fatal(err)
	}
	if objs, err := s.first(); err != nil || svcName(t, objs) != "aa" {
		t.Fatalf("first load: %v", err)
	}
	f.touch(base.Add(time.Minute))
	if got := s.poll(); got != nil {
		t.Fatalf("touched, same content: update %v", got.Services)
	}
	if st := s.Stats(); st.Loads != 1 || st.Reads != 1 {
		t.Errorf("loads %d reads %d, want 1 1", st.Loads, st.Reads)
	}
}

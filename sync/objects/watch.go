package objects

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"golang.org/x/sys/unix"
)

// watcher tells when the objects file may have changed, from inotify: no
// timer, so an idle meshdns is not woken to look at an unchanged file.
// It watches the file's directory (replacement by rename, the symlink swap
// of a Kubernetes ConfigMap volume, deletion and re-creation) and the file
// itself through its symlinks (writes in place, also to a target in another
// directory).
type watcher struct {
	f    *os.File // the inotify descriptor, read through the netpoller
	path string
	buf  []byte
}

// Events of the directory and of the file that may change what the path
// reads.
const (
	watchDirMask  = unix.IN_CREATE | unix.IN_DELETE | unix.IN_MOVED_FROM | unix.IN_MOVED_TO | unix.IN_CLOSE_WRITE | unix.IN_MODIFY | unix.IN_ATTRIB | unix.IN_DELETE_SELF | unix.IN_MOVE_SELF
	watchFileMask = unix.IN_MODIFY | unix.IN_CLOSE_WRITE | unix.IN_ATTRIB | unix.IN_DELETE_SELF | unix.IN_MOVE_SELF
)

// newWatcher watches path.
func newWatcher(path string) (*watcher, error) {
	fd, err := unix.InotifyInit1(unix.IN_NONBLOCK | unix.IN_CLOEXEC)
	if err != nil {
		return nil, fmt.Errorf("inotify: %w", err)
	}
	w := &watcher{f: os.NewFile(uintptr(fd), "inotify"), path: path, buf: make([]byte, 4096)}
	if _, err := unix.InotifyAddWatch(fd, filepath.Dir(path), watchDirMask); err != nil {
		w.close()
		return nil, fmt.Errorf("inotify watch of %s: %w", filepath.Dir(path), err)
	}
	w.rewatch()
	return w, nil
}

// rewatch (re)adds the watch of the file itself: after a replacement the
// path names a new inode. A missing file is left to the directory's watch.
func (w *watcher) rewatch() {
	unix.InotifyAddWatch(int(w.f.Fd()), w.path, watchFileMask)
}

// wait blocks until events arrive (and reads them all) or the watcher is
// closed (os.ErrClosed). The events themselves do not matter: the caller
// looks at the file.
func (w *watcher) wait() error {
	n, err := w.f.Read(w.buf)
	if err != nil {
		return err
	}
	if n == 0 {
		return errors.New("inotify: end of events")
	}
	return nil
}

// close stops the watcher; a wait in progress returns.
func (w *watcher) close() error { return w.f.Close() }

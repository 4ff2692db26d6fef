package nsproc

import (
	"io"
	"strings"
	"sync"
)

// output collects a program's stdout and stderr: the text kept for Logs
// (its end, when keep > 0), a copy to Config.Output, each line to
// Config.Line and to the ready check; waiters wake on each write.
type output struct {
	keep  int
	copy  io.Writer
	line  func(string)
	check func(string)

	mu      sync.Mutex
	b       strings.Builder
	partial string        // the current line, not yet ended
	changed chan struct{} // closed and replaced on each write
}

func (o *output) Write(p []byte) (int, error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.copy != nil {
		o.copy.Write(p)
	}
	o.b.Write(p)
	if o.keep > 0 && o.b.Len() > 2*o.keep {
		s := o.b.String()
		o.b.Reset()
		o.b.WriteString(s[len(s)-o.keep:])
	}
	o.partial += string(p)
	for {
		i := strings.IndexByte(o.partial, '\n')
		if i < 0 {
			break
		}
		o.emit(o.partial[:i])
		o.partial = o.partial[i+1:]
	}
	if o.partial != "" {
		o.check(o.partial)
		if o.keep > 0 && len(o.partial) > o.keep {
			o.partial = o.partial[len(o.partial)-o.keep:]
		}
	}
	close(o.changed)
	o.changed = make(chan struct{})
	return len(p), nil
}

func (o *output) emit(line string) {
	o.check(line)
	if o.line != nil {
		o.line(line)
	}
}

// flush hands on a last line without a newline; the program has exited.
func (o *output) flush() {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.partial != "" {
		o.emit(o.partial)
		o.partial = ""
	}
}

// snapshot returns the text so far and a channel closed at the next write.
func (o *output) snapshot() (string, <-chan struct{}) {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.b.String(), o.changed
}

func (o *output) String() string {
	s, _ := o.snapshot()
	return s
}

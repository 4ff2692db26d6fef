package podevent

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"net"
	"os"
	"sync"
)

// MaxConns bounds the exchanges served at once; more wait in the kernel's
// backlog (a CNI plugin retries within its own timeout).
const MaxConns = 16

// Handler acts on one event; its error is sent back to the plugin, and
// ErrNotCaptured as a reply that tells it to leave the pod alone.
type Handler func(ctx context.Context, e Event) error

// Server serves events on a UNIX socket.
type Server struct {
	ln  net.Listener
	h   Handler
	log *slog.Logger
	wg  sync.WaitGroup
}

// Listen creates the socket at path (replacing a stale one) with mode 0600.
func Listen(path string, h Handler, log *slog.Logger) (*Server, error) {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	if err := os.Remove(path); err != nil && !errors.Is(err, os.ErrNotExist) {
		return nil, err
	}
	ln, err := net.Listen("unix", path)
	if err != nil {
		return nil, err
	}
	if err := os.Chmod(path, 0o600); err != nil {
		ln.Close()
		return nil, err
	}
	return &Server{ln: ln, h: h, log: log}, nil
}

// Serve answers events until ctx is done, then closes the socket and waits
// for the exchanges in flight.
func (s *Server) Serve(ctx context.Context) error {
	stop := context.AfterFunc(ctx, func() { s.ln.Close() })
	defer stop()
	sem := make(chan struct{}, MaxConns)
	defer s.wg.Wait()
	for {
		c, err := s.ln.Accept()
		if err != nil {
			if ctx.Err() != nil {
				return nil
			}
			return err
		}
		sem <- struct{}{}
		s.wg.Add(1)
		go func() {
			defer func() { <-sem; s.wg.Done() }()
			s.serve(ctx, c)
		}()
	}
}

func (s *Server) serve(ctx context.Context, c net.Conn) {
	defer c.Close()
	_ = c.SetDeadline(deadline())
	r := bufio.NewReaderSize(c, MaxLine)
	line, err := r.ReadSlice('\n')
	reply := Reply{OK: true}
	var e Event
	switch {
	case err != nil:
		reply = Reply{Error: "reading the event: " + err.Error()}
	case json.Unmarshal(line, &e) != nil:
		reply = Reply{Error: "malformed event"}
	default:
		if err := e.Check(); err != nil {
			reply = Reply{Error: err.Error()}
		} else if err := s.h(ctx, e); errors.Is(err, ErrNotCaptured) {
			reply = Reply{OK: true, Ignored: true}
		} else if err != nil {
			reply = Reply{Error: err.Error()}
		}
	}
	if !reply.OK {
		s.log.Warn("pod event refused", "op", e.Op, "pod", e.Namespace+"/"+e.Name, "err", reply.Error)
	}
	b, _ := json.Marshal(reply)
	_, _ = c.Write(append(b, '\n'))
}

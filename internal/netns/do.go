package netns

import (
	"context"
	"errors"
	"fmt"
	"net"
	"path/filepath"
	"runtime"
	"strings"

	"golang.org/x/sys/unix"
)

// Path returns the file that names namespace ns: /run/netns/<ns>, or ns
// itself when it contains a '/' (e.g. /proc/<pid>/ns/net).
func Path(ns string) string {
	if strings.Contains(ns, "/") {
		return ns
	}
	return filepath.Join(RunDir, ns)
}

// Do runs fn on an OS thread switched into network namespace ns and switches
// the thread back afterwards. Sockets fn creates belong to ns for their whole
// life. Only fn's own goroutine is in ns: goroutines it starts are not, so
// fn must create its sockets itself (and dial literal addresses, so the net
// package does not race several connects on other threads).
//
// If the thread cannot be switched back it is left locked, and the Go
// runtime ends it instead of reusing it. A panic in fn is re-raised in the
// caller's goroutine.
func Do(ns string, fn func() error) error {
	target, err := unix.Open(Path(ns), unix.O_RDONLY|unix.O_CLOEXEC, 0)
	if err != nil {
		return fmt.Errorf("netns: open %s: %w", Path(ns), err)
	}
	defer unix.Close(target)

	type outcome struct {
		err      error
		panicked bool
		value    any
	}
	done := make(chan outcome, 1)
	go func() {
		runtime.LockOSThread()
		orig, err := unix.Open("/proc/thread-self/ns/net", unix.O_RDONLY|unix.O_CLOEXEC, 0)
		if err != nil {
			runtime.UnlockOSThread()
			done <- outcome{err: fmt.Errorf("netns: open own namespace: %w", err)}
			return
		}
		defer unix.Close(orig)
		if err := unix.Setns(target, unix.CLONE_NEWNET); err != nil {
			runtime.UnlockOSThread()
			done <- outcome{err: fmt.Errorf("netns: enter %s: %w", ns, err)}
			return
		}
		var out outcome
		func() {
			defer func() {
				if v := recover(); v != nil {
					out.panicked, out.value = true, v
				}
			}()
			out.err = fn()
		}()
		if err := unix.Setns(orig, unix.CLONE_NEWNET); err != nil {
			// Stay locked: the thread dies with this goroutine.
			out.err = errors.Join(out.err, fmt.Errorf("netns: return from %s: %w", ns, err))
			done <- out
			return
		}
		runtime.UnlockOSThread()
		done <- out
	}()
	out := <-done
	if out.panicked {
		panic(out.value)
	}
	return out.err
}

// ListenUDP opens a UDP socket inside ns bound to address (a literal
// "ip:port"; network "udp", "udp4" or "udp6").
func ListenUDP(ns, network, address string) (*net.UDPConn, error) {
	var c *net.UDPConn
	err := Do(ns, func() error {
		var lc net.ListenConfig
		pc, err := lc.ListenPacket(context.Background(), network, address)
		if err != nil {
			return err
		}
		c = pc.(*net.UDPConn)
		return nil
	})
	return c, err
}

// ListenTCP opens a TCP listener inside ns bound to address (a literal
// "ip:port"; network "tcp", "tcp4" or "tcp6").
func ListenTCP(ns, network, address string) (*net.TCPListener, error) {
	var l *net.TCPListener
	err := Do(ns, func() error {
		var lc net.ListenConfig
		ln, err := lc.Listen(context.Background(), network, address)
		if err != nil {
			return err
		}
		l = ln.(*net.TCPListener)
		return nil
	})
	return l, err
}

// Dial connects from inside ns to address, which must be a literal
// "ip:port". The connection stays in ns.
func Dial(ctx context.Context, ns, network, address string) (net.Conn, error) {
	return DialWith(ctx, &net.Dialer{}, ns, network, address)
}

// DialWith is Dial with d's settings (its Control function, keep-alive).
func DialWith(ctx context.Context, d *net.Dialer, ns, network, address string) (net.Conn, error) {
	var c net.Conn
	err := Do(ns, func() error {
		conn, err := d.DialContext(ctx, network, address)
		c = conn
		return err
	})
	return c, err
}

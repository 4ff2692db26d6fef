package loadgen

import (
	"errors"
	"fmt"
	"net"
	"net/netip"
	"sync"

	"github.com/meshdns/meshdns/internal/netns"
	"golang.org/x/sys/unix"
)

// Dialer makes the connected UDP socket of one lookup. It is called from
// many goroutines at once.
type Dialer interface {
	DialUDP(server netip.AddrPort) (*net.UDPConn, error)
}

// LocalDialer dials in the caller's network namespace.
type LocalDialer struct{}

// DialUDP implements Dialer.
func (LocalDialer) DialUDP(server netip.AddrPort) (*net.UDPConn, error) {
	return net.DialUDP("udp", nil, net.UDPAddrFromAddrPort(server))
}

// poolSize is how many fresh sockets a NamespaceDialer keeps ready per
// address family.
const poolSize = 64

// NamespaceDialer dials from inside a network namespace. A goroutine per
// address family, locked to an OS thread switched into the namespace
// (netns.Do), keeps a few fresh unbound sockets ready; DialUDP takes one and
// connects it, which works from any thread: a socket belongs to the
// namespace it was made in. Every lookup still gets a new socket (and so a
// new source port), as with libc resolvers. Close it when done.
type NamespaceDialer struct {
	ns    string
	stop  chan struct{}
	once  [2]sync.Once
	pools [2]chan *net.UDPConn // IPv4, IPv6
	errs  [2]chan error        // each filler's end, kept for later callers
	wg    sync.WaitGroup       // fillers running

	closeOnce sync.Once
	closeErr  error
}

// NewNamespaceDialer returns a dialer for the named network namespace (a
// name under /run/netns or a path such as /proc/<pid>/ns/net). It checks
// that the namespace can be entered.
func NewNamespaceDialer(ns string) (*NamespaceDialer, error) {
	if err := netns.Do(ns, func() error { return nil }); err != nil {
		return nil, fmt.Errorf("loadgen: %w", err)
	}
	d := &NamespaceDialer{ns: ns, stop: make(chan struct{})}
	for i := range d.pools {
		d.pools[i] = make(chan *net.UDPConn, poolSize)
		d.errs[i] = make(chan error, 1)
	}
	return d, nil
}

// fill runs inside the namespace and keeps pool full until stop.
func (d *NamespaceDialer) fill(fam int) {
	defer d.wg.Done()
	network, laddr := "udp4", "0.0.0.0:0"
	if fam == 1 {
		network, laddr = "udp6", "[::]:0"
	}
	d.errs[fam] <- netns.Do(d.ns, func() error {
		for {
			a, _ := net.ResolveUDPAddr(network, laddr) // a literal: no lookup
			c, err := net.ListenUDP(network, a)
			if err != nil {
				return err
			}
			select {
			case d.pools[fam] <- c:
			case <-d.stop:
				c.Close()
				return nil
			}
		}
	})
}

// DialUDP implements Dialer. It must not be called after Close.
func (d *NamespaceDialer) DialUDP(server netip.AddrPort) (*net.UDPConn, error) {
	server = netip.AddrPortFrom(server.Addr().Unmap(), server.Port())
	fam := 0
	if server.Addr().Is6() {
		fam = 1
	}
	d.once[fam].Do(func() {
		d.wg.Add(1)
		go d.fill(fam)
	})
	var c *net.UDPConn
	select {
	case c = <-d.pools[fam]:
	case err := <-d.errs[fam]:
		d.errs[fam] <- err
		if err == nil {
			err = errors.New("dialer closed")
		}
		return nil, fmt.Errorf("loadgen: socket in %s: %w", d.ns, err)
	}
	if err := connect(c, server); err != nil {
		c.Close()
		return nil, fmt.Errorf("loadgen: connect %s: %w", server, err)
	}
	return c, nil
}

// Close stops the fillers, closes the sockets not handed out and returns
// the first error a filler met.
func (d *NamespaceDialer) Close() error {
	d.closeOnce.Do(func() {
		close(d.stop)
		for fam := range d.once {
			d.once[fam].Do(func() {}) // no filler starts from now on
		}
		d.wg.Wait()
		var errs []error
		for fam := range d.pools {
			select {
			case err := <-d.errs[fam]:
				errs = append(errs, err)
			default:
			}
			for len(d.pools[fam]) > 0 {
				(<-d.pools[fam]).Close()
			}
		}
		d.closeErr = errors.Join(errs...)
	})
	return d.closeErr
}

// connect connects c (unconnected, from the pool) to server.
func connect(c *net.UDPConn, server netip.AddrPort) error {
	rc, err := c.SyscallConn()
	if err != nil {
		return err
	}
	sa, _ := sockaddr(server)
	var cerr error
	if err := rc.Control(func(fd uintptr) { cerr = unix.Connect(int(fd), sa) }); err != nil {
		return err
	}
	return cerr
}

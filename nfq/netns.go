package nfq

import (
	"fmt"

	"github.com/meshdns/meshdns/internal/netns"
	"golang.org/x/sys/unix"
)

// netlinkSocket opens the queue's netfilter netlink socket, inside the
// network namespace of file descriptor nsfd when it is not 0. A socket
// belongs to the namespace it was created in for its whole life, so the
// queue it binds is that namespace's (queue numbers are per namespace).
func netlinkSocket(nsfd int) (int, error) {
	open := func() (int, error) {
		return unix.Socket(unix.AF_NETLINK, unix.SOCK_RAW|unix.SOCK_CLOEXEC, unix.NETLINK_NETFILTER)
	}
	if nsfd == 0 {
		return open()
	}
	fd := -1
	err := netns.Do(fmt.Sprintf("/proc/self/fd/%d", nsfd), func() error {
		var err error
		fd, err = open()
		return err
	})
	return fd, err
}

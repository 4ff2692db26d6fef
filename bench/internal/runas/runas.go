package runas

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"syscall"

	"golang.org/x/sys/unix"
)

// Args parses "UID GID -- PROGRAM [ARGS...]".
func Args(args []string) (uid, gid int, argv []string, err error) {
	if len(args) < 4 || args[2] != "--" {
		return 0, 0, nil, errors.New("runas: want UID GID -- PROGRAM [ARGS...]")
	}
	if uid, err = strconv.Atoi(args[0]); err != nil || uid <= 0 {
		return 0, 0, nil, fmt.Errorf("runas: bad uid %q", args[0])
	}
	if gid, err = strconv.Atoi(args[1]); err != nil || gid <= 0 {
		return 0, 0, nil, fmt.Errorf("runas: bad gid %q", args[1])
	}
	return uid, gid, args[3:], nil
}

// Exec drops every supplementary group, sets the gid and uid (on all
// threads), re-arms the parent-death signal (changing credentials clears
// it) and execs the program. It returns only on failure.
func Exec(args []string) error {
	uid, gid, argv, err := Args(args)
	if err != nil {
		return err
	}
	prog, err := exec.LookPath(argv[0])
	if err != nil {
		return err
	}
	if err := syscall.Setgroups(nil); err != nil {
		return fmt.Errorf("runas: setgroups: %w", err)
	}
	if err := syscall.Setgid(gid); err != nil {
		return fmt.Errorf("runas: setgid: %w", err)
	}
	if err := syscall.Setuid(uid); err != nil {
		return fmt.Errorf("runas: setuid: %w", err)
	}
	_ = unix.Prctl(unix.PR_SET_PDEATHSIG, uintptr(syscall.SIGKILL), 0, 0, 0)
	return syscall.Exec(prog, argv, os.Environ())
}

// Package runas drops to a uid and gid and execs a program in place. The
// benchmark harness starts the contenders that sit behind istio-init's
// REDIRECT this way (as uid 1337, so the owner match exempts their own
// upstream queries) while keeping the pid it reads CPU time from: `ip netns
// exec` execs in place, and so does runas.
package runas

// Package nsproc runs a long-lived program, meshdns or another server,
// inside a network namespace for the kernel tests, the demo and the
// benchmarks: Start starts it (through `ip netns exec`, which execs the
// program in place, so Pid is the program's; an empty namespace runs it
// where the caller is), keeps its output (Logs, WaitLog; Config.Output and
// Config.Line get a copy), WaitReady waits for the line that says it serves
// (by default meshdns's `msg=serving`, text or JSON log format) with a
// timeout, failing early when the program exits, and Stop, Terminate and
// Kill end it: SIGTERM, then SIGKILL when it outlives a grace period.
//
// The program dies with the thread that started it (a parent-death signal),
// so a crashed test or demo leaves no server behind. Cancelling Start's
// context sends SIGTERM, and SIGKILL 3 s later.
//
// It does not import testing: internal/podtest wraps it for tests
// (cleanup when the test ends, the log printed when it failed).
package nsproc

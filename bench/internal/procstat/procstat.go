package procstat

import (
	"bytes"
	"fmt"
	"os"
	"strconv"
	"time"
)

// TicksPerSecond is USER_HZ, the unit of utime and stime in /proc; it is
// 100 on every Linux architecture Go supports.
const TicksPerSecond = 100

// CPU is the CPU time of one process (or several, summed).
type CPU struct {
	// User and System are utime and stime from /proc/<pid>/stat: every
	// thread, exited ones included, in 10 ms ticks.
	User, System time.Duration
	// Runtime is the sum of the live threads' sum_exec_runtime from
	// /proc/<pid>/task/<tid>/schedstat, in nanoseconds; Threads lists
	// those threads. Zero when schedstat is not available.
	Runtime time.Duration
	Threads []int
	// Slices is the sum of the live threads' run counts (the third field
	// of schedstat): how many times a thread was put on a CPU, i.e. its
	// wake-ups plus preemptions.
	Slices uint64
	// Children is cutime+cstime: the CPU time of children the process
	// has waited for (dnsmasq forks a child per TCP connection), in 10 ms
	// ticks.
	Children time.Duration
}

// Total is user plus system time.
func (c CPU) Total() time.Duration { return c.User + c.System }

// Sub returns c - o for the tick counters (Runtime and Threads are left
// zero; see Delta).
func (c CPU) Sub(o CPU) CPU {
	return CPU{User: c.User - o.User, System: c.System - o.System, Children: c.Children - o.Children}
}

// Delta returns the CPU time used between two readings of the same
// processes. It is the schedstat runtime difference (nanosecond
// resolution) when every thread of before is still alive in after, and
// otherwise the utime+stime difference (10 ms ticks, but it keeps the time
// of threads that exited). precise tells which. The CPU time of children
// reaped in between is added in both cases (in ticks).
func Delta(before, after CPU) (d time.Duration, precise bool) {
	d, precise = delta(before, after)
	if c := after.Children - before.Children; c > 0 {
		d += c
	}
	return d, precise
}

func delta(before, after CPU) (d time.Duration, precise bool) {
	if before.Runtime > 0 && len(before.Threads) > 0 {
		alive := make(map[int]bool, len(after.Threads))
		for _, t := range after.Threads {
			alive[t] = true
		}
		precise = true
		for _, t := range before.Threads {
			if !alive[t] {
				precise = false
				break
			}
		}
		if precise && after.Runtime >= before.Runtime {
			return after.Runtime - before.Runtime, true
		}
	}
	return after.Total() - before.Total(), false
}

// Reader reads a process's CPU time. ProcReader is the real one; Fake
// serves tests.
type Reader interface {
	CPU(pid int) (CPU, error)
}

// ProcReader reads /proc/<pid>/stat under Root ("/proc" when empty).
type ProcReader struct{ Root string }

// CPU implements Reader.
func (r ProcReader) CPU(pid int) (CPU, error) {
	root := r.Root
	if root == "" {
		root = "/proc"
	}
	b, err := os.ReadFile(fmt.Sprintf("%s/%d/stat", root, pid))
	if err != nil {
		return CPU{}, err
	}
	c, err := Parse(b)
	if err != nil {
		return CPU{}, err
	}
	// Best effort: without schedstat, Delta falls back to the ticks.
	tasks, err := os.ReadDir(fmt.Sprintf("%s/%d/task", root, pid))
	if err != nil {
		return c, nil
	}
	for _, t := range tasks {
		tid, err := strconv.Atoi(t.Name())
		if err != nil {
			continue
		}
		b, err := os.ReadFile(fmt.Sprintf("%s/%d/task/%d/schedstat", root, pid, tid))
		if err != nil {
			continue // the thread exited meanwhile
		}
		ns, err := ParseSchedstat(b)
		if err != nil {
			return c, nil
		}
		c.Runtime += ns
		c.Slices += schedstatSlices(b)
		c.Threads = append(c.Threads, tid)
	}
	return c, nil
}

// ParseSchedstat reads the first field of /proc/<pid>/task/<tid>/schedstat:
// time spent on the CPU, in nanoseconds.
func ParseSchedstat(b []byte) (time.Duration, error) {
	f := bytes.Fields(b)
	if len(f) < 1 {
		return 0, fmt.Errorf("procstat: empty schedstat")
	}
	ns, err := strconv.ParseUint(string(f[0]), 10, 63)
	if err != nil {
		return 0, fmt.Errorf("procstat: schedstat: %w", err)
	}
	return time.Duration(ns), nil
}

// schedstatSlices reads the third field of schedstat, the thread's run
// count; 0 when absent.
func schedstatSlices(b []byte) uint64 {
	f := bytes.Fields(b)
	if len(f) < 3 {
		return 0
	}
	n, _ := strconv.ParseUint(string(f[2]), 10, 63)
	return n
}

// SlicesDelta returns the run slices between two readings of the same
// processes, and false when a thread of before has exited (its slices are
// gone from after).
func SlicesDelta(before, after CPU) (uint64, bool) {
	alive := make(map[int]bool, len(after.Threads))
	for _, t := range after.Threads {
		alive[t] = true
	}
	for _, t := range before.Threads {
		if !alive[t] {
			return 0, false
		}
	}
	if len(before.Threads) == 0 || after.Slices < before.Slices {
		return 0, false
	}
	return after.Slices - before.Slices, true
}

// Parse reads utime (field 14), stime (field 15) and, when present,
// cutime and cstime (fields 16 and 17) from the contents of
// /proc/<pid>/stat. The command name (field 2) is in parentheses and may
// hold spaces and parentheses itself, so fields are counted from the last
// ')'.
func Parse(b []byte) (CPU, error) {
	i := bytes.LastIndexByte(b, ')')
	if i < 0 {
		return CPU{}, fmt.Errorf("procstat: no command name")
	}
	fields := bytes.Fields(b[i+1:])
	// fields[0] is field 3 (state); utime is field 14, stime 15.
	if len(fields) < 13 {
		return CPU{}, fmt.Errorf("procstat: %d fields after the command name", len(fields))
	}
	u, err := strconv.ParseUint(string(fields[11]), 10, 63)
	if err != nil {
		return CPU{}, fmt.Errorf("procstat: utime: %w", err)
	}
	s, err := strconv.ParseUint(string(fields[12]), 10, 63)
	if err != nil {
		return CPU{}, fmt.Errorf("procstat: stime: %w", err)
	}
	var cu, cs uint64
	if len(fields) >= 15 {
		if cu, err = strconv.ParseUint(string(fields[13]), 10, 63); err != nil {
			return CPU{}, fmt.Errorf("procstat: cutime: %w", err)
		}
		if cs, err = strconv.ParseUint(string(fields[14]), 10, 63); err != nil {
			return CPU{}, fmt.Errorf("procstat: cstime: %w", err)
		}
	}
	tick := time.Second / TicksPerSecond
	const most = uint64(1<<61) / uint64(time.Second/TicksPerSecond)
	if u > most || s > most || cu > most || cs > most {
		return CPU{}, fmt.Errorf("procstat: CPU time out of range")
	}
	return CPU{User: time.Duration(u) * tick, System: time.Duration(s) * tick, Children: time.Duration(cu+cs) * tick}, nil
}

// Fake is a Reader that returns fixed values.
type Fake map[int]CPU

// CPU implements Reader.
func (f Fake) CPU(pid int) (CPU, error) {
	c, ok := f[pid]
	if !ok {
		return CPU{}, fmt.Errorf("procstat: no process %d", pid)
	}
	return c, nil
}

// Sum reads every pid and adds their CPU times; a pid that cannot be read
// is an error.
func Sum(r Reader, pids []int) (CPU, error) {
	var total CPU
	for _, p := range pids {
		c, err := r.CPU(p)
		if err != nil {
			return CPU{}, err
		}
		total.User += c.User
		total.System += c.System
		total.Runtime += c.Runtime
		total.Slices += c.Slices
		total.Children += c.Children
		total.Threads = append(total.Threads, c.Threads...)
	}
	return total, nil
}

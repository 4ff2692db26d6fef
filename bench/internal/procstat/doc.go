// Package procstat reads the CPU time a process has used from
// /proc/<pid>/stat (utime + stime, all threads, in clock ticks), which the
// benchmark turns into CPU microseconds per query.
package procstat

package procstat

import (
	"bufio"
	"bytes"
	"fmt"
	"os"
	"strconv"
	"time"
)

// Machine is the whole machine's CPU time from the "cpu" line of
// /proc/stat, summed over all CPUs.
type Machine struct {
	// Busy is user + nice + system + irq + softirq + steal; Total adds
	// idle and iowait.
	Busy, Total time.Duration
}

// ReadMachine reads /proc/stat.
func ReadMachine() (Machine, error) {
	b, err := os.ReadFile("/proc/stat")
	if err != nil {
		return Machine{}, err
	}
	return ParseMachine(b)
}

// ParseMachine parses the contents of /proc/stat.
func ParseMachine(b []byte) (Machine, error) {
	sc := bufio.NewScanner(bytes.NewReader(b))
	for sc.Scan() {
		f := bytes.Fields(sc.Bytes())
		if len(f) < 9 || string(f[0]) != "cpu" {
			continue
		}
		var v [8]uint64
		for i := range v {
			// 36 bits of ticks (over 20 years of one CPU at 100 Hz) keep
			// the sum of eight fields in nanoseconds inside a Duration.
			n, err := strconv.ParseUint(string(f[i+1]), 10, 36)
			if err != nil {
				return Machine{}, fmt.Errorf("procstat: /proc/stat field %d: %w", i+1, err)
			}
			v[i] = n
		}
		tick := time.Second / TicksPerSecond
		busy := v[0] + v[1] + v[2] + v[5] + v[6] + v[7]
		return Machine{Busy: time.Duration(busy) * tick, Total: time.Duration(busy+v[3]+v[4]) * tick}, nil
	}
	return Machine{}, fmt.Errorf("procstat: no cpu line in /proc/stat")
}

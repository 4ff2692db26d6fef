package nfq

import (
	"bufio"
	"os"
	"strconv"
	"strings"
)

// queueStatsPath is the kernel's per-queue counters in this network namespace.
const queueStatsPath = "/proc/net/netfilter/nfnetlink_queue"

// kernelQueued returns how many packets the kernel holds waiting for a
// verdict in queues first..first+n-1, from the counters file at path
// ("queue portid queue_total copy_mode copy_range queue_dropped
// user_dropped id_sequence 1" per bound queue). Unreadable: 0.
func kernelQueued(path string, first, n uint16) int {
	f, err := os.Open(path)
	if err != nil {
		return 0
	}
	defer f.Close()
	total := 0
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		fs := strings.Fields(sc.Text())
		if len(fs) < 3 {
			continue
		}
		q, err1 := strconv.ParseUint(fs[0], 10, 16)
		waiting, err2 := strconv.Atoi(fs[2])
		if err1 != nil || err2 != nil || q < uint64(first) || q >= uint64(first)+uint64(max(n, 1)) {
			continue
		}
		total += waiting
	}
	return total
}

package observe

import (
	"bufio"
	"fmt"
	"io"
	"strconv"
	"strings"
)

// QueueStats is one line of /proc/net/netfilter/nfnetlink_queue: the
// kernel's view of one NFQUEUE queue in the reading process's network
// namespace.
type QueueStats struct {
	Queue       uint32 // queue number
	PortID      uint32 // netlink port id of the bound consumer
	Waiting     uint32 // packets queued and waiting for a verdict now
	CopyMode    uint32 // 0 none, 1 meta, 2 packet
	CopyRange   uint32 // bytes copied to user space
	Dropped     uint32 // dropped by the kernel: queue full without fail-open
	UserDropped uint32 // dropped because the netlink socket buffer was full
	IDSequence  uint32 // last packet id: packets ever queued (wraps at 2^32)
}

// DefaultQueueStatsPath is where the kernel publishes per-queue counters.
// The file is per network namespace: read inside the pod it shows the pod's
// queues only.
const DefaultQueueStatsPath = "/proc/net/netfilter/nfnetlink_queue"

// ParseQueueStats parses the contents of /proc/net/netfilter/nfnetlink_queue.
// Each line holds nine whitespace-separated numbers:
//
//	queue_num peer_portid queue_total copy_mode copy_range queue_dropped queue_user_dropped id_sequence 1
//
// Blank lines are skipped; any other malformed line is an error.
func ParseQueueStats(r io.Reader) ([]QueueStats, error) {
	var out []QueueStats
	sc := bufio.NewScanner(r)
	line := 0
	for sc.Scan() {
		line++
		f := strings.Fields(sc.Text())
		if len(f) == 0 {
			continue
		}
		if len(f) < 8 {
			return nil, fmt.Errorf("nfnetlink_queue line %d: %d fields, want 9", line, len(f))
		}
		var v [8]uint32
		for i := range v {
			n, err := strconv.ParseUint(f[i], 10, 32)
			if err != nil {
				return nil, fmt.Errorf("nfnetlink_queue line %d field %d: %w", line, i+1, err)
			}
			v[i] = uint32(n)
		}
		out = append(out, QueueStats{
			Queue: v[0], PortID: v[1], Waiting: v[2], CopyMode: v[3], CopyRange: v[4],
			Dropped: v[5], UserDropped: v[6], IDSequence: v[7],
		})
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("nfnetlink_queue: %w", err)
	}
	return out, nil
}

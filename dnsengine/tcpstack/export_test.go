package tcpstack

// MemoryRecount recounts, the slow way, what Memory should say: every
// flow's buffers and overhead, every shard's scratch buffer and broken
// 4-tuples, and the forwarded queries not yet called back. With no segment
// being processed the two must agree.
func (t *Stack) MemoryRecount() int64 {
	n := t.fwding.Load()
	for i := range t.shards {
		sh := &t.shards[i]
		sh.mu.Lock()
		for _, f := range sh.flows {
			n += int64(flowOverhead + cap(f.in) + cap(f.out))
		}
		if sh.scratch != nil {
			n += int64(cap(sh.scratch))
		}
		n += int64(len(sh.broken) * brokenOverhead)
		sh.mu.Unlock()
	}
	return n
}

// FlowMemory returns the largest input and output buffers (capacity) of
// any flow.
func (t *Stack) FlowMemory() (in, out int) {
	for i := range t.shards {
		sh := &t.shards[i]
		sh.mu.Lock()
		for _, f := range sh.flows {
			in, out = max(in, cap(f.in)), max(out, cap(f.out))
		}
		sh.mu.Unlock()
	}
	return in, out
}

package nfq

import (
	"fmt"
	"net"
	"sync/atomic"
	"testing"

	"github.com/meshdns/meshdns/internal/netns"
	"github.com/meshdns/meshdns/internal/netns/netnstest"
)

// readers are the two queue readers the kernel tests run against.
var readers = []struct {
	name string
	fn   OpenFunc
}{{"batch", OpenBatch}, {"go-nfqueue", OpenNfqueue}}

// queueUDP queues the pod's UDP to port on queue, with --queue-bypass.
func queueUDP(t *testing.T, pod string, port, queue int) {
	t.Helper()
	netnstest.Run(t, "ip", "netns", "exec", pod, "iptables", "-t", "raw", "-A", "OUTPUT", "-p", "udp", "--dport", fmt.Sprint(port),
		"-j", "NFQUEUE", "--queue-num", fmt.Sprint(queue), "--queue-bypass")
}

// udpSink counts the datagrams that reach port in the upstream namespace
// until the test ends.
func udpSink(t *testing.T, up string, port int) *atomic.Int64 {
	t.Helper()
	var got atomic.Int64
	var ln net.PacketConn
	if err := netns.Do(up, func() (err error) { ln, err = net.ListenPacket("udp4", fmt.Sprintf(":%d", port)); return err }); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	go func() {
		buf := make([]byte, 64)
		for {
			if _, _, err := ln.ReadFrom(buf); err != nil {
				return
			}
			got.Add(1)
		}
	}()
	return &got
}

// sendUDP sends n one-byte datagrams from the pod to the upstream's port.
func sendUDP(t *testing.T, pod string, port, n int) {
	t.Helper()
	if err := netns.Do(pod, func() error {
		c, err := net.Dial("udp4", fmt.Sprintf("%v:%d", upV4, port))
		if err != nil {
			return err
		}
		defer c.Close()
		for i := range n {
			if _, err := c.Write([]byte{byte(i)}); err != nil {
				return err
			}
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
}

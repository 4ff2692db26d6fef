// Package replay runs captured packets through the same engine the queue
// uses: it reads pcap or pcapng (Ethernet, Linux cooked, loopback or raw IP
// link types; IPv4 and IPv6; UDP and TCP), hands each IP packet to a
// Processor, writes every rewritten packet (the response) to a pcap with the
// original timestamp, and summarises what happened. A capture taken on
// the sending host records outgoing packets with offloaded (partial)
// checksums: they are recomputed (dnsengine.RepairCaptureChecksum) and
// counted before the engine sees the packet.
//
// The capture files are read and written by replay/pcapfile; the fixtures
// in testdata are made from readable query lists by replay/replaytest.
package replay

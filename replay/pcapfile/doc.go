// Package pcapfile reads captures in the pcap and pcapng formats and writes
// pcap, for replay. It reads one frame at a time into a buffer of its own
// that is bounded by the largest frame the caller accepts, whatever lengths
// a file claims: bad input gets an error, never a panic and never a buffer
// sized by the file. Blocks and options it does not need are skipped
// without being held.
//
// It replaces gopacket's pcapgo in the meshdns binary: gopacket's layers
// package, which pcapgo imports, builds tables of several megabytes when the
// program starts, in every pod, and pcapgo's pcapng reader panics on some
// malformed interface blocks. The tests read every capture in replay's
// testdata with both and compare them frame by frame.
package pcapfile

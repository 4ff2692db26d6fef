package dnsengine

import (
	"encoding/binary"

	"github.com/meshdns/meshdns/dnsengine/checksum"
	"github.com/meshdns/meshdns/dnsengine/wire"
)

// RepairCaptureChecksum makes the UDP or TCP checksum of the IPv4/IPv6
// packet in b verify, recomputing it in place, and reports whether it had
// to. It is for captured packets (meshdns replay), never for the queue.
//
// A capture taken on the sending host (tcpdump or Wireshark on a pod's or
// a node's interface) records an outgoing packet before the device fills
// its checksum in: with checksum offload, which veth and most NICs do, the
// field holds only the pseudo-header sum (CHECKSUM_PARTIAL), and some
// stacks send IPv6 UDP with a zero checksum the device never completes.
// The queue never sees such a packet: nfnetlink_queue completes a partial
// checksum before it copies the packet to user space (unless the consumer
// asks for NFQA_CFG_F_GSO, which meshdns does not), so the engine treats a
// checksum that does not verify as damage.
//
// A zero UDP checksum over IPv4 means "no checksum" and is left alone.
// Packets the engine would refuse for another reason (lengths that do not
// agree, fragments, a bad IPv4 header checksum, other protocols) are left
// untouched and reported false.
func RepairCaptureChecksum(b []byte) bool {
	var p wire.Packet
	if wire.DecodeIP(b, &p) != 0 {
		return false
	}
	seg := p.Segment(b)
	var off int // of the checksum field in seg
	switch p.Proto {
	case wire.ProtoUDP:
		if len(seg) < 8 || int(binary.BigEndian.Uint16(seg[4:6])) != len(seg) {
			return false
		}
		if !p.V6 && seg[6] == 0 && seg[7] == 0 {
			return false
		}
		off = 6
	case wire.ProtoTCP:
		if len(seg) < wire.TCPHeaderLen {
			return false
		}
		off = 16
	default:
		return false
	}
	src := p.Src(b)
	dst := p.Dst(b)
	zero := seg[off] == 0 && seg[off+1] == 0
	if !(zero && p.Proto == wire.ProtoUDP) && checksum.TransportValid(src, dst, p.Proto, seg) {
		return false
	}
	seg[off], seg[off+1] = 0, 0
	ck := checksum.Transport(src, dst, p.Proto, seg)
	if ck == 0 && p.Proto == wire.ProtoUDP {
		ck = 0xffff // RFC 768: zero means none
	}
	binary.BigEndian.PutUint16(seg[off:], ck)
	return true
}

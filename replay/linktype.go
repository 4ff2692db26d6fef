package replay

import (
	"encoding/binary"

	"github.com/meshdns/meshdns/replay/pcapfile"
)

// ipPayload returns the IP packet inside a frame of the given link type,
// or nil when the frame carries no IPv4/IPv6 packet.
func ipPayload(lt pcapfile.LinkType, frame []byte) []byte {
	var p []byte
	switch lt {
	case pcapfile.LinkTypeRaw, pcapfile.LinkTypeIPv4, pcapfile.LinkTypeIPv6, 12, 14: // 12/14: raw IP on some systems
		p = frame
	case pcapfile.LinkTypeEthernet:
		if len(frame) < 14 {
			return nil
		}
		et, off := binary.BigEndian.Uint16(frame[12:]), 14
		for (et == 0x8100 || et == 0x88a8) && len(frame) >= off+4 { // VLAN tags
			et, off = binary.BigEndian.Uint16(frame[off+2:]), off+4
		}
		if et != 0x0800 && et != 0x86dd {
			return nil
		}
		p = frame[off:]
	case pcapfile.LinkTypeLinuxSLL: // 16-byte cooked header, protocol last
		if len(frame) < 16 {
			return nil
		}
		if et := binary.BigEndian.Uint16(frame[14:]); et != 0x0800 && et != 0x86dd {
			return nil
		}
		p = frame[16:]
	case pcapfile.LinkTypeLinuxSLL2: // Linux SLL2: 20-byte header, protocol first
		if len(frame) < 20 {
			return nil
		}
		if et := binary.BigEndian.Uint16(frame[0:]); et != 0x0800 && et != 0x86dd {
			return nil
		}
		p = frame[20:]
	case pcapfile.LinkTypeNull, pcapfile.LinkTypeLoop: // 4-byte address family
		if len(frame) < 4 {
			return nil
		}
		p = frame[4:]
	default:
		return nil
	}
	if len(p) == 0 || (p[0]>>4 != 4 && p[0]>>4 != 6) {
		return nil
	}
	return p
}

package refresh

import (
	"encoding/binary"

	"github.com/meshdns/meshdns/dnsengine"
)

// appendQuery appends the refresh query for req with the given ID: RD set,
// CD as the key, one question, an OPT record with DO as the key.
func appendQuery(b []byte, id uint16, req *dnsengine.RefreshRequest, ednsSize uint16) []byte {
	flags := uint16(0x0100) // RD
	if req.CD {
		flags |= 0x0010
	}
	b = binary.BigEndian.AppendUint16(b, id)
	b = binary.BigEndian.AppendUint16(b, flags)
	b = append(b, 0, 1, 0, 0, 0, 0, 0, 1) // QD 1, AN 0, NS 0, AR 1
	b = append(b, req.Name()...)
	b = binary.BigEndian.AppendUint16(b, req.Type)
	b = binary.BigEndian.AppendUint16(b, req.Class)
	var do uint16
	if req.DO {
		do = 0x8000
	}
	b = append(b, 0, 0, 41) // root, OPT
	b = binary.BigEndian.AppendUint16(b, ednsSize)
	b = append(b, 0, 0) // extended rcode, version
	b = binary.BigEndian.AppendUint16(b, do)
	return append(b, 0, 0) // rdlength
}

package loadgen

import (
	"bytes"
	"encoding/binary"
	"testing"
)

func TestAppendFrame(t *testing.T) {
	got, err := AppendFrame([]byte{9}, []byte{1, 2, 3})
	if err != nil || !bytes.Equal(got, []byte{9, 0, 3, 1, 2, 3}) {
		t.Errorf("AppendFrame = %v, %v", got, err)
	}
	if _, err := AppendFrame(nil, make([]byte, 0x10000)); err == nil {
		t.Error("a 64 KiB message framed")
	}
	q, _ := AppendQuery(nil, 0, "svc.example.", 1)
	f := appendFramedQuery(nil, q, 0xabcd)
	if binary.BigEndian.Uint16(f) != uint16(len(q)) || binary.BigEndian.Uint16(f[2:]) != 0xabcd || !bytes.Equal(f[4:], q[2:]) {
		t.Errorf("appendFramedQuery = %x", f)
	}
	if binary.BigEndian.Uint16(q) != 0 {
		t.Error("appendFramedQuery changed its template")
	}
}

func TestNextFrame(t *testing.T) {
	tests := []struct {
		name      string
		in        []byte
		msg, rest []byte
		ok        bool
	}{
		{"empty", nil, nil, nil, false},
		{"one length byte", []byte{0}, nil, []byte{0}, false},
		{"length only", []byte{0, 2}, nil, []byte{0, 2}, false},
		{"partial message", []byte{0, 3, 1, 2}, nil, []byte{0, 3, 1, 2}, false},
		{"whole message", []byte{0, 2, 1, 2}, []byte{1, 2}, []byte{}, true},
		{"message and the start of the next", []byte{0, 1, 7, 0, 5, 1}, []byte{7}, []byte{0, 5, 1}, true},
		{"empty message", []byte{0, 0, 0, 1, 9}, []byte{}, []byte{0, 1, 9}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			msg, rest, ok := NextFrame(tt.in)
			if ok != tt.ok || !bytes.Equal(msg, tt.msg) || !bytes.Equal(rest, tt.rest) {
				t.Errorf("NextFrame(%v) = %v, %v, %v; want %v, %v, %v", tt.in, msg, rest, ok, tt.msg, tt.rest, tt.ok)
			}
		})
	}
}

func FuzzNextFrame(f *testing.F) {
	f.Add([]byte{0, 2, 1, 2, 0, 1})
	f.Add([]byte{0xff, 0xff, 1})
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, b []byte) {
		total := 0
		for rest := b; ; {
			msg, r, ok := NextFrame(rest)
			if !ok {
				if !bytes.Equal(r, rest) {
					t.Fatal("an incomplete frame consumed bytes")
				}
				total += len(r)
				break
			}
			if len(r) >= len(rest) {
				t.Fatal("a frame consumed nothing")
			}
			if int(binary.BigEndian.Uint16(rest)) != len(msg) {
				t.Fatalf("message of %d bytes for length %d", len(msg), binary.BigEndian.Uint16(rest))
			}
			total += 2 + len(msg)
			rest = r
		}
		if total != len(b) {
			t.Errorf("frames cover %d of %d bytes", total, len(b))
		}
	})
}

package dnsengine

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"time"
)

// The TCP cookie tells segments of flows meshdns opened from segments of
// flows the real server opened, when the flow is not in the table (after
// a restart, or forgotten when idle). Every client segment echoes two
// numbers meshdns chose: its acknowledgment number (a byte of our
// sequence space) and, when timestamps were negotiated, its TSecr (our
// last TSval). Both carry a keyed tag of the 4-tuple:
//
//	ISN    bits 31-24  tag: 8 bits of SHA-256(key, 4-tuple)
//	       bit  23     0
//	       bits 22-0   hash bits + a 4 µs clock (RFC 6528), so that
//	                   successive connections of one 4-tuple start far apart
//	TSval  bits 31-16  seconds of the clock (mod 2^16)
//	       bits 15-0   tag: 16 bits of SHA-256(key, 4-tuple, those seconds)
//
// As long as fewer than 8 MiB have been sent on the flow the ack's top
// byte is still the ISN's tag, and TSecr always echoes one of our TSvals.
// A segment is ours only when both tags match: a flow the real server
// opened (whose TSvals and ISN are its own, random) matches with
// probability 2^-24. A flow without timestamps cannot be recognised
// with that certainty and is never resumed: once forgotten its segments
// pass to the real server, which resets it (the client retries).
//
// Our TSvals tick 65,536 times a second but only forward (a flow never
// sends a TSval below its last one), so the client's PAWS check (RFC
// 7323) accepts them; a flow idle for more than 2^15 s simply keeps
// echoing its last one.

const (
	minTCPKeyLen = 16
	tcpKeyLen    = 32
)

type cookie struct{ key [32]byte }

func newCookie(key []byte) cookie { return cookie{key: sha256.Sum256(key)} }

// sum hashes the key, the 4-tuple, and for a TSval tag its second.
func (c *cookie) sum(k *flowKey, ts bool, sec uint16) [32]byte {
	var b [32 + 16 + 16 + 8]byte
	copy(b[0:], c.key[:])
	copy(b[32:], k.src[:])
	copy(b[48:], k.dst[:])
	binary.BigEndian.PutUint16(b[64:], k.sport)
	binary.BigEndian.PutUint16(b[66:], k.dport)
	if k.v6 {
		b[68] = 6
	} else {
		b[68] = 4
	}
	if ts {
		b[69] = 'T'
		binary.BigEndian.PutUint16(b[70:], sec)
	}
	return sha256.Sum256(b[:])
}

// isn returns an initial sequence number for a new flow.
func (c *cookie) isn(k *flowKey, now time.Time) uint32 {
	d := c.sum(k, false, 0)
	low := binary.BigEndian.Uint32(d[1:5]) + uint32(now.UnixNano()/4000)
	return uint32(d[0])<<24 | low&0x7fffff
}

// tsTag returns the tag of a TSval of second sec.
func (c *cookie) tsTag(k *flowKey, sec uint16) uint16 {
	d := c.sum(k, true, sec)
	return binary.BigEndian.Uint16(d[:2])
}

// owns reports whether s, a client segment of the 4-tuple k with ACK set,
// belongs to a flow we opened: its acknowledgment number lies in a
// sequence space our ISN started and its TSecr is one of our TSvals.
func (c *cookie) owns(k *flowKey, s *segment) bool {
	if !s.hasTS {
		return false
	}
	if byte((s.ack-1)>>24) != c.sum(k, false, 0)[0] {
		return false
	}
	return uint16(s.tsEcr) == c.tsTag(k, uint16(s.tsEcr>>16))
}

// LoadTCPKey returns the ISN cookie key kept in path, creating the file
// (and its directory, mode 0700) with a new random key, mode 0600, when it
// does not exist. A file readable by others than its owner, or holding
// fewer than 16 bytes, is an error.
func LoadTCPKey(path string) ([]byte, error) {
	k, err := readTCPKey(path)
	if err == nil || !errors.Is(err, fs.ErrNotExist) {
		return k, err
	}
	dir := filepath.Dir(path)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("dnsengine: TCP key: %w", err)
	}
	key := make([]byte, tcpKeyLen)
	if _, err := rand.Read(key); err != nil {
		return nil, fmt.Errorf("dnsengine: TCP key: %w", err)
	}
	// Write a temporary file and link it into place: the key appears
	// whole or not at all, and of two processes racing the first wins.
	tmp, err := os.CreateTemp(dir, ".tcp-key-*")
	if err != nil {
		return nil, fmt.Errorf("dnsengine: TCP key: %w", err)
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.Write(key); err != nil {
		tmp.Close()
		return nil, fmt.Errorf("dnsengine: TCP key: %w", err)
	}
	if err := tmp.Close(); err != nil {
		return nil, fmt.Errorf("dnsengine: TCP key: %w", err)
	}
	// CreateTemp made it 0600.
	if err := os.Link(tmp.Name(), path); err != nil {
		if errors.Is(err, fs.ErrExist) {
			return readTCPKey(path)
		}
		return nil, fmt.Errorf("dnsengine: TCP key: %w", err)
	}
	return key, nil
}

func readTCPKey(path string) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil, err
		}
		return nil, fmt.Errorf("dnsengine: TCP key: %w", err)
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, fmt.Errorf("dnsengine: TCP key: %w", err)
	}
	if st.Mode().Perm()&0o077 != 0 {
		return nil, fmt.Errorf("dnsengine: TCP key %s has mode %v: want it readable by its owner only (0600)", path, st.Mode().Perm())
	}
	b, err := io.ReadAll(io.LimitReader(f, 1024))
	if err != nil {
		return nil, fmt.Errorf("dnsengine: TCP key %s: %w", path, err)
	}
	if len(b) < minTCPKeyLen {
		return nil, fmt.Errorf("dnsengine: TCP key %s holds %d bytes, want at least %d", path, len(b), minTCPKeyLen)
	}
	return b, nil
}

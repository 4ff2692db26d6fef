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

// The ISN cookie tells segments of flows meshdns opened from segments of
// flows the real server opened, after a restart, when the flow table is
// empty. Our initial sequence number is
//
//	bits 31-24  tag: the first byte of SHA-256(key, 4-tuple)
//	bit  23     0
//	bits 22-0   hash bits + a 4 µs clock (RFC 6528), so that successive
//	            connections of one 4-tuple start far apart
//
// Every client segment acknowledges a byte of our sequence space, and as
// long as fewer than 8 MiB have been sent on the flow that byte's top byte
// is still the tag. A flow the real server opened matches by chance with
// probability 1/256; such a flow is then served by meshdns from that
// segment on.

const (
	minTCPKeyLen = 16
	tcpKeyLen    = 32
)

type cookie struct{ key [32]byte }

func newCookie(key []byte) cookie { return cookie{key: sha256.Sum256(key)} }

func (c *cookie) sum(k *flowKey) [32]byte {
	var b [32 + 16 + 16 + 5]byte
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
	return sha256.Sum256(b[:])
}

// isn returns an initial sequence number for a new flow.
func (c *cookie) isn(k *flowKey, now time.Time) uint32 {
	d := c.sum(k)
	low := binary.BigEndian.Uint32(d[1:5]) + uint32(now.UnixNano()/4000)
	return uint32(d[0])<<24 | low&0x7fffff
}

// owns reports whether ack, the acknowledgment number of a client segment
// of the flow, lies in a sequence space isn started.
func (c *cookie) owns(k *flowKey, ack uint32) bool {
	d := c.sum(k)
	return byte((ack-1)>>24) == d[0]
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

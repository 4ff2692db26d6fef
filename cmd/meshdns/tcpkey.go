package main

import (
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
)

// The TCP ISN cookie key file. The engine takes the key's bytes
// (tcpstack.Config.Key); keeping them in a file across restarts, so
// that flows opened before a restart are resumed, is meshdns run's concern.
const (
	// defaultTCPKeyFile is where `meshdns run` keeps the ISN cookie key.
	defaultTCPKeyFile = "/run/meshdns/tcp-isn.key"
	// tcpKeyLen is the length of a new key; minTCPKeyLen the shortest
	// accepted from a file (the engine's own minimum).
	tcpKeyLen    = 32
	minTCPKeyLen = 16
)

// loadTCPKey returns the ISN cookie key kept in path, creating the file
// (and its directory, mode 0700) with a new random key, mode 0600, when it
// does not exist. A file readable by others than its owner, or holding
// fewer than 16 bytes, is an error.
func loadTCPKey(path string) ([]byte, error) {
	k, err := readTCPKey(path)
	if err == nil || !errors.Is(err, fs.ErrNotExist) {
		return k, err
	}
	dir := filepath.Dir(path)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("TCP key: %w", err)
	}
	key := make([]byte, tcpKeyLen)
	if _, err := rand.Read(key); err != nil {
		return nil, fmt.Errorf("TCP key: %w", err)
	}
	// Write a temporary file and link it into place: the key appears
	// whole or not at all, and of two processes racing the first wins.
	tmp, err := os.CreateTemp(dir, ".tcp-key-*")
	if err != nil {
		return nil, fmt.Errorf("TCP key: %w", err)
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.Write(key); err != nil {
		tmp.Close()
		return nil, fmt.Errorf("TCP key: %w", err)
	}
	if err := tmp.Close(); err != nil {
		return nil, fmt.Errorf("TCP key: %w", err)
	}
	// CreateTemp made it 0600.
	if err := os.Link(tmp.Name(), path); err != nil {
		if errors.Is(err, fs.ErrExist) {
			return readTCPKey(path)
		}
		return nil, fmt.Errorf("TCP key: %w", err)
	}
	return key, nil
}

func readTCPKey(path string) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil, err
		}
		return nil, fmt.Errorf("TCP key: %w", err)
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, fmt.Errorf("TCP key: %w", err)
	}
	if st.Mode().Perm()&0o077 != 0 {
		return nil, fmt.Errorf("TCP key %s has mode %v: want it readable by its owner only (0600)", path, st.Mode().Perm())
	}
	b, err := io.ReadAll(io.LimitReader(f, 1024))
	if err != nil {
		return nil, fmt.Errorf("TCP key %s: %w", path, err)
	}
	if len(b) < minTCPKeyLen {
		return nil, fmt.Errorf("TCP key %s holds %d bytes, want at least %d", path, len(b), minTCPKeyLen)
	}
	return b, nil
}

package objects

import (
	"bytes"
	"crypto/sha256"
	"fmt"
	"io"
	"os"
)

// readFile reads the file at path whole, into a buffer sized once from
// its length (os.ReadFile's way). A file larger than MaxFileSize is
// refused unread; one that grows while it is read is read up to one byte
// more (parseData refuses that). The file is read whole because the parser
// needs all of it (errors give the line of the object they are about).
func readFile(path string) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var b bytes.Buffer
	if fi, err := f.Stat(); err == nil {
		if fi.Size() > MaxFileSize {
			return nil, fmt.Errorf("%s: larger than %d bytes", path, MaxFileSize)
		}
		// Room for the content and the read that finds its end, so the
		// buffer is never grown (and copied) as it fills.
		b.Grow(int(fi.Size()) + bytes.MinRead)
	}
	if _, err := b.ReadFrom(io.LimitReader(f, MaxFileSize+1)); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}

// hashFile returns the SHA-256 of the file at path (of its first
// MaxFileSize+1 bytes, as readFile reads), streamed through a small
// buffer: a file's content is compared without holding it in memory.
func hashFile(path string) ([sha256.Size]byte, error) {
	var sum [sha256.Size]byte
	f, err := os.Open(path)
	if err != nil {
		return sum, err
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, io.LimitReader(f, MaxFileSize+1)); err != nil {
		return sum, err
	}
	h.Sum(sum[:0])
	return sum, nil
}

package objects

import (
	"bytes"
	"crypto/sha256"
	"fmt"
	"io"
	"os"
)

// readFile reads the file at path whole, for the parser, and returns the
// SHA-256 of its bytes as they are in the file. A file larger than
// MaxFileSize is refused unread, and so is one that grows past it while
// it is read.
//
// A JSON file (what the parser reads as JSON: '{' or '[' first, after a
// byte order mark and blanks) is read without the spaces, tabs and
// carriage returns that separate nothing (jsonSqueezer): `kubectl get -o
// json` indents a List by levels of four spaces, more than half of its
// bytes, and the parser holds the file in memory while it reads it. Its
// newlines stay, so every byte keeps its line for errors. The file is read
// twice: once to count what is kept, once into a buffer of that size, so
// the buffer is never grown (and copied) as it fills. Anything else is
// read as it is, into a buffer sized from the file's length.
func readFile(path string) ([]byte, [sha256.Size]byte, error) {
	var sum [sha256.Size]byte
	f, err := os.Open(path)
	if err != nil {
		return nil, sum, err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return nil, sum, err
	}
	if fi.Size() > MaxFileSize {
		return nil, sum, fmt.Errorf("%s: larger than %d bytes", path, MaxFileSize)
	}
	var head [512]byte
	n, err := io.ReadFull(f, head[:])
	if err != nil && err != io.ErrUnexpectedEOF && err != io.EOF {
		return nil, sum, err
	}
	size := int(fi.Size())
	json := looksJSON(bytes.TrimPrefix(head[:n], []byte("\xef\xbb\xbf")))
	if json {
		if size, err = squeezedSize(f); err != nil {
			return nil, sum, err
		}
	}
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		return nil, sum, err
	}
	h := sha256.New()
	in := io.TeeReader(io.LimitReader(f, MaxFileSize+1), h)
	out := make([]byte, 0, size+bytes.MinRead)
	read := 0
	if json {
		var z jsonSqueezer
		buf := make([]byte, 64<<10)
		for {
			n, err := in.Read(buf)
			read += n
			out = z.squeeze(out, buf[:n])
			if err == io.EOF {
				break
			}
			if err != nil {
				return nil, sum, err
			}
		}
	} else {
		b := bytes.NewBuffer(out)
		n, err := b.ReadFrom(in)
		if err != nil {
			return nil, sum, err
		}
		out, read = b.Bytes(), int(n)
	}
	if read > MaxFileSize {
		return nil, sum, fmt.Errorf("%s: larger than %d bytes", path, MaxFileSize)
	}
	h.Sum(sum[:0])
	return out, sum, nil
}

// squeezedSize returns how many bytes a jsonSqueezer keeps of f (at most
// MaxFileSize+1 of them), from its start.
func squeezedSize(f *os.File) (int, error) {
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		return 0, err
	}
	var z jsonSqueezer
	buf := make([]byte, 64<<10)
	out := make([]byte, 0, len(buf)+1)
	size := 0
	in := io.LimitReader(f, MaxFileSize+1)
	for {
		n, err := in.Read(buf)
		out = z.squeeze(out[:0], buf[:n])
		size += len(out)
		if err == io.EOF {
			return size, nil
		}
		if err != nil {
			return 0, err
		}
	}
}

// jsonSqueezer drops the spaces, tabs and carriage returns of JSON text
// that are outside strings and follow a character that ends a token
// anyway (a structural character, a quote, a newline, the start). After
// any other character (a literal or a number, which a blank ends) a run
// of them keeps its first. So the tokens stay the same, and so do what
// the text means and where and why it is wrong. Newlines stay. It keeps
// its state from one call to the next: text can be given in pieces.
type jsonSqueezer struct {
	inStr, esc bool
	blank      bool // in a run of blanks
	prev       byte // the last byte kept that is not a blank; 0 at the start
}

// squeeze appends what it keeps of src to dst.
func (z *jsonSqueezer) squeeze(dst, src []byte) []byte {
	for _, c := range src {
		if z.inStr {
			dst = append(dst, c)
			switch {
			case z.esc:
				z.esc = false
			case c == '\\':
				z.esc = true
			case c == '"':
				z.inStr = false
			}
			z.prev = c
			continue
		}
		if c == ' ' || c == '\t' || c == '\r' {
			if !z.blank && !jsonTight(z.prev) {
				dst = append(dst, c)
			}
			z.blank = true
			continue
		}
		z.blank = false
		dst = append(dst, c)
		z.prev = c
		z.inStr = c == '"'
	}
	return dst
}

// jsonTight reports whether blanks after c separate nothing.
func jsonTight(c byte) bool {
	switch c {
	case 0, '{', '}', '[', ']', ',', ':', '"', '\n':
		return true
	}
	return false
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

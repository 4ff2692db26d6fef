package main

import (
	"archive/tar"
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path"
	"sort"
	"strings"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
	"golang.org/x/sys/unix"
)

// Spec describes one image.
type Spec struct {
	Tag        string   `json:"tag"`        // e.g. docker.io/meshdns/meshdns:dev
	User       string   `json:"user"`       // "uid:gid", empty for root
	Entrypoint []string `json:"entrypoint"` // image ENTRYPOINT
	Cmd        []string `json:"cmd"`        // image CMD
	Env        []string `json:"env"`        // KEY=VALUE
	Files      []File   `json:"files"`
}

// File is one entry of the layer: a regular file copied from Src, a
// directory (Dir), or a symbolic link (Link).
type File struct {
	Path string `json:"path"` // absolute path in the image
	Src  string `json:"src,omitempty"`
	Dir  bool   `json:"dir,omitempty"`
	Link string `json:"link,omitempty"`
	Mode int64  `json:"mode,omitempty"` // permission bits; default 0755 (dirs, files) or the source's
}

const capXattr = "security.capability"

func main() {
	out := flag.String("o", "", "image tarball to write")
	flag.Parse()
	if err := run(os.Stdin, *out); err != nil {
		fmt.Fprintln(os.Stderr, "imagetool:", err)
		os.Exit(1)
	}
}

func run(in io.Reader, out string) error {
	if out == "" {
		return errors.New("-o is required")
	}
	var s Spec
	dec := json.NewDecoder(in)
	dec.DisallowUnknownFields()
	if err := dec.Decode(&s); err != nil {
		return fmt.Errorf("spec: %w", err)
	}
	tag, err := name.NewTag(s.Tag)
	if err != nil {
		return err
	}
	layerTar, err := layer(s.Files)
	if err != nil {
		return err
	}
	l, err := tarball.LayerFromOpener(func() (io.ReadCloser, error) {
		return io.NopCloser(bytes.NewReader(layerTar)), nil
	})
	if err != nil {
		return err
	}
	img, err := mutate.AppendLayers(empty.Image, l)
	if err != nil {
		return err
	}
	cf, err := img.ConfigFile()
	if err != nil {
		return err
	}
	cf = cf.DeepCopy()
	cf.OS, cf.Architecture = "linux", "amd64"
	cf.Config = v1.Config{User: s.User, Entrypoint: s.Entrypoint, Cmd: s.Cmd, Env: s.Env}
	img, err = mutate.ConfigFile(img, cf)
	if err != nil {
		return err
	}
	return tarball.WriteToFile(out, tag, img)
}

// layer writes the files as an uncompressed tar, parents first.
func layer(files []File) ([]byte, error) {
	sort.SliceStable(files, func(i, j int) bool { return files[i].Path < files[j].Path })
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	dirs := map[string]bool{}
	var mkdirs func(p string) error
	mkdirs = func(p string) error {
		if p == "/" || p == "." || dirs[p] {
			return nil
		}
		if err := mkdirs(path.Dir(p)); err != nil {
			return err
		}
		dirs[p] = true
		return tw.WriteHeader(&tar.Header{Typeflag: tar.TypeDir, Name: strings.TrimPrefix(p, "/") + "/", Mode: 0o755, Format: tar.FormatPAX})
	}
	for _, f := range files {
		if !path.IsAbs(f.Path) || path.Clean(f.Path) != f.Path {
			return nil, fmt.Errorf("path %q: not a clean absolute path", f.Path)
		}
		if err := mkdirs(path.Dir(f.Path)); err != nil {
			return nil, err
		}
		nameInTar := strings.TrimPrefix(f.Path, "/")
		switch {
		case f.Dir:
			if dirs[f.Path] {
				continue
			}
			dirs[f.Path] = true
			if err := tw.WriteHeader(&tar.Header{Typeflag: tar.TypeDir, Name: nameInTar + "/", Mode: modeOr(f.Mode, 0o755), Format: tar.FormatPAX}); err != nil {
				return nil, err
			}
		case f.Link != "":
			if err := tw.WriteHeader(&tar.Header{Typeflag: tar.TypeSymlink, Name: nameInTar, Linkname: f.Link, Mode: 0o777, Format: tar.FormatPAX}); err != nil {
				return nil, err
			}
		default:
			if err := addFile(tw, nameInTar, f); err != nil {
				return nil, err
			}
		}
	}
	if err := tw.Close(); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

func addFile(tw *tar.Writer, nameInTar string, f File) error {
	data, err := os.ReadFile(f.Src)
	if err != nil {
		return err
	}
	st, err := os.Stat(f.Src)
	if err != nil {
		return err
	}
	h := &tar.Header{
		Typeflag: tar.TypeReg,
		Name:     nameInTar,
		Size:     int64(len(data)),
		Mode:     modeOr(f.Mode, int64(st.Mode().Perm())),
		Format:   tar.FormatPAX,
	}
	cap, err := getxattr(f.Src, capXattr)
	if err != nil {
		return fmt.Errorf("%s: %w", f.Src, err)
	}
	if cap != nil {
		h.PAXRecords = map[string]string{"SCHILY.xattr." + capXattr: string(cap)}
	}
	if err := tw.WriteHeader(h); err != nil {
		return err
	}
	_, err = tw.Write(data)
	return err
}

func modeOr(m, def int64) int64 {
	if m != 0 {
		return m
	}
	return def
}

// getxattr returns the attribute's value, or nil when the file has none.
func getxattr(file, attr string) ([]byte, error) {
	buf := make([]byte, 256)
	n, err := unix.Getxattr(file, attr, buf)
	if errors.Is(err, unix.ENODATA) || errors.Is(err, unix.ENOTSUP) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	return buf[:n], nil
}

package node

import (
	"bufio"
	"bytes"
	"debug/elf"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
)

// Image references, as the manifests name them (meshdns's) and as the
// tests' pods and containerd's sandbox setting do (the others).
const (
	ImageMeshdns  = "docker.io/meshdns/meshdns:dev"
	ImageIptables = "docker.io/meshdns/meshdns-iptables:dev"
	ImageClient   = "docker.io/meshdns-test/client:dev"
	ImagePause    = "docker.io/meshdns-test/pause:dev"
	ImageCNI      = "docker.io/meshdns/meshdns-cni:dev"
)

// imageSpec is imagetool's input (see imagetool/main.go).
type imageSpec struct {
	Tag        string      `json:"tag"`
	User       string      `json:"user,omitempty"`
	Entrypoint []string    `json:"entrypoint,omitempty"`
	Cmd        []string    `json:"cmd,omitempty"`
	Env        []string    `json:"env,omitempty"`
	Files      []imageFile `json:"files"`
}

type imageFile struct {
	Path string `json:"path"`
	Src  string `json:"src,omitempty"`
	Dir  bool   `json:"dir,omitempty"`
	Link string `json:"link,omitempty"`
	Mode int64  `json:"mode,omitempty"`
}

const imagePath = "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

// BuildImages builds the five images into dir as tarballs and returns
// their paths: the sidecar image (the static meshdns binary with
// cap_net_admin+ep, user 65532, as the Dockerfile's distroless stage), the
// rules image (the same binary plus this machine's iptables tools and the
// libraries they load), the node agent's CNI installer image (the static
// meshdns-cni binary, as the Dockerfile's meshdns-cni stage), a client
// image (dnsclient and busybox) and the pause image.
func BuildImages(t testing.TB, repoRoot, moduleDir, dir string) []string {
	t.Helper()
	meshdns := filepath.Join(dir, "meshdns")
	staticBuild(t, repoRoot, "./cmd/meshdns", meshdns)
	// As the Dockerfile: the capability travels as the file's
	// security.capability attribute.
	if out, err := exec.Command("setcap", "cap_net_admin+ep", meshdns).CombinedOutput(); err != nil {
		t.Fatalf("setcap: %v: %s", err, out)
	}
	cni := filepath.Join(dir, "meshdns-cni")
	staticBuild(t, repoRoot, "./cmd/meshdns-cni", cni)
	dnsclient := filepath.Join(dir, "dnsclient")
	staticBuild(t, moduleDir, "./node/cmd/dnsclient", dnsclient)
	pause := filepath.Join(dir, "pause")
	staticBuild(t, moduleDir, "./node/cmd/pause", pause)
	tool := filepath.Join(dir, "imagetool")
	goCmd(t, filepath.Join(moduleDir, "node", "imagetool"), nil, "build", "-o", tool, ".")

	ipt, err := iptablesFiles()
	if err != nil {
		t.Fatalf("iptables tools of this machine: %v", err)
	}
	specs := []imageSpec{
		{
			Tag: ImageMeshdns, User: "65532:65532", Entrypoint: []string{"/meshdns"},
			Files: []imageFile{{Path: "/meshdns", Src: meshdns}, {Path: "/tmp", Dir: true, Mode: 0o1777}},
		},
		{
			Tag: ImageIptables, Entrypoint: []string{"/usr/local/bin/meshdns"}, Env: []string{imagePath},
			Files: append([]imageFile{{Path: "/usr/local/bin/meshdns", Src: meshdns}, {Path: "/run", Dir: true}, {Path: "/tmp", Dir: true, Mode: 0o1777}}, ipt...),
		},
		{
			Tag: ImageCNI, Entrypoint: []string{"/usr/local/bin/meshdns-cni"},
			Files: []imageFile{{Path: "/usr/local/bin/meshdns-cni", Src: cni}},
		},
		{
			Tag: ImageClient, Cmd: []string{"/dnsclient", "sleep"}, Env: []string{imagePath},
			Files: []imageFile{{Path: "/dnsclient", Src: dnsclient}, {Path: "/bin/busybox", Src: "/bin/busybox"}, {Path: "/bin/sh", Link: "busybox"}},
		},
		{Tag: ImagePause, Entrypoint: []string{"/pause"}, Files: []imageFile{{Path: "/pause", Src: pause}}},
	}
	var tars []string
	for _, s := range specs {
		in, err := json.Marshal(s)
		if err != nil {
			t.Fatal(err)
		}
		out := filepath.Join(dir, strings.NewReplacer("/", "_", ":", "_").Replace(s.Tag)+".tar")
		cmd := exec.Command(tool, "-o", out)
		cmd.Stdin = bytes.NewReader(in)
		if b, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("imagetool %s: %v: %s", s.Tag, err, b)
		}
		tars = append(tars, out)
	}
	return tars
}

// iptablesFiles collects the Debian iptables package's programs and
// extensions from this machine, the symbolic links (alternatives) that
// lead to them, and the shared libraries they load (ldd).
func iptablesFiles() ([]imageFile, error) {
	out, err := exec.Command("dpkg", "-L", "iptables").Output()
	if err != nil {
		return nil, fmt.Errorf("dpkg -L iptables: %w", err)
	}
	files := map[string]imageFile{}
	var elfs []string
	var add func(p string) error
	add = func(p string) error {
		if _, ok := files[p]; ok {
			return nil
		}
		st, err := os.Lstat(p)
		if err != nil {
			return err
		}
		switch {
		case st.Mode()&os.ModeSymlink != 0:
			target, err := os.Readlink(p)
			if err != nil {
				return err
			}
			files[p] = imageFile{Path: p, Link: target}
			abs := target
			if !filepath.IsAbs(abs) {
				abs = filepath.Join(filepath.Dir(p), target)
			}
			return add(filepath.Clean(abs))
		case st.Mode().IsRegular():
			files[p] = imageFile{Path: p, Src: p}
			if isELF(p) {
				elfs = append(elfs, p)
			}
		}
		return nil
	}
	sc := bufio.NewScanner(bytes.NewReader(out))
	for sc.Scan() {
		p := sc.Text()
		if !strings.HasPrefix(p, "/usr/sbin/") && !strings.HasPrefix(p, "/usr/bin/") && !strings.HasPrefix(p, "/usr/lib/") && !strings.HasPrefix(p, "/sbin/") {
			continue
		}
		if err := add(p); err != nil {
			return nil, err
		}
	}
	// The tools the rules' backends run, through their alternatives links.
	for _, tool := range []string{"iptables", "iptables-save", "iptables-restore", "ip6tables", "ip6tables-save", "ip6tables-restore"} {
		p, err := exec.LookPath(tool)
		if err != nil {
			return nil, err
		}
		if err := add(p); err != nil {
			return nil, err
		}
	}
	libs := map[string]bool{}
	for _, e := range elfs {
		ls, err := ldd(e)
		if err != nil {
			return nil, err
		}
		for _, l := range ls {
			libs[l] = true
		}
	}
	for l := range libs {
		if _, ok := files[l]; ok {
			continue
		}
		real, err := filepath.EvalSymlinks(l)
		if err != nil {
			return nil, err
		}
		files[l] = imageFile{Path: l, Src: real}
	}
	var list []imageFile
	for _, f := range files {
		list = append(list, f)
	}
	slices.SortFunc(list, func(a, b imageFile) int { return strings.Compare(a.Path, b.Path) })
	// A path may not pass through a symbolic link in the layer (/lib ->
	// usr/lib on merged-/usr Debian): such files are kept under the path
	// ldd printed, as real directories.
	return list, nil
}

func isELF(p string) bool {
	f, err := elf.Open(p)
	if err != nil {
		return false
	}
	f.Close()
	return true
}

var lddLine = regexp.MustCompile(`(?:=>\s*)?(/\S+)\s+\(0x`)

// ldd lists the shared libraries (and the loader) p loads.
func ldd(p string) ([]string, error) {
	out, err := exec.Command("ldd", p).Output()
	if err != nil {
		// Static or not a dynamic object: nothing to add.
		return nil, nil
	}
	var libs []string
	for _, line := range strings.Split(string(out), "\n") {
		if m := lddLine.FindStringSubmatch(line); m != nil {
			libs = append(libs, m[1])
		}
	}
	return libs, nil
}

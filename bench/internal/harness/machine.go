package harness

import (
	"bufio"
	"bytes"
	"context"
	"io"
	"os"
	"os/exec"
	"strings"
	"time"

	"golang.org/x/sys/unix"

	"github.com/meshdns/meshdns/bench/internal/contender"
)

func kernelRelease() string {
	var u unix.Utsname
	if err := unix.Uname(&u); err != nil {
		return "unknown"
	}
	return unix.ByteSliceToString(u.Release[:])
}

func cpuModel() string {
	f, err := os.Open("/proc/cpuinfo")
	if err != nil {
		return ""
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if k, v, ok := strings.Cut(sc.Text(), ":"); ok && strings.TrimSpace(k) == "model name" {
			return strings.TrimSpace(v)
		}
	}
	return ""
}

// firstLine runs a version command and returns the first line naming a
// version, or "".
func firstLine(match string, name string, args ...string) string {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	out, _ := exec.CommandContext(ctx, name, args...).CombinedOutput()
	for _, l := range strings.Split(string(out), "\n") {
		if strings.Contains(strings.ToLower(l), match) {
			return strings.TrimSpace(l)
		}
	}
	return ""
}

// versions records the versions of the programs used.
func versions(b contender.Bins) map[string]string {
	v := map[string]string{"istio.io/istio": IstioVersion}
	if s := firstLine("version", "dnsperf", "-h"); s != "" {
		v["dnsperf"] = s
	}
	if b.Dnsmasq != "" {
		if s := firstLine("version", b.Dnsmasq, "--version"); s != "" {
			v["dnsmasq"] = s
		}
	}
	if b.CoreDNS != "" {
		if s := firstLine("coredns", b.CoreDNS, "-version"); s != "" {
			v["coredns"] = s
		}
	}
	if b.Meshdns != "" {
		if s := firstLine("", b.Meshdns, "version"); s != "" {
			v["meshdns"] = s
		}
	}
	if s := firstLine("iptables", "iptables", "--version"); s != "" {
		v["iptables"] = s
	}
	return v
}

func copyFile(from, to string) error {
	in, err := os.Open(from)
	if err != nil {
		return err
	}
	defer in.Close()
	out, err := os.Create(to)
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		return err
	}
	return out.Close()
}

// runPlot runs the plot program.
func runPlot(bin, in, out string) (string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	var b bytes.Buffer
	cmd := exec.CommandContext(ctx, bin, "-in", in, "-out", out)
	cmd.Stdout, cmd.Stderr = &b, &b
	err := cmd.Run()
	return b.String(), err
}

// loadAvg returns the first three fields of /proc/loadavg.
func loadAvg() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return ""
	}
	f := strings.Fields(string(b))
	if len(f) < 3 {
		return ""
	}
	return strings.Join(f[:3], " ")
}

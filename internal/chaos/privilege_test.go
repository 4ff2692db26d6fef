package chaos_test

import (
	"context"
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/meshdns/meshdns/internal/loadgen"
	"github.com/meshdns/meshdns/internal/podtest"
)

// nobody is the unprivileged user meshdns runs as.
const nobody = "65534"

// readOnlyRoot remounts, inside the mount namespace `ip netns exec` made,
// every filesystem read-only (as a pod with readOnlyRootFilesystem), then
// runs "$@". Pseudo filesystems (proc, sysfs, cgroup...) are left alone.
const readOnlyRoot = `n=0
for m in $(findmnt -rn -o TARGET,FSTYPE | awk '$2 !~ /^(proc|sysfs|cgroup2?|devtmpfs|devpts|nsfs|mqueue|securityfs|debugfs|tracefs|bpf|configfs|fusectl|pstore|binfmt_misc|hugetlbfs|autofs|rpc_pipefs)$/ {print $1}'); do
  mount -o remount,bind,ro "$m" 2>/dev/null && n=$((n+1))
done
[ "$n" -gt 0 ] || { echo "no filesystem remounted read-only" >&2; exit 97; }
exec "$@"`

// setprivNetAdmin runs a program as nobody with CAP_NET_ADMIN only
// (ambient, so it survives exec into meshdns and from meshdns into
// iptables-restore), as a container with capabilities {drop: [ALL], add:
// [NET_ADMIN]}, runAsUser 65534 and allowPrivilegeEscalation false.
var setprivNetAdmin = []string{"setpriv", "--reuid=" + nobody, "--regid=" + nobody, "--clear-groups", "--no-new-privs",
	"--inh-caps=-all,+net_admin", "--ambient-caps=-all,+net_admin", "--bounding-set=-all,+net_admin"}

// setprivNoCaps is the same without any capability.
var setprivNoCaps = []string{"setpriv", "--reuid=" + nobody, "--regid=" + nobody, "--clear-groups", "--no-new-privs",
	"--inh-caps=-all", "--ambient-caps=-all", "--bounding-set=-all"}

// TestLeastPrivilege: meshdns as it would run in a locked-down pod: as
// nobody, with only CAP_NET_ADMIN (ambient), on a read-only root. The rules
// are installed as an init container would (`meshdns rules install`), then
// `meshdns run --rules=none` serves under load; both work, and since every
// filesystem is read-only nothing can have been written. Without the
// capability each command fails with a clear message and exit status 1,
// not a crash.
func TestLeastPrivilege(t *testing.T) {
	prof := getProfile()
	rec := newRecorder(t, "7", "least privilege: nobody, CAP_NET_ADMIN only, read-only root", prof)
	rec.note("Every command runs under setpriv as uid/gid 65534 with CAP_NET_ADMIN as its only capability (inheritable, " +
		"ambient and bounding sets; no_new_privs), inside a mount namespace in which every filesystem has been " +
		"remounted read-only: whatever works there wrote no file. This is a pod with runAsUser 65534, " +
		"capabilities {drop: [ALL], add: [NET_ADMIN]}, allowPrivilegeEscalation: false and readOnlyRootFilesystem.")
	dir := worldDir(t)
	bin := copyBinary(t, dir, "meshdns")
	objects := podObjects(t)
	p := podtest.Start(t, podtest.Config{NoMeshdns: true})
	wrap := func(priv []string, args ...string) []string {
		return append(append([]string{"sh", "-c", readOnlyRoot, "sh"}, priv...), append([]string{bin}, args...)...)
	}
	run := func(argv []string) (string, int) {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		out, err := p.Command(ctx, argv[0], argv[1:]...).CombinedOutput()
		code := 0
		if err != nil {
			code = -1
			if ee, ok := err.(interface{ ExitCode() int }); ok {
				code = ee.ExitCode()
			}
		}
		return string(out), code
	}

	// The read-only root really is read-only for what runs in it.
	probe := append(append([]string{"sh", "-c", readOnlyRoot, "sh"}, setprivNetAdmin...), "sh", "-c", "touch /tmp/mdt-chaos-probe; id -u")
	out, code := run(probe)
	rec.check(code == 0 && strings.Contains(out, "Read-only file system") && strings.Contains(out, nobody),
		"the wrapper runs as nobody on a read-only root", "%q (exit %d)", strings.TrimSpace(out), code)

	// The init container's step.
	out, code = run(wrap(setprivNetAdmin, "rules", "install"))
	rules := p.MustExec(t, "iptables-save")
	rec.check(code == 0 && strings.Contains(rules, "-j NFQUEUE"), "`meshdns rules install` as nobody with CAP_NET_ADMIN",
		"exit %d: %s", code, lastLine(out))

	// The sidecar with its default flags: it must need nothing writable.
	dp := startProc(t, p.Topo.Pod, wrap(setprivNetAdmin, "run", "--rules=none", "--objects", objects, "--queues=2")...)
	err := dp.WaitReady(context.Background(), 30*time.Second)
	rec.check(err == nil, "`meshdns run` with default flags starts as nobody on a read-only root", "%s", lastLine(dp.Logs()))
	if err == nil {
		terminate(dp, 10*time.Second)
	}
	// Files meshdns needs are its config, handed to it read-only: the
	// TCP cookie key, when the binary has one, as a mounted Secret would
	// be.
	var extra []string
	if help, _ := run([]string{bin, "run", "-h"}); strings.Contains(help, "-tcp-key-file") {
		key := dir + "/tcp-isn.key"
		if err := os.WriteFile(key, []byte("0123456789abcdef0123456789abcdef"), 0o600); err != nil {
			t.Fatal(err)
		}
		if err := os.Chown(key, 65534, 65534); err != nil {
			t.Fatal(err)
		}
		extra = append(extra, "--tcp-key-file="+key)
		rec.figure("configuration handed to meshdns", "objects file and a TCP cookie key file (--tcp-key-file), read-only")
	}

	// The sidecar.
	mp := startProc(t, p.Topo.Pod, wrap(setprivNetAdmin, append([]string{"run", "--rules=none", "--objects", objects, "--queues=2"}, extra...)...)...)
	if err := mp.WaitReady(context.Background(), 30*time.Second); err != nil {
		t.Fatal(err)
	}
	status, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", mp.Pid()))
	if err != nil {
		t.Fatal(err)
	}
	st := procStatus(string(status))
	rec.figure("meshdns process credentials", "Uid %s; CapEff %s CapPrm %s CapAmb %s CapBnd %s; NoNewPrivs %s",
		st["Uid"], st["CapEff"], st["CapPrm"], st["CapAmb"], st["CapBnd"], st["NoNewPrivs"])
	const netAdmin = "0000000000001000" // 1 << CAP_NET_ADMIN (12)
	rec.check(strings.HasPrefix(st["Uid"], nobody+"\t") && st["CapEff"] == netAdmin && st["CapPrm"] == netAdmin && st["CapBnd"] == netAdmin,
		"meshdns runs as nobody with CAP_NET_ADMIN alone", "Uid %q CapEff %s CapBnd %s", st["Uid"], st["CapEff"], st["CapBnd"])

	l := startLoad(t, p, prof, 2*prof.steady, 0)
	res := l.wait(t)
	rec.load(res)
	total := res.Summary()
	var mesh, local int
	for _, r := range res.Records {
		if r.Mesh {
			mesh++
			if r.Class == loadgen.Local {
				local++
			}
		}
	}
	rec.check(total.Lost == 0 && total.Wrong == 0 && local == mesh, "serves under load: every mesh query answered locally, none lost",
		"%d of %d mesh queries local, %d lost, %d wrong", local, mesh, total.Lost, total.Wrong)

	stopped, err := terminate(mp, 10*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	rec.check(stopped.ExitCode() == 0 && strings.Contains(p.MustExec(t, "iptables-save"), "-j NFQUEUE"),
		"SIGTERM: exit 0, the init container's rules left in place (--rules=none)", "exit %d", stopped.ExitCode())
	out, code = run(wrap(setprivNetAdmin, "rules", "remove"))
	rec.check(code == 0 && !strings.Contains(p.MustExec(t, "iptables-save"), "MESHDNS"), "`meshdns rules remove` as nobody with CAP_NET_ADMIN",
		"exit %d: %s", code, lastLine(out))
	rec.noCrashSigns("meshdns", mp.Logs())

	// The sidecar alone managing its rules (no init container), as
	// nobody: installs on start, removes on SIGTERM.
	sp := startProc(t, p.Topo.Pod, wrap(setprivNetAdmin, append([]string{"run", "--objects", objects, "--queues=2"}, extra...)...)...)
	if err := sp.WaitReady(context.Background(), 30*time.Second); err != nil {
		t.Fatal(err)
	}
	d := p.Dig(t, "web.default.svc.cluster.local", "A")
	stopped, err = terminate(sp, 10*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	left := strings.Contains(p.MustExec(t, "iptables-save"), "MESHDNS")
	rec.check(d.Flag("aa") && stopped.ExitCode() == 0 && !left, "`meshdns run` managing its own rules as nobody: answers, removes its rules on SIGTERM",
		"aa %v, exit %d, rules left %v", d.Flag("aa"), stopped.ExitCode(), left)
	rec.check(!strings.Contains(sp.Logs(), "level=ERROR"), "`meshdns run` as nobody logs no error while removing its rules on SIGTERM", "%s", firstLine(sp.Logs(), "level=ERROR"))
	if left {
		p.MustExec(t, bin, "rules", "remove") // as root, for what follows
	}

	// Without the capability: clear errors, exit status 1.
	for _, tc := range []struct {
		name string
		args []string
		want string
	}{
		{"rules install", []string{"rules", "install"}, "meshdns rules: "},
		{"run", []string{"run", "--objects", objects}, "meshdns run: "},
		{"run --rules=none", []string{"run", "--rules=none", "--objects", objects}, "meshdns run: "},
	} {
		out, code := run(wrap(setprivNoCaps, tc.args...))
		msg := lastLine(out)
		clean := !strings.Contains(out, "panic") && !strings.Contains(out, "goroutine ")
		rec.figure("without CAP_NET_ADMIN: meshdns "+tc.name, "exit %d: %s", code, msg)
		rec.check(code == 1 && strings.HasPrefix(msg, tc.want) && clean && mentionsPermission(msg),
			"without CAP_NET_ADMIN `meshdns "+tc.name+"` fails clearly", "exit %d: %q", code, msg)
	}
	rec.check(!strings.Contains(p.MustExec(t, "iptables-save"), "MESHDNS"), "no rules left behind by the failed starts", "")
}

// mentionsPermission reports whether an error message names the missing
// privilege.
func mentionsPermission(msg string) bool {
	m := strings.ToLower(msg)
	for _, s := range []string{"not permitted", "permission denied", "cap_net_admin", "must be root"} {
		if strings.Contains(m, s) {
			return true
		}
	}
	return false
}

// procStatus parses /proc/<pid>/status.
func procStatus(s string) map[string]string {
	m := map[string]string{}
	for _, l := range strings.Split(s, "\n") {
		if k, v, ok := strings.Cut(l, ":"); ok {
			m[k] = strings.TrimSpace(v)
		}
	}
	return m
}

func lastLine(s string) string {
	s = strings.TrimSpace(s)
	if i := strings.LastIndexByte(s, '\n'); i >= 0 {
		return s[i+1:]
	}
	return s
}

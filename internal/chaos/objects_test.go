package chaos_test

import (
	"os"
	"strings"
	"testing"
	"time"

	"github.com/meshdns/meshdns/internal/loadgen"
	"github.com/meshdns/meshdns/internal/podtest"
)

// brokenObjects are the replacements of the objects file that must not
// touch the running table, with what each stands for.
var brokenObjects = []struct {
	what    string
	content string // "" with remove: the file is deleted
	remove  bool
}{
	{what: "invalid YAML", content: "apiVersion: v1\nitems:\n- kind: Service\n  metadata: {name: web\n"},
	{what: "a List whose items is not a list", content: "apiVersion: v1\nkind: List\nitems: 5\n"},
	{what: "binary garbage", content: "\x00\x01\x02\xff\xfe{{{[[[\x00"},
	{what: "the file deleted", remove: true},
}

// TestBrokenObjectsFile: under load, the objects file is replaced by
// broken ones (atomically, as a kubelet updates a ConfigMap volume) and
// finally by a good one with one more Service. The running table keeps
// serving throughout (every mesh query answered locally), each broken
// replacement is logged once as "objects reload failed" (the error the
// objects source counts in Source.Stats().Errors), and the good file is
// loaded. The API server source's equivalent (API server stopped and
// restarted) is covered by sync/kube/apiservertest.
func TestBrokenObjectsFile(t *testing.T) {
	prof := getProfile()
	rec := newRecorder(t, "5", "objects file replaced by broken ones under load", prof)
	rec.note("Replacements are atomic renames, as a kubelet updates a ConfigMap volume; meshdns looks at the file every " +
		"100 ms here (--reload-interval). A file that does not parse, or has gone, is logged (\"objects reload failed\", " +
		"counted in the objects source's Stats().Errors) and the running table stays. A well-formed file in which one " +
		"Service is malformed is not broken: meshdns skips that object with a warning and loads the rest, so the " +
		"Service's name leaves the table and, the cluster domain being authoritative, gets meshdns's NXDOMAIN until the " +
		"file is fixed; the wrong answers counted here are those. The API server source's equivalent (API server " +
		"stopped and restarted) is covered by sync/kube/apiservertest.")
	objects := podObjects(t)
	good, err := os.ReadFile(objects)
	if err != nil {
		t.Fatal(err)
	}
	p := podtest.Start(t, podtest.Config{Objects: objects, Args: []string{"--reload-interval=100ms"}})
	step := prof.steady / 2
	rounds := 1
	if prof.long {
		rounds = 4
	}
	n := rounds*len(brokenObjects) + 1 // the last: the malformed Service
	l := startLoad(t, p, prof, time.Duration(n+3)*step, 0)
	rec.zero = l.begin
	var worstDetect time.Duration
	failures := 0
	k := 0
	for r := range rounds {
		for i, b := range brokenObjects {
			l.sleepUntil(time.Duration(k+1) * step)
			k++
			want := countLines(p.Meshdns.Logs(), "objects reload failed") + 1
			at := time.Now()
			if b.remove {
				if err := os.Remove(objects); err != nil {
					t.Fatal(err)
				}
			} else {
				// Each round's content differs, so each is a new failure.
				c := b.content
				if r > 0 {
					c += strings.Repeat("\n", r)
				}
				writeAtomic(t, objects, []byte(c))
			}
			if r == 0 {
				rec.fault(at, "%s", b.what)
			}
			if _, err := p.Meshdns.WaitLog(5*time.Second, "objects reload failed"); err != nil {
				t.Fatal(err)
			}
			deadline := time.Now().Add(5 * time.Second)
			for countLines(p.Meshdns.Logs(), "objects reload failed") < want && time.Now().Before(deadline) {
				time.Sleep(5 * time.Millisecond)
			}
			d := time.Since(at)
			if countLines(p.Meshdns.Logs(), "objects reload failed") >= want {
				failures++
				worstDetect = max(worstDetect, d)
			} else {
				t.Errorf("replacement %d (%s): no new \"objects reload failed\" line within 5 s", i, b.what)
			}
		}
	}
	if rounds > 1 {
		rec.fault(time.Now(), "each broken replacement repeated %d times, with different content each time", rounds)
	}
	// A well-formed file in which one Service's addresses are malformed:
	// not a broken file, but meshdns skips that object (a warning) and
	// the name is then missing from its table. Measured, not asserted.
	l.sleepUntil(time.Duration(k+1) * step)
	k++
	semanticAt := time.Now()
	writeAtomic(t, objects, []byte(strings.ReplaceAll(string(good), "10.96.23.17", "10.96.23.999")))
	rec.fault(semanticAt, "a well-formed file whose Service default/web has a malformed clusterIP")
	if _, err := p.Meshdns.WaitLog(5*time.Second, "object skipped", "10.96.23.999"); err != nil {
		t.Fatal(err)
	}

	// A good file again, with one more Service.
	l.sleepUntil(time.Duration(k+1) * step)
	loadsBefore := countLines(p.Meshdns.Logs(), "name table loaded")
	extra := "---\napiVersion: v1\nkind: Service\nmetadata:\n  name: added\n  namespace: default\nspec:\n  type: ClusterIP\n" +
		"  clusterIP: 10.96.0.77\n  ports:\n  - port: 80\n"
	fixedAt := time.Now()
	writeAtomic(t, objects, append(append([]byte{}, good...), extra...))
	rec.fault(fixedAt, "a good file with one more Service")
	deadline := time.Now().Add(5 * time.Second)
	for countLines(p.Meshdns.Logs(), "name table loaded") <= loadsBefore && time.Now().Before(deadline) {
		time.Sleep(5 * time.Millisecond)
	}
	reload := time.Since(fixedAt)
	res := l.wait(t)
	rec.load(res)

	logs := p.Meshdns.Logs()
	total := res.Summary()
	var mesh loadgen.Counts
	var web [5]int // by class, while web's Service was malformed
	for _, r := range res.Records {
		at := res.Time(r)
		if r.Mesh && at.Before(semanticAt) {
			mesh.Sent++
			if r.Class == loadgen.Local {
				mesh.Local++
			}
		}
		if at.After(semanticAt.Add(300*time.Millisecond)) && at.Before(fixedAt) && strings.HasPrefix(res.Describe(r), "web.default.") {
			web[r.Class]++
		}
	}
	errLines := countLines(logs, "objects reload failed")
	d := p.Dig(t, "added.default.svc.cluster.local", "A")
	rec.figure("broken replacements", "%d, logged as \"objects reload failed\" (%d lines)", n-1, errLines)
	rec.figure("example log line", "%s", firstLine(logs, "objects reload failed"))
	rec.recovery("broken file logged after (worst)", worstDetect)
	rec.recovery("good file loaded after", reload)
	rec.figure("web.default.svc.cluster.local queries while its Service was malformed (skipped)",
		"%d answered locally as before, %d by the upstream, %d otherwise (meshdns's NXDOMAIN/NODATA for a name missing from its zone), %d lost",
		web[loadgen.Local], web[loadgen.Upstream], web[loadgen.Wrong], web[loadgen.Lost])
	before := res.Window(res.Start, semanticAt)
	rec.check(total.Lost == 0 && before.Wrong == 0, "0 lost, 0 wrong (until the malformed Service)", "%d lost, %d wrong", total.Lost, before.Wrong)
	rec.check(mesh.Local == mesh.Sent, "the running table kept serving through the broken files: every mesh query answered locally", "%d of %d", mesh.Local, mesh.Sent)
	rec.check(failures == n-1 && errLines == n-1, "each broken replacement logged (and counted) once", "%d replacements, %d lines", n-1, errLines)
	rec.check(countLines(logs, "name table loaded") > loadsBefore && len(d.Answer) == 1 && strings.Contains(d.Answer[0].String(), "10.96.0.77") && d.Flag("aa"),
		"the good file was loaded: the new Service answered locally", "%v", d.Answer)
	rec.check(!p.Meshdns.Exited(), "meshdns still running", "")
	rec.noCrashSigns("meshdns", logs)
}

func firstLine(log, substr string) string {
	for _, l := range strings.Split(log, "\n") {
		if strings.Contains(l, substr) {
			return l
		}
	}
	return ""
}

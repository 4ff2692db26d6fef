package podtest

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"testing"
)

// BinaryEnv names the environment variable that, when set, gives the path of
// a prebuilt meshdns binary to test instead of building one.
const BinaryEnv = "MESHDNS_BIN"

// modulePath is the Go module meshdns is built from.
const modulePath = "github.com/meshdns/meshdns"

// build holds the one build of the test binary's life.
var build struct {
	once sync.Once
	dir  string // temporary directory holding the binary; removed by Main
	path string
	err  error
}

// Binary returns the path of the meshdns binary under test: MESHDNS_BIN when
// set, otherwise cmd/meshdns built (once per test binary) into a temporary
// directory. A failed build fails t, with the compiler's output.
func Binary(t testing.TB) string {
	t.Helper()
	build.once.Do(func() { build.path, build.err = buildBinary() })
	if build.err != nil {
		t.Fatalf("podtest: %v", build.err)
	}
	return build.path
}

func buildBinary() (string, error) {
	if p := os.Getenv(BinaryEnv); p != "" {
		abs, err := filepath.Abs(p)
		if err != nil {
			return "", err
		}
		if _, err := os.Stat(abs); err != nil {
			return "", fmt.Errorf("%s: %w", BinaryEnv, err)
		}
		return abs, nil
	}
	root, err := moduleRoot()
	if err != nil {
		return "", err
	}
	goTool, err := goCommand()
	if err != nil {
		return "", err
	}
	removeStaleBuilds()
	dir, err := os.MkdirTemp("", fmt.Sprintf("podtest-meshdns-%d-", os.Getpid()))
	if err != nil {
		return "", err
	}
	build.dir = dir
	out := filepath.Join(dir, "meshdns")
	cmd := exec.Command(goTool, "build", "-o", out, "./cmd/meshdns")
	cmd.Dir = root
	var log bytes.Buffer
	cmd.Stdout, cmd.Stderr = &log, &log
	if err := cmd.Run(); err != nil {
		return "", fmt.Errorf("go build ./cmd/meshdns in %s: %w\n%s", root, err, log.Bytes())
	}
	return out, nil
}

// moduleRoot walks up from the working directory (a test runs in its
// package's directory) to the go.mod of the meshdns module.
func moduleRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		b, err := os.ReadFile(filepath.Join(dir, "go.mod"))
		if err == nil && modLine(b) == modulePath {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", fmt.Errorf("no go.mod of module %s above the working directory (set %s to a built binary)", modulePath, BinaryEnv)
		}
		dir = parent
	}
}

// modLine returns the module path a go.mod declares.
func modLine(gomod []byte) string {
	for _, l := range strings.Split(string(gomod), "\n") {
		if f := strings.Fields(l); len(f) == 2 && f[0] == "module" {
			return strings.Trim(f[1], `"`)
		}
	}
	return ""
}

// goCommand finds the go tool: on PATH, else in the GOROOT the test binary
// was built with (sudo often drops /usr/local/go/bin from PATH).
func goCommand() (string, error) {
	if p, err := exec.LookPath("go"); err == nil {
		return p, nil
	}
	for _, p := range []string{filepath.Join(runtime.GOROOT(), "bin", "go"), "/usr/local/go/bin/go"} {
		if _, err := os.Stat(p); err == nil {
			return p, nil
		}
	}
	return "", errors.New("no go tool on PATH or in GOROOT (set " + BinaryEnv + " to a built binary)")
}

// Main is the TestMain of a package that uses podtest: when the test binary
// was re-executed by GoLookup it performs that lookup and exits; otherwise
// it runs the tests and then removes the built binary.
func Main(m *testing.M) {
	if spec := os.Getenv(lookupEnv); spec != "" {
		os.Exit(lookupChild(spec, os.Stdout))
	}
	code := m.Run()
	if build.dir != "" {
		os.RemoveAll(build.dir)
	}
	os.Exit(code)
}

// staleBuild matches the build directories of test processes.
var staleBuild = regexp.MustCompile(`^podtest-meshdns-([0-9]+)-`)

// removeStaleBuilds removes build directories that test processes which
// died before Main could clean up left in the temporary directory.
func removeStaleBuilds() {
	ents, _ := os.ReadDir(os.TempDir())
	for _, e := range ents {
		m := staleBuild.FindStringSubmatch(e.Name())
		if m == nil || !e.IsDir() {
			continue
		}
		if pid, err := strconv.Atoi(m[1]); err == nil && pid != os.Getpid() && !alive(pid) {
			os.RemoveAll(filepath.Join(os.TempDir(), e.Name()))
		}
	}
}

package netns

import (
	"context"
	"os/exec"
)

// Command returns a command that runs name with args inside namespace ns:
// `ip netns exec <ns> name args...`. ip(8) execs the program in its own
// process, so Process.Pid and signals reach the program itself. The program
// sees /etc/netns/<ns>/resolv.conf, when there is one, as /etc/resolv.conf.
// Cancelling ctx kills it as exec.CommandContext does.
func Command(ctx context.Context, ns, name string, args ...string) *exec.Cmd {
	return exec.CommandContext(ctx, "ip", append([]string{"netns", "exec", ns, name}, args...)...)
}

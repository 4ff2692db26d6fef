package cniplugin

import (
	"bytes"
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/containernetworking/cni/pkg/skel"

	"github.com/meshdns/meshdns/nfq/rules"
	"github.com/meshdns/meshdns/node/podevent"
)

// fakeRules records the namespaces rules were installed in and removed
// from.
type fakeRules struct{ installed, removed []string }

func (f *fakeRules) Install(_ context.Context, netns string, _ rules.Config) error {
	f.installed = append(f.installed, netns)
	return nil
}

func (f *fakeRules) Remove(_ context.Context, netns string, _ rules.Config) error {
	f.removed = append(f.removed, netns)
	return nil
}

const stdinConf = `{"cniVersion":"1.0.0","name":"pods","type":"meshdns-cni","agentSocket":"/run/x.sock",
"nameservers":["10.96.0.10"],
"prevResult":{"cniVersion":"1.0.0","ips":[{"address":"10.88.0.5/24"}]}}`

// TestAdd: the agent is asked first; the rules go in unless it leaves the
// pod alone, also when it cannot be reached (the bypass keeps DNS
// working); the previous result is printed in every case.
func TestAdd(t *testing.T) {
	for _, tc := range []struct {
		name    string
		reply   error
		install bool
	}{
		{"captured", nil, true},
		{"left alone", podevent.ErrNotCaptured, false},
		{"agent down", errors.New("connection refused"), true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			fr := &fakeRules{}
			var told []podevent.Event
			var out bytes.Buffer
			p := &Plugin{Rules: fr, Stdout: &out, Notify: func(_ context.Context, socket string, e podevent.Event) error {
				if socket != "/run/x.sock" {
					t.Errorf("socket %q", socket)
				}
				if len(fr.installed) != 0 {
					t.Error("rules installed before the agent was asked")
				}
				told = append(told, e)
				return tc.reply
			}}
			a := &skel.CmdArgs{ContainerID: "c1", Netns: "/run/netns/cni-1", IfName: "eth0",
				Args: "IgnoreUnknown=1;K8S_POD_NAMESPACE=shop;K8S_POD_NAME=web-1;K8S_POD_UID=u1", StdinData: []byte(stdinConf)}
			if err := p.Add(a); err != nil {
				t.Fatal(err)
			}
			if len(told) != 1 || told[0].Namespace != "shop" || told[0].Name != "web-1" || told[0].UID != "u1" || told[0].NetNS != "/run/netns/cni-1" {
				t.Errorf("agent told %+v", told)
			}
			if got := len(fr.installed) == 1; got != tc.install {
				t.Errorf("rules installed in %v, want installed %v", fr.installed, tc.install)
			}
			if !strings.Contains(out.String(), "10.88.0.5/24") {
				t.Errorf("previous result not printed: %q", out.String())
			}
		})
	}
}

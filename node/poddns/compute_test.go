package poddns

import (
	"os"
	"slices"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

func nodeHost(t *testing.T) Host {
	t.Helper()
	f, err := os.Open("testdata/node-resolv.conf")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	h, err := ParseHost(f)
	if err != nil {
		t.Fatal(err)
	}
	return h
}

func pod(ns string, policy corev1.DNSPolicy, hostNet bool, cfg *corev1.PodDNSConfig) *corev1.Pod {
	return &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: "p", Namespace: ns},
		Spec:       corev1.PodSpec{DNSPolicy: policy, HostNetwork: hostNet, DNSConfig: cfg},
	}
}

func ptr(s string) *string { return &s }

func TestParseHost(t *testing.T) {
	h := nodeHost(t)
	want := Host{
		Nameservers: []string{"10.0.0.2", "10.0.0.3"},
		Searches:    []string{"ec2.internal", "corp.example"},
		Options:     []string{"timeout:2", "attempts:3"},
	}
	if !slices.Equal(h.Nameservers, want.Nameservers) || !slices.Equal(h.Searches, want.Searches) || !slices.Equal(h.Options, want.Options) {
		t.Fatalf("ParseHost = %+v, want %+v", h, want)
	}
	if _, err := ParseHost(strings.NewReader("nameserver\nnameserver 1.1.1.1\n")); err == nil {
		t.Fatal("a nameserver line without an address: want an error")
	}
	h2, _ := ParseHost(strings.NewReader("options a b\noptions c\nsearch x\nsearch y z\n"))
	if !slices.Equal(h2.Options, []string{"c"}) || !slices.Equal(h2.Searches, []string{"y", "z"}) {
		t.Fatalf("last options/search line must win: %+v", h2)
	}
}

func TestFor(t *testing.T) {
	host := nodeHost(t)
	kubelet := Kubelet{ClusterDNS: []string{"10.96.0.10"}, ClusterDomain: "cluster.local", Host: host, HostFile: true}
	noDNS := kubelet
	noDNS.ClusterDNS = nil
	noFile := Kubelet{ClusterDNS: []string{"10.96.0.10"}, ClusterDomain: "cluster.local", NodeIPs: []string{"192.0.2.1", "2001:db8::1"}}
	longDomain := strings.Repeat("a", 254)
	many := make([]string, 40)
	for i := range many {
		many[i] = "d" + strings.Repeat("x", 60) + string(rune('a'+i%26)) + strings.Repeat("y", i)
	}
	tests := []struct {
		name    string
		pod     *corev1.Pod
		k       Kubelet
		want    DNS
		warning bool
	}{
		{
			name: "ClusterFirst",
			pod:  pod("shop", corev1.DNSClusterFirst, false, nil),
			k:    kubelet,
			want: DNS{
				Nameservers: []string{"10.96.0.10"},
				Searches:    []string{"shop.svc.cluster.local", "svc.cluster.local", "cluster.local", "ec2.internal", "corp.example"},
				Options:     []string{"ndots:5"},
			},
		},
		{
			name: "empty policy is ClusterFirst",
			pod:  pod("shop", "", false, nil),
			k:    kubelet,
			want: DNS{
				Nameservers: []string{"10.96.0.10"},
				Searches:    []string{"shop.svc.cluster.local", "svc.cluster.local", "cluster.local", "ec2.internal", "corp.example"},
				Options:     []string{"ndots:5"},
			},
		},
		{
			name: "ClusterFirst on the host network is Default",
			pod:  pod("shop", corev1.DNSClusterFirst, true, nil),
			k:    kubelet,
			want: DNS{Nameservers: host.Nameservers, Searches: host.Searches, Options: host.Options},
		},
		{
			name: "ClusterFirstWithHostNet",
			pod:  pod("shop", corev1.DNSClusterFirstWithHostNet, true, nil),
			k:    kubelet,
			want: DNS{
				Nameservers: []string{"10.96.0.10"},
				Searches:    []string{"shop.svc.cluster.local", "svc.cluster.local", "cluster.local", "ec2.internal", "corp.example"},
				Options:     []string{"ndots:5"},
			},
		},
		{
			name: "Default",
			pod:  pod("shop", corev1.DNSDefault, false, nil),
			k:    kubelet,
			want: DNS{Nameservers: host.Nameservers, Searches: host.Searches, Options: host.Options},
		},
		{
			name:    "ClusterFirst without cluster DNS falls back to Default",
			pod:     pod("shop", corev1.DNSClusterFirst, false, nil),
			k:       noDNS,
			want:    DNS{Nameservers: host.Nameservers, Searches: host.Searches, Options: host.Options},
			warning: true,
		},
		{
			name: "Default without a kubelet resolv.conf: loopback per node family, search .",
			pod:  pod("shop", corev1.DNSDefault, false, nil),
			k:    noFile,
			want: DNS{Nameservers: []string{"127.0.0.1", "::1"}, Searches: []string{"."}},
		},
		{
			name: "no cluster domain: the node's search list only",
			pod:  pod("shop", corev1.DNSClusterFirst, false, nil),
			k:    Kubelet{ClusterDNS: []string{"10.96.0.10"}, Host: host, HostFile: true},
			want: DNS{Nameservers: []string{"10.96.0.10"}, Searches: host.Searches, Options: []string{"ndots:5"}},
		},
		{
			name: "None with dnsConfig",
			pod: pod("shop", corev1.DNSNone, false, &corev1.PodDNSConfig{
				Nameservers: []string{"1.1.1.1"}, Searches: []string{"a.example"},
				Options: []corev1.PodDNSConfigOption{{Name: "ndots", Value: ptr("2")}, {Name: "edns0"}},
			}),
			k:    kubelet,
			want: DNS{Nameservers: []string{"1.1.1.1"}, Searches: []string{"a.example"}, Options: []string{"ndots:2", "edns0"}},
		},
		{
			name: "ClusterFirst with dnsConfig: appended, duplicates dropped, options overridden by name",
			pod: pod("shop", corev1.DNSClusterFirst, false, &corev1.PodDNSConfig{
				Nameservers: []string{"10.96.0.10", "1.1.1.1"}, Searches: []string{"cluster.local", "x.example"},
				Options: []corev1.PodDNSConfigOption{{Name: "ndots", Value: ptr("1")}, {Name: "single-request-reopen"}},
			}),
			k: kubelet,
			want: DNS{
				Nameservers: []string{"10.96.0.10", "1.1.1.1"},
				Searches:    []string{"shop.svc.cluster.local", "svc.cluster.local", "cluster.local", "ec2.internal", "corp.example", "x.example"},
				Options:     []string{"ndots:1", "single-request-reopen"},
			},
		},
		{
			name: "more than 3 nameservers are cut",
			pod: pod("shop", corev1.DNSClusterFirst, false, &corev1.PodDNSConfig{
				Nameservers: []string{"1.1.1.1", "8.8.8.8", "9.9.9.9"},
			}),
			k: kubelet,
			want: DNS{
				Nameservers: []string{"10.96.0.10", "1.1.1.1", "8.8.8.8"},
				Searches:    []string{"shop.svc.cluster.local", "svc.cluster.local", "cluster.local", "ec2.internal", "corp.example"},
				Options:     []string{"ndots:5"},
			},
			warning: true,
		},
		{
			name:    "a search domain over 253 characters is dropped",
			pod:     pod("shop", corev1.DNSNone, false, &corev1.PodDNSConfig{Nameservers: []string{"1.1.1.1"}, Searches: []string{"a.example", longDomain, "b.example"}}),
			k:       kubelet,
			want:    DNS{Nameservers: []string{"1.1.1.1"}, Searches: []string{"a.example", "b.example"}},
			warning: true,
		},
		{
			name:    "32 search domains at most, 2048 characters at most",
			pod:     pod("shop", corev1.DNSNone, false, &corev1.PodDNSConfig{Nameservers: []string{"1.1.1.1"}, Searches: many}),
			k:       kubelet,
			want:    DNS{Nameservers: []string{"1.1.1.1"}, Searches: fitChars(many[:32])},
			warning: true,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := For(tt.pod, tt.k)
			if !slices.Equal(got.Nameservers, tt.want.Nameservers) {
				t.Errorf("nameservers = %q, want %q", got.Nameservers, tt.want.Nameservers)
			}
			if !slices.Equal(got.Searches, tt.want.Searches) {
				t.Errorf("searches = %q, want %q", got.Searches, tt.want.Searches)
			}
			if !slices.Equal(got.Options, tt.want.Options) {
				t.Errorf("options = %q, want %q", got.Options, tt.want.Options)
			}
			if (len(got.Warnings) > 0) != tt.warning {
				t.Errorf("warnings = %q, want any: %v", got.Warnings, tt.warning)
			}
			if n := len(strings.Join(got.Searches, " ")); n > MaxSearchListChars {
				t.Errorf("search line of %d characters", n)
			}
		})
	}
}

// fitChars is the slow reference of the character limit: drop the last
// domain while the joined line is too long.
func fitChars(s []string) []string {
	s = slices.Clone(s)
	for len(strings.Join(s, " ")) > MaxSearchListChars {
		s = s[:len(s)-1]
	}
	return s
}

// TestForDoesNotAliasKubelet checks that a pod's config never writes into
// the node's.
func TestForDoesNotAliasKubelet(t *testing.T) {
	k := Kubelet{Host: Host{Nameservers: []string{"10.0.0.2"}, Searches: []string{"a", "b"}}, HostFile: true}
	p := pod("shop", corev1.DNSDefault, false, &corev1.PodDNSConfig{Searches: []string{strings.Repeat("x", 300)}})
	For(p, k)
	if !slices.Equal(k.Host.Searches, []string{"a", "b"}) {
		t.Fatalf("host searches changed: %q", k.Host.Searches)
	}
}

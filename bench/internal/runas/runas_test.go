package runas

import (
	"slices"
	"testing"
)

func TestArgs(t *testing.T) {
	uid, gid, argv, err := Args([]string{"1337", "1338", "--", "dnsmasq", "-k"})
	if err != nil || uid != 1337 || gid != 1338 || !slices.Equal(argv, []string{"dnsmasq", "-k"}) {
		t.Errorf("Args = %d %d %v %v", uid, gid, argv, err)
	}
	for _, bad := range [][]string{
		nil,
		{"1337", "1337", "dnsmasq"},
		{"1337", "1337", "--"},
		{"0", "1337", "--", "x"},
		{"1337", "-1", "--", "x"},
		{"root", "1337", "--", "x"},
	} {
		if _, _, _, err := Args(bad); err == nil {
			t.Errorf("Args(%q) accepted", bad)
		}
	}
}

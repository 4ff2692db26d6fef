package main

import (
	"errors"
	"io/fs"
	"testing"
)

func TestMemLimit(t *testing.T) {
	const v2, v1 = "/sys/fs/cgroup/memory.max", "/sys/fs/cgroup/memory/memory.limit_in_bytes"
	const self = "/proc/self/cgroup"
	inPod := "0::/\n" // a container's own cgroup namespace
	for _, tc := range []struct {
		name      string
		env       string
		files     map[string]string
		wantLimit int64
		wantOK    bool
		wantErr   bool
	}{
		{name: "cgroup v2 limit", files: map[string]string{self: inPod, v2: "134217728\n"}, wantLimit: 100663296, wantOK: true},
		{name: "cgroup v2 no limit", files: map[string]string{self: inPod, v2: "max\n"}},
		{name: "cgroup v2, the process's own cgroup", files: map[string]string{self: "0::/kubepods/pod1/c1\n", "/sys/fs/cgroup/kubepods/pod1/c1/memory.max": "67108864", v2: "max"}, wantLimit: 50331648, wantOK: true},
		{name: "cgroup v1 limit", files: map[string]string{v1: "201326592\n"}, wantLimit: 150994944, wantOK: true},
		{name: "cgroup v1, the process's own memory cgroup", files: map[string]string{self: "4:memory:/kubepods/burstable/pod1/c1\n3:cpu,cpuacct:/kubepods\n0::/\n",
			"/sys/fs/cgroup/memory/kubepods/burstable/pod1/c1/memory.limit_in_bytes": "134217728", v1: "9223372036854771712"}, wantLimit: 100663296, wantOK: true},
		{name: "cgroup v1 no limit", files: map[string]string{v1: "9223372036854771712\n"}},
		{name: "v2 before v1", files: map[string]string{self: "12:memory:/x\n0::/\n", v2: "134217728", v1: "201326592"}, wantLimit: 100663296, wantOK: true},
		{name: "GOMEMLIMIT set wins", env: "96MiB", files: map[string]string{self: inPod, v2: "134217728"}},
		{name: "no cgroup files"},
		{name: "garbage", files: map[string]string{self: inPod, v2: "lots"}, wantErr: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			getenv := func(k string) string {
				if k == "GOMEMLIMIT" {
					return tc.env
				}
				return ""
			}
			read := func(f string) ([]byte, error) {
				if v, ok := tc.files[f]; ok {
					return []byte(v), nil
				}
				return nil, fs.ErrNotExist
			}
			limit, _, ok, err := memLimit(getenv, read)
			if (err != nil) != tc.wantErr || ok != tc.wantOK || limit != tc.wantLimit {
				t.Fatalf("memLimit = %d, %v, %v; want %d, %v, error %v", limit, ok, err, tc.wantLimit, tc.wantOK, tc.wantErr)
			}
		})
	}
	// An unreadable file is an error, not "no limit".
	_, _, _, err := memLimit(func(string) string { return "" }, func(string) ([]byte, error) { return nil, errors.New("EACCES") })
	if err == nil {
		t.Fatal("an unreadable cgroup file gave no error")
	}
}

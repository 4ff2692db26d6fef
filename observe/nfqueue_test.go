package observe

import (
	"strings"
	"testing"
)

func TestParseQueueStats(t *testing.T) {
	tests := []struct {
		name    string
		in      string
		want    []QueueStats
		wantErr bool
	}{
		{name: "empty", in: "", want: nil},
		{
			name: "two queues as the kernel prints them",
			in: "    0  12345     3 2 65531     7     9   100201  1\n" +
				"    1      0     0 2 65531     0     0        0  1\n",
			want: []QueueStats{
				{Queue: 0, PortID: 12345, Waiting: 3, CopyMode: 2, CopyRange: 65531, Dropped: 7, UserDropped: 9, IDSequence: 100201},
				{Queue: 1, CopyMode: 2, CopyRange: 65531},
			},
		},
		{name: "blank lines skipped", in: "\n  5 1 0 2 65531 0 0 4 1\n\n", want: []QueueStats{{Queue: 5, PortID: 1, CopyMode: 2, CopyRange: 65531, IDSequence: 4}}},
		{name: "max uint32", in: "65535 4294967295 0 2 65531 4294967295 0 4294967295 1", want: []QueueStats{{Queue: 65535, PortID: 4294967295, CopyMode: 2, CopyRange: 65531, Dropped: 4294967295, IDSequence: 4294967295}}},
		{name: "short line", in: "0 1 2 3", wantErr: true},
		{name: "not a number", in: "0 1 2 x 4 5 6 7 1", wantErr: true},
		{name: "negative", in: "0 1 2 2 4 -5 6 7 1", wantErr: true},
		{name: "overflow", in: "0 1 2 2 4 4294967296 6 7 1", wantErr: true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := ParseQueueStats(strings.NewReader(tc.in))
			if (err != nil) != tc.wantErr {
				t.Fatalf("err = %v, wantErr %v", err, tc.wantErr)
			}
			if tc.wantErr {
				return
			}
			if len(got) != len(tc.want) {
				t.Fatalf("got %d queues %+v, want %d", len(got), got, len(tc.want))
			}
			for i := range got {
				if got[i] != tc.want[i] {
					t.Errorf("queue %d: got %+v, want %+v", i, got[i], tc.want[i])
				}
			}
		})
	}
}

func FuzzParseQueueStats(f *testing.F) {
	f.Add("    0  12345     3 2 65531     7     9   100201  1\n")
	f.Add("0 0 0 0 0 0 0 0 1\n1 2 3")
	f.Add("\n\n")
	f.Fuzz(func(t *testing.T, in string) {
		qs, err := ParseQueueStats(strings.NewReader(in))
		if err != nil && qs != nil {
			t.Fatalf("error %v with non-nil result", err)
		}
		if err == nil && len(qs) > strings.Count(in, "\n")+1 {
			t.Fatalf("%d queues from %d lines", len(qs), strings.Count(in, "\n")+1)
		}
	})
}

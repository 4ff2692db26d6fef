package procstat

import (
	"os"
	"testing"
	"time"
)

func TestParse(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want CPU
		err  bool
	}{
		{"plain", "1234 (dnsmasq) S 1 1234 1234 0 -1 4194560 100 0 0 0 25 7 0 0 20 0 1 0 100 1000 10", CPU{User: 250 * time.Millisecond, System: 70 * time.Millisecond}, false},
		{"reaped children", "1234 (dnsmasq) S 1 1234 1234 0 -1 4194560 100 0 0 0 25 7 3 2 20 0 1 0 100 1000 10", CPU{User: 250 * time.Millisecond, System: 70 * time.Millisecond, Children: 50 * time.Millisecond}, false},
		{"children not a number", "99 (x) R 1 2 3 4 5 6 7 8 9 10 1 4 x 0", CPU{}, true},
		{"name with spaces and parens", "99 (a (b) c) R 1 2 3 4 5 6 7 8 9 10 300 400 0 0", CPU{User: 3 * time.Second, System: 4 * time.Second}, false},
		{"no name", "99 R 1 2", CPU{}, true},
		{"too few fields", "99 (x) R 1 2 3", CPU{}, true},
		{"not a number", "99 (x) R 1 2 3 4 5 6 7 8 9 10 a 4", CPU{}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Parse([]byte(tt.in))
			if (err != nil) != tt.err || got.User != tt.want.User || got.System != tt.want.System || got.Children != tt.want.Children {
				t.Errorf("Parse = %+v, %v; want %+v, error %v", got, err, tt.want, tt.err)
			}
		})
	}
}

func FuzzParse(f *testing.F) {
	f.Add([]byte("1234 (dnsmasq) S 1 1234 1234 0 -1 4194560 100 0 0 0 25 7 0 0"))
	f.Add([]byte("1 ())) R"))
	f.Fuzz(func(t *testing.T, b []byte) {
		c, err := Parse(b)
		if err == nil && (c.User < 0 || c.System < 0 || c.Children < 0) {
			t.Errorf("negative CPU %+v", c)
		}
	})
}

func TestProcReaderSelf(t *testing.T) {
	c, err := ProcReader{}.CPU(os.Getpid())
	if err != nil {
		t.Fatal(err)
	}
	if c.Total() < 0 {
		t.Errorf("own CPU %v", c)
	}
	if _, err := (ProcReader{}).CPU(-1); err == nil {
		t.Error("pid -1 read")
	}
}

func TestSum(t *testing.T) {
	f := Fake{1: {User: time.Second, System: 2 * time.Second}, 2: {User: time.Second}}
	got, err := Sum(f, []int{1, 2})
	if err != nil || got.Total() != 4*time.Second {
		t.Errorf("Sum = %v, %v", got, err)
	}
	if _, err := Sum(f, []int{3}); err == nil {
		t.Error("missing pid summed")
	}
}

func TestDelta(t *testing.T) {
	ms := time.Millisecond
	tests := []struct {
		name          string
		before, after CPU
		want          time.Duration
		precise       bool
	}{
		{"same threads: schedstat", CPU{User: 10 * ms, Runtime: 12 * ms, Threads: []int{1, 2}}, CPU{User: 20 * ms, Runtime: 19 * ms, Threads: []int{1, 2, 3}}, 7 * ms, true},
		{"thread exited: ticks", CPU{User: 10 * ms, Runtime: 12 * ms, Threads: []int{1, 2}}, CPU{User: 30 * ms, System: 10 * ms, Runtime: 19 * ms, Threads: []int{1}}, 30 * ms, false},
		{"no schedstat: ticks", CPU{User: 10 * ms}, CPU{User: 20 * ms}, 10 * ms, false},
		{"reaped children added", CPU{Runtime: 12 * ms, Threads: []int{1}, Children: 10 * ms}, CPU{Runtime: 15 * ms, Threads: []int{1}, Children: 40 * ms}, 33 * ms, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d, p := Delta(tt.before, tt.after)
			if d != tt.want || p != tt.precise {
				t.Errorf("Delta = %v, %v; want %v, %v", d, p, tt.want, tt.precise)
			}
		})
	}
}

func TestParseSchedstat(t *testing.T) {
	if d, err := ParseSchedstat([]byte("318733882 249306298 388\n")); err != nil || d != 318733882 {
		t.Errorf("ParseSchedstat = %v, %v", d, err)
	}
	for _, bad := range []string{"", "x 1 2", "-5 1 1"} {
		if _, err := ParseSchedstat([]byte(bad)); err == nil {
			t.Errorf("ParseSchedstat(%q) accepted", bad)
		}
	}
}

func FuzzParseSchedstat(f *testing.F) {
	f.Add([]byte("318733882 249306298 388\n"))
	f.Fuzz(func(t *testing.T, b []byte) {
		if d, err := ParseSchedstat(b); err == nil && d < 0 {
			t.Errorf("negative runtime %v", d)
		}
	})
}

func TestProcReaderSchedstat(t *testing.T) {
	// Burn a little CPU so the runtime moves.
	before, err := ProcReader{}.CPU(os.Getpid())
	if err != nil {
		t.Fatal(err)
	}
	x := 0
	for i := 0; i < 20_000_000; i++ {
		x += i % 7
	}
	after, err := ProcReader{}.CPU(os.Getpid())
	if err != nil {
		t.Fatal(err)
	}
	if len(after.Threads) == 0 || after.Runtime <= before.Runtime {
		t.Errorf("schedstat runtime did not move: %v -> %v (threads %v), x=%d", before.Runtime, after.Runtime, after.Threads, x)
	}
}

func TestParseMachine(t *testing.T) {
	in := "cpu  100 5 50 1000 10 1 2 3 0 0\ncpu0 50 2 25 500 5 0 1 1 0 0\n"
	m, err := ParseMachine([]byte(in))
	if err != nil {
		t.Fatal(err)
	}
	if m.Busy != 161*10*time.Millisecond || m.Total != 1171*10*time.Millisecond {
		t.Errorf("ParseMachine = %+v", m)
	}
	for _, bad := range []string{"", "cpu 1 2\n", "cpu a 1 1 1 1 1 1 1\n"} {
		if _, err := ParseMachine([]byte(bad)); err == nil {
			t.Errorf("ParseMachine(%q) accepted", bad)
		}
	}
	if m, err := ReadMachine(); err != nil || m.Total <= 0 {
		t.Errorf("ReadMachine = %+v, %v", m, err)
	}
}

func FuzzParseMachine(f *testing.F) {
	f.Add([]byte("cpu  100 5 50 1000 10 1 2 3 0 0\n"))
	f.Fuzz(func(t *testing.T, b []byte) {
		if m, err := ParseMachine(b); err == nil && (m.Busy < 0 || m.Total < m.Busy) {
			t.Errorf("ParseMachine = %+v", m)
		}
	})
}

func TestSlicesDelta(t *testing.T) {
	if n, ok := SlicesDelta(CPU{Slices: 10, Threads: []int{1, 2}}, CPU{Slices: 25, Threads: []int{1, 2, 3}}); !ok || n != 15 {
		t.Errorf("same threads: %d %v, want 15 true", n, ok)
	}
	if _, ok := SlicesDelta(CPU{Slices: 10, Threads: []int{1, 2}}, CPU{Slices: 25, Threads: []int{1}}); ok {
		t.Error("a thread exited: delta reported")
	}
	if got := schedstatSlices([]byte("318733882 249306298 388\n")); got != 388 {
		t.Errorf("schedstatSlices = %d, want 388", got)
	}
}

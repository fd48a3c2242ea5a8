//go:build unix

package sim

import (
	"context"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/twinex/twinex"
	"github.com/twinex/twinex/core"
	"github.com/twinex/twinex/sqlite"
)

// cpuTime returns the process's user plus system CPU time.
func cpuTime(b *testing.B) time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		b.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// BenchmarkRunnerOnCore is the simulator's whole cost in the real program:
// the default configuration driven by a Runner through a durable Core on
// SQLite, in simulated time (each op is one simulated second at the
// default tick). cpu-ns/simsec is the process's CPU time (all goroutines,
// the store and GC included) per simulated second; %core is the same as a
// share of one core when the simulation runs in real time.
func BenchmarkRunnerOnCore(b *testing.B) {
	ctx := context.Background()
	ms := twinex.DefaultMarkets()
	st, err := sqlite.Open(filepath.Join(b.TempDir(), "twinex.db"))
	if err != nil {
		b.Fatal(err)
	}
	defer st.Close()
	c, err := core.Open(ctx, core.Config{Store: st, Markets: ms})
	if err != nil {
		b.Fatal(err)
	}
	defer c.Close()
	s, err := New(DefaultConfig(ms), ms)
	if err != nil {
		b.Fatal(err)
	}
	for _, cmd := range s.DepositCommands() {
		if res, err := c.Do(ctx, cmd); err != nil || res.Err != nil {
			b.Fatal(err, res.Err)
		}
	}
	now := time.Now()
	r := NewRunner(s, c)
	r.Now = func() time.Time { return now }
	tick := func() {
		now = now.Add(DefaultTick)
		r.tick(ctx)
	}
	for i := 0; i < 4*60; i++ { // warm up: a simulated minute
		tick()
	}
	cmds := s.Stats().Commands
	cpu0 := cpuTime(b)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		for j := 0; j < int(time.Second/DefaultTick); j++ {
			tick()
		}
	}
	b.StopTimer()
	cpu := float64(cpuTime(b)-cpu0) / float64(b.N)
	b.ReportMetric(cpu, "cpu-ns/simsec")
	b.ReportMetric(cpu/1e7, "%core")
	b.ReportMetric(float64(s.Stats().Commands-cmds)/float64(b.N), "cmds/simsec")
	if st := s.Stats(); st.Rejected != 0 || st.Lost != 0 {
		b.Fatalf("stats %+v", st)
	}
}

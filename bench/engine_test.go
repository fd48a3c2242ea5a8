package bench

import (
	"context"
	"testing"

	"github.com/twinex/twinex"
	"github.com/twinex/twinex/engine"
	"github.com/twinex/twinex/sqlite"
)

// BenchmarkEngineApply times Exchange.Apply on the engine workload; with
// -benchmem it shows the allocations per command.
func BenchmarkEngineApply(b *testing.B) {
	w := GenerateEngineWorkload(200_000, 1)
	x := engine.New(twinex.DefaultMarkets())
	var out engine.Output
	var batch twinex.Batch
	for i := range w.Setup {
		x.Apply(&w.Setup[i], &out)
	}
	out.Reset()
	x.TakeChanges(&batch)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if i > 0 && i%len(w.Commands) == 0 {
			b.StopTimer()
			x = engine.New(twinex.DefaultMarkets())
			for j := range w.Setup {
				x.Apply(&w.Setup[j], &out)
			}
			b.StartTimer()
		}
		c := w.Commands[i%len(w.Commands)]
		x.Apply(&c, &out)
		if i%1000 == 999 {
			out.Reset()
			batch.Reset()
			x.TakeChanges(&batch)
		}
	}
}

// TestEngineBenchmarkRuns keeps the benchmark code working: a short run
// must finish with the invariants intact and trades happening.
func TestEngineBenchmarkRuns(t *testing.T) {
	res, err := Engine(context.Background(), EngineConfig{Orders: 20_000, Seed: 3})
	if err != nil {
		t.Fatal(err)
	}
	if res.Ops != 20_000 || res.Trades == 0 || res.Resting < 500 || res.Levels < 300 {
		t.Fatalf("unexpected workload shape: %+v", res)
	}
}

func TestRestartBenchmarkRuns(t *testing.T) {
	res, err := Restart(context.Background(), RestartConfig{Open: 2000, History: 3000, Seed: 1, OpenStore: func(path string) (twinex.ExchangeStore, error) { return sqlite.Open(path) }})
	if err != nil {
		t.Fatal(err)
	}
	if res.OpenOrders != 2000 || res.RestartMS <= 0 {
		t.Fatalf("%+v", res)
	}
}

func TestDurableEngineBenchmarkRuns(t *testing.T) {
	res, err := Engine(context.Background(), EngineConfig{Orders: 5000, Seed: 2, Durable: true, Clients: 64,
		OpenStore: func(path string) (twinex.ExchangeStore, error) { return sqlite.Open(path) }})
	if err != nil {
		t.Fatal(err)
	}
	if res.Ops != 5000 || !res.Durable || res.Trades == 0 {
		t.Fatalf("%+v", res)
	}
}

// TestEngineApplyAllocatesNothing keeps the engine at zero allocations per
// command on the benchmark's workload (what -benchmem reports, rounded),
// once its slices and pools are warm: wide balances (Int128) and the size
// limits must not change that. The few left, about 4 per 1,000 commands
// before and after balances were widened, are the errors of refused
// commands and a new order or price level when a pool is empty.
func TestEngineApplyAllocatesNothing(t *testing.T) {
	w := GenerateEngineWorkload(60_000, 1)
	x := engine.New(twinex.DefaultMarkets())
	var out engine.Output
	var batch twinex.Batch
	for i := range w.Setup {
		x.Apply(&w.Setup[i], &out)
	}
	next := 0
	thousand := func() {
		for range 1000 {
			x.Apply(&w.Commands[next], &out)
			next++
		}
		out.Reset()
		batch.Reset()
		x.TakeChanges(&batch)
	}
	for range 20 { // warm up
		thousand()
	}
	if n := testing.AllocsPerRun(30, thousand); n >= 10 {
		t.Fatalf("%v allocations per 1,000 commands, want under 10", n)
	}
	if err := x.Check(); err != nil {
		t.Fatal(err)
	}
}

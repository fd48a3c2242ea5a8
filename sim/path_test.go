package sim

import (
	"math"
	"strings"
	"testing"
	"time"

	"github.com/twinex/twinex"
)

func TestSampleBTCUSD(t *testing.T) {
	pts := SampleBTCUSD()
	if len(pts) < 300 {
		t.Fatalf("%d points", len(pts))
	}
	m := twinex.DefaultMarkets().Market("btcusd")
	for i, p := range pts {
		v, err := m.ParsePrice(p.Price)
		if err != nil || v < 2_900_000 || v > 3_100_000 {
			t.Fatalf("point %d: price %q (%v)", i, p.Price, err)
		}
	}
}

func TestParseReplayCSV(t *testing.T) {
	good := "# comment\ntimestamp_ms,price\n1000,30000.5\n2000, 30001\n"
	pts, err := ParseReplayCSV(strings.NewReader(good))
	if err != nil || len(pts) != 2 || pts[1] != (PricePoint{2000, "30001"}) {
		t.Fatalf("got %v, %v", pts, err)
	}
	for name, in := range map[string]string{
		"one point":    "1000,1\n",
		"unsorted":     "1000,1\n900,2\n",
		"equal times":  "1000,1\n1000,2\n",
		"bad time":     "1000,1\nabc,2\n",
		"three fields": "1000,1,2\n2000,1,2\n",
		"empty":        "",
	} {
		if _, err := ParseReplayCSV(strings.NewReader(in)); err == nil {
			t.Errorf("%s: no error", name)
		}
	}
}

func TestParsePathPrice(t *testing.T) {
	m := twinex.DefaultMarkets().Market("solusd") // tick 0.001
	for in, want := range map[string]int64{"100": 100_000, "99.9994": 99_999, "0.0015": 1, "12.3456789": 12_345} {
		if got, err := parsePathPrice(m, in); err != nil || got != want {
			t.Errorf("%q: %d, %v; want %d", in, got, err, want)
		}
	}
	for _, in := range []string{"0", "0.0001", "-1", "x", ""} {
		if _, err := parsePathPrice(m, in); err == nil {
			t.Errorf("%q: no error", in)
		}
	}
}

// expectedReplay interpolates the sample independently, in float64, at
// tau seconds after the first point, looping like the Sim.
func expectedReplay(t *testing.T, m *twinex.Market, pts []PricePoint, tau float64) float64 {
	t.Helper()
	price := func(i int) float64 {
		v, err := m.ParsePrice(pts[i].Price)
		if err != nil {
			t.Fatal(err)
		}
		return float64(v)
	}
	n := len(pts)
	at := func(i int) float64 { return float64(pts[i].Time-pts[0].Time) / 1000 }
	period := 2*at(n-1) - at(n-2)
	tau = math.Mod(tau, period)
	for i := 0; i < n; i++ {
		next, end := 0, period
		if i+1 < n {
			next, end = i+1, at(i+1)
		}
		if tau < end {
			return price(i) + (price(next)-price(i))*(tau-at(i))/(end-at(i))
		}
	}
	t.Fatal("unreachable")
	return 0
}

func TestReplayFollowsPoints(t *testing.T) {
	seed := testSeed(t)
	pts := SampleBTCUSD()
	cfg := defaultCfg()
	cfg.Markets = cfg.Markets[:1]
	cfg.Markets[0].Model, cfg.Markets[0].Replay = "replay", pts
	w := newWorld(t, cfg, seed, true)
	m := w.ms.Market("btcusd")
	if got, want := w.sim.Reference("btcusd"), int64(expectedReplay(t, m, pts, 0)); got != want {
		t.Fatalf("initial reference %d, want the first point %d", got, want)
	}
	w.step(0) // anchors the path at t0
	trades := 0
	for i := 1; i <= 1300; i++ { // past the end, so the loop is covered
		w.step(time.Second)
		want := expectedReplay(t, m, pts, float64(i))
		if got := w.sim.Reference("btcusd"); math.Abs(float64(got)-want) > 1 {
			w.fatalf("at %ds: reference %d, want %.2f", i, got, want)
		}
		bid, ask := w.best("btcusd")
		if bid == 0 || ask == 0 {
			w.fatalf("one-sided book %d/%d", bid, ask)
		}
		trades = len(w.trades)
	}
	if trades < 100 {
		w.fatalf("only %d trades", trades)
	}
	// SetPrice on a replay shifts the replayed prices.
	before := expectedReplay(t, m, pts, 1300)
	if err := w.sim.SetPrice("btcusd", 2_000_000); err != nil {
		t.Fatal(err)
	}
	w.step(time.Second)
	if got := float64(w.sim.Reference("btcusd")); math.Abs(got-(2_000_000+expectedReplay(t, m, pts, 1301)-before)) > 2 {
		w.fatalf("after SetPrice(20000.00): reference %.0f", got)
	}
	w.check()
}

func TestGBMVolatility(t *testing.T) {
	// The log returns of the path over a simulated day have about the
	// configured volatility, and no drift to speak of.
	seed := testSeed(t)
	m := twinex.DefaultMarkets().Market("btcusd")
	const vol = 0.8
	p := newGBM(newRand(seed, "btcusd", "path"), 3_000_000, m.PriceTick, 300_000_000, 0, vol, 1)
	var sum, sum2 float64
	prev := float64(p.value())
	const n = 86400
	for i := 0; i < n; i++ {
		v := float64(p.step(int64(i)))
		r := math.Log(v / prev)
		sum += r
		sum2 += r * r
		prev = v
	}
	got := math.Sqrt(sum2/n-(sum/n)*(sum/n)) * math.Sqrt(365.25*86400)
	if math.Abs(got-vol)/vol > 0.1 {
		t.Fatalf("seed %d: annualised volatility %.3f, want %.2f", seed, got, vol)
	}
}

package core

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/twinex/twinex"
	"github.com/twinex/twinex/engine"
	"github.com/twinex/twinex/sqlite"
)

// gatedStore wraps a real store: Commit can be held back or made to fail,
// and commits are counted.
type gatedStore struct {
	twinex.ExchangeStore
	commits atomic.Int64
	gate    chan struct{} // when non-nil, each Commit waits until it is closed
	fail    atomic.Bool
}

func (s *gatedStore) Commit(ctx context.Context, b *twinex.Batch) error {
	if s.gate != nil {
		<-s.gate
	}
	if s.fail.Load() {
		return errors.New("disk on fire")
	}
	s.commits.Add(1)
	return s.ExchangeStore.Commit(ctx, b)
}

func openStore(t *testing.T, dir string) *sqlite.DB {
	t.Helper()
	db, err := sqlite.Open(dir + "/twinex.db")
	if err != nil {
		t.Fatal(err)
	}
	return db
}

// fixedClock returns the same instant every time, so stamps must be made
// unique by the sequencer.
func fixedClock() time.Time { return time.Unix(1_800_000_000, 0) }

func openCore(t *testing.T, st twinex.ExchangeStore) *Core {
	t.Helper()
	c, err := Open(context.Background(), Config{Store: st, Markets: twinex.DefaultMarkets(), Now: fixedClock})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func usd(v int64) int64   { return v * 1e10 }
func btc(v float64) int64 { return int64(v * 1e11) }

func deposit(acct int64, cur string, amt int64) engine.Command {
	return engine.Command{Kind: engine.DepositFunds, AccountID: acct, Currency: cur, Funds: amt}
}

func limit(acct int64, side twinex.Side, price, amount int64) engine.Command {
	return engine.Command{Kind: engine.Place, AccountID: acct, Session: "s", Market: 0, Side: side, Type: twinex.Limit, Price: price, Amount: amount}
}

func mustDo(t *testing.T, c *Core, cmd engine.Command) engine.Result {
	t.Helper()
	r, err := c.Do(context.Background(), cmd)
	if err != nil || r.Err != nil {
		t.Fatalf("%+v: %v %v", cmd, err, r.Err)
	}
	return r
}

func checkCore(t *testing.T, c *Core) {
	t.Helper()
	var cerr error
	if err := c.Inspect(context.Background(), func(x *engine.Exchange) { cerr = x.Check() }); err != nil {
		t.Fatal(err)
	}
	if cerr != nil {
		t.Fatal(cerr)
	}
}

func TestGroupCommitAnswersAfterDurableBatch(t *testing.T) {
	dir := t.TempDir()
	st := &gatedStore{ExchangeStore: openStore(t, dir)}
	defer st.ExchangeStore.Close()
	c := openCore(t, st)
	st.gate = make(chan struct{}) // from now on each commit waits
	st.commits.Store(0)           // Open recorded the currency scales

	// The first command's commit is held; 100 more queue up behind it.
	var wg sync.WaitGroup
	var answered, submitted atomic.Int64
	submit := func(acct int64) {
		defer wg.Done()
		submitted.Add(1)
		if _, err := c.Do(context.Background(), deposit(acct, "USD", usd(1))); err != nil {
			t.Error(err)
		}
		answered.Add(1)
	}
	wg.Add(1)
	go submit(100)
	for i := 0; i < 100; i++ {
		wg.Add(1)
		go submit(101 + int64(i))
	}
	// Let every submitter reach the queue: the sequencer holds one batch at
	// the gate, at most one more applied batch, and the rest stays queued.
	for prev := -1; submitted.Load() < 101 || len(c.in) != prev; {
		prev = len(c.in)
		time.Sleep(50 * time.Millisecond)
	}
	if n := answered.Load(); n != 0 {
		t.Fatalf("%d callers answered before any commit finished", n)
	}
	close(st.gate) // release every commit from now on
	wg.Wait()
	if n := st.commits.Load(); n > 3 {
		t.Errorf("101 queued commands took %d commits, want at most 3 (one at the gate, one applied behind it, one for the queue)", n)
	}
	checkCore(t, c)
	if err := c.Close(); err != nil {
		t.Fatal(err)
	}
}

func TestCommitFailureStopsTakingCommands(t *testing.T) {
	dir := t.TempDir()
	db := openStore(t, dir)
	st := &gatedStore{ExchangeStore: db}
	c := openCore(t, st)
	mustDo(t, c, deposit(100, "USD", usd(50)))
	st.fail.Store(true)
	_, err := c.Do(context.Background(), deposit(100, "USD", usd(7)))
	if twinex.ErrorReason(err) != twinex.System {
		t.Fatalf("commit failure answered %v", err)
	}
	st.fail.Store(false)
	// The in-memory state is ahead of the store: the core refuses
	// everything until restarted.
	if _, err := c.Do(context.Background(), deposit(100, "USD", usd(1))); twinex.ErrorReason(err) != twinex.System {
		t.Fatalf("command after a failed commit: %v", err)
	}
	if c.Err() == nil {
		t.Fatal("Err is nil after a failed commit")
	}
	if err := c.Close(); err == nil {
		t.Fatal("Close hid the commit failure")
	}

	// A restart recovers what was acknowledged, and nothing else.
	c = openCore(t, db)
	defer c.Close()
	var bal []twinex.Balance
	c.Inspect(context.Background(), func(x *engine.Exchange) { bal = x.Ledger().Balances(100) })
	if len(bal) != 1 || bal[0].Total != twinex.I128(usd(50)) {
		t.Fatalf("balances after restart %+v, want 50 USD", bal)
	}
	checkCore(t, c)
	db.Close()
}

func TestCloseAnswersEveryQueuedCommand(t *testing.T) {
	dir := t.TempDir()
	db := openStore(t, dir)
	defer db.Close()
	c := openCore(t, db)
	var wg sync.WaitGroup
	var ok, closed atomic.Int64
	for i := 0; i < 200; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, err := c.Do(context.Background(), deposit(100, "USD", usd(1)))
			switch {
			case err == nil:
				ok.Add(1)
			case errors.Is(err, ErrClosed):
				closed.Add(1)
			default:
				t.Error(err)
			}
		}()
	}
	time.Sleep(time.Millisecond)
	if err := c.Close(); err != nil {
		t.Fatal(err)
	}
	wg.Wait()
	if ok.Load()+closed.Load() != 200 {
		t.Fatalf("%d ok + %d closed != 200", ok.Load(), closed.Load())
	}
	if _, err := c.Do(context.Background(), deposit(100, "USD", 1)); !errors.Is(err, ErrClosed) {
		t.Fatalf("Do after Close: %v", err)
	}
	// Exactly the acknowledged deposits are durable.
	st, err := db.LoadState(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	var total twinex.Int128
	for _, b := range st.Balances {
		total = total.Add(b.Total)
	}
	if total != twinex.I128(usd(ok.Load())) {
		t.Fatalf("stored %s, acknowledged %d USD", total.FormatUnits(10), ok.Load())
	}
}

func TestStampsAreUniqueWithAStoppedClock(t *testing.T) {
	db := openStore(t, t.TempDir())
	defer db.Close()
	c := openCore(t, db)
	defer c.Close()
	mustDo(t, c, deposit(100, "USD", usd(1000)))
	a := mustDo(t, c, limit(100, twinex.Buy, 100, 100000)).Order
	b := mustDo(t, c, limit(100, twinex.Buy, 100, 100000)).Order
	if a.Created <= fixedClock().UnixNano()-1 || b.Created <= a.Created {
		t.Fatalf("stamps %d then %d", a.Created, b.Created)
	}
}

func TestRecoveryKeepsMarketDataAndSnapshots(t *testing.T) {
	dir := t.TempDir()
	db := openStore(t, dir)
	c := openCore(t, db)
	mustDo(t, c, deposit(100, "USD", usd(100000)))
	mustDo(t, c, deposit(101, "BTC", btc(10)))
	mustDo(t, c, limit(101, twinex.Sell, 3000000, 50000000)) // 0.5 at 30000.00
	mustDo(t, c, limit(100, twinex.Buy, 3000000, 20000000))  // takes 0.2
	mustDo(t, c, limit(100, twinex.Buy, 2990000, 10000000))  // rests at 29900.00
	before := c.Snapshot(0)
	if before.Stats.Last != 3000000 || before.Stats.Volume != 20000000 || len(before.Trades) != 1 ||
		len(before.Bids) != 1 || len(before.Asks) != 1 || before.Asks[0].Amount != 30000000 {
		t.Fatalf("snapshot before restart %+v", before)
	}
	if err := c.Close(); err != nil {
		t.Fatal(err)
	}
	db.Close()

	db = openStore(t, dir)
	defer db.Close()
	c = openCore(t, db)
	defer c.Close()
	after := c.Snapshot(0)
	if after.Stats != before.Stats {
		t.Errorf("stats after restart %+v, before %+v", after.Stats, before.Stats)
	}
	if len(after.Trades) != 1 || after.Trades[0] != before.Trades[0] {
		t.Errorf("trades after restart %+v", after.Trades)
	}
	for k := range before.Candles {
		if after.Candles[k] != before.Candles[k] {
			t.Errorf("candle %s after restart %+v, before %+v", twinex.Timeframes[k].Name, after.Candles[k], before.Candles[k])
		}
	}
	if len(after.Bids) != 1 || after.Bids[0] != before.Bids[0] || after.Asks[0] != before.Asks[0] {
		t.Errorf("depth after restart %+v %+v", after.Bids, after.Asks)
	}
	checkCore(t, c)
}

func TestRefusesAChangedCurrencyScale(t *testing.T) {
	dir := t.TempDir()
	db := openStore(t, dir)
	defer db.Close()
	c := openCore(t, db)
	mustDo(t, c, deposit(100, "USD", usd(1)))
	c.Close()
	cfg := twinex.DefaultMarketConfig()
	for i := range cfg.Currencies {
		if cfg.Currencies[i].Code == "BTC" {
			cfg.Currencies[i].Scale = 12
		}
	}
	ms, err := cfg.Validate()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := Open(context.Background(), Config{Store: db, Markets: ms}); err == nil {
		t.Fatal("opened with BTC's scale changed from 11 to 12")
	}
}

func TestOnCommitSeesEventsInOrder(t *testing.T) {
	db := openStore(t, t.TempDir())
	defer db.Close()
	var mu sync.Mutex
	var kinds []engine.EventKind
	c, err := Open(context.Background(), Config{Store: db, Markets: twinex.DefaultMarkets(), OnCommit: func(cm *Committed) {
		mu.Lock()
		defer mu.Unlock()
		for _, e := range cm.Events {
			kinds = append(kinds, e.Kind)
		}
	}})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	mustDo(t, c, deposit(100, "USD", usd(1000)))
	o := mustDo(t, c, limit(100, twinex.Buy, 100, 100000)).Order
	mustDo(t, c, engine.Command{Kind: engine.Cancel, AccountID: 100, OrderID: o.ID})
	mu.Lock()
	defer mu.Unlock()
	want := []engine.EventKind{engine.EventAccepted, engine.EventBooked, engine.EventCancelled, engine.EventClosed}
	if len(kinds) != len(want) {
		t.Fatalf("events %v, want %v", kinds, want)
	}
	for i := range want {
		if kinds[i] != want[i] {
			t.Fatalf("events %v, want %v", kinds, want)
		}
	}
}

func TestRefusesChangedMarketUnits(t *testing.T) {
	db := openStore(t, t.TempDir())
	defer db.Close()
	c := openCore(t, db)
	mustDo(t, c, deposit(100, "BTC", btc(1)))
	mustDo(t, c, limit(100, twinex.Sell, 5000000, 100000)) // 50000.00
	c.Close()
	cfg := twinex.DefaultMarketConfig()
	cfg.Markets[0].PriceTick = "0.1" // btcusd prices in tenths: 50000.00 would read as 500000.0
	ms, err := cfg.Validate()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := Open(context.Background(), Config{Store: db, Markets: ms}); err == nil {
		t.Fatal("opened with btcusd's price decimals changed")
	}
	// A tick change that keeps the decimals is allowed.
	cfg = twinex.DefaultMarketConfig()
	cfg.Markets[0].PriceTick = "0.05"
	ms, _ = cfg.Validate()
	c2, err := Open(context.Background(), Config{Store: db, Markets: ms})
	if err != nil {
		t.Fatalf("tick change with the same decimals refused: %v", err)
	}
	c2.Close()
}

func TestStampsContinueWhenTheClockIsBehind(t *testing.T) {
	dir := t.TempDir()
	db := openStore(t, dir)
	defer db.Close()
	late := func() time.Time { return time.Unix(1_900_000_000, 0) }
	c, err := Open(context.Background(), Config{Store: db, Markets: twinex.DefaultMarkets(), Now: late})
	if err != nil {
		t.Fatal(err)
	}
	mustDo(t, c, deposit(100, "USD", usd(1000)))
	first := mustDo(t, c, limit(100, twinex.Buy, 100, 100000)).Order
	c.Close()
	c = openCore(t, db) // fixedClock is 100M seconds earlier
	defer c.Close()
	next := mustDo(t, c, limit(100, twinex.Buy, 100, 100000)).Order
	if next.Created <= first.Created {
		t.Fatalf("order stamped %d after a restart with the clock behind; the last stamp was %d", next.Created, first.Created)
	}
}

func TestRefreshRollsUntouchedMarketsUnderTraffic(t *testing.T) {
	db := openStore(t, t.TempDir())
	defer db.Close()
	var now atomic.Int64
	now.Store(time.Unix(1_800_000_000, 0).UnixNano())
	clock := func() time.Time { return time.Unix(0, now.Load()) }
	c, err := Open(context.Background(), Config{Store: db, Markets: twinex.DefaultMarkets(), Now: clock, RefreshEvery: 20 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	mustDo(t, c, deposit(100, "USD", usd(100000)))
	mustDo(t, c, deposit(101, "BTC", btc(1)))
	mustDo(t, c, limit(101, twinex.Sell, 3000000, 10000000))
	mustDo(t, c, limit(100, twinex.Buy, 3000000, 10000000))
	if v := c.Snapshot(0).Stats.Volume; v != 10000000 {
		t.Fatalf("volume %d after the trade", v)
	}
	// Two days later, with commands still arriving (on other markets'
	// accounts), btcusd's 24-hour volume must roll to zero.
	now.Add(int64(48 * time.Hour))
	for i := 0; c.Snapshot(0).Stats.Volume != 0; i++ {
		if i == 2000 {
			t.Fatal("btcusd's 24-hour volume never rolled forward under traffic")
		}
		mustDo(t, c, deposit(102, "USD", usd(1)))
		time.Sleep(5 * time.Millisecond)
	}
}

package postgres_test

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/twinex/twinex"
	"github.com/twinex/twinex/core"
	"github.com/twinex/twinex/engine"
	"github.com/twinex/twinex/journal"
	"github.com/twinex/twinex/postgres"
	"github.com/twinex/twinex/sqlite"
)

// The exchange on PostgreSQL: a core over the PostgreSQL store and the
// PostgreSQL journal, closed and reopened, recovers what it acknowledged.

// fixedClock returns the same instant every time: stamps are then the
// sequencer's alone, and a replay gives the same rows.
func fixedClock() time.Time { return time.Unix(1_800_000_000, 0) }

// openCore opens the store and the journal at url and a core over them
// (over wrap(store) when wrap is set).
func openCore(t *testing.T, url string, keep bool, wrap func(*postgres.DB) twinex.ExchangeStore) (*core.Core, *postgres.DB, *postgres.Journal) {
	t.Helper()
	db := open(t, url)
	j, err := postgres.OpenJournal(context.Background(), url)
	if err != nil {
		db.Close()
		t.Fatal(err)
	}
	var st twinex.ExchangeStore = db
	if wrap != nil {
		st = wrap(db)
	}
	c, err := core.Open(context.Background(), core.Config{Store: st, Journal: j, KeepJournal: keep,
		Markets: twinex.DefaultMarkets(), Now: fixedClock, CheckpointEvery: 5 * time.Millisecond})
	if err != nil {
		j.Close()
		db.Close()
		t.Fatal(err)
	}
	return c, db, j
}

func closeCore(t *testing.T, c *core.Core, db *postgres.DB, j *postgres.Journal) {
	t.Helper()
	if err := c.Close(); err != nil {
		t.Fatal(err)
	}
	db.Close()
	j.Close()
}

func usd(v int64) int64 { return v * 1e10 }
func btc(v int64) int64 { return v * 1e11 }

// stream sends n seeded random commands to c from workers goroutines at
// once (so that batches hold several commands; with one, the stream and
// its stamps are the same on every run): deposits, limit orders on both
// sides of a moving price, cancels and withdrawals, for accounts 100-105.
func stream(t *testing.T, c *core.Core, seed uint64, n, workers int) {
	t.Helper()
	var wg sync.WaitGroup
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			rng := rand.New(rand.NewPCG(seed, uint64(w)))
			var mine []int64
			for i := range n / workers {
				acct := int64(100 + rng.IntN(6))
				var cmd engine.Command
				switch k := rng.IntN(10); {
				case i < 3:
					cmd = engine.Command{Kind: engine.DepositFunds, AccountID: acct, Currency: []string{"USD", "BTC", "ETH"}[i],
						Funds: []int64{usd(1_000_000), btc(100), btc(1000)}[i]}
				case k < 6:
					side := twinex.Buy
					if rng.IntN(2) == 0 {
						side = twinex.Sell
					}
					cmd = engine.Command{Kind: engine.Place, AccountID: acct, Session: "s", Side: side, Type: twinex.Limit,
						Price: 3000000 + int64(rng.IntN(200)-100)*100, Amount: int64(1+rng.IntN(50)) * 1000000, ClientOrderID: fmt.Sprint("c", i)}
				case k < 9 && len(mine) > 0:
					cmd = engine.Command{Kind: engine.Cancel, AccountID: acct, OrderID: mine[rng.IntN(len(mine))]}
				default:
					cmd = engine.Command{Kind: engine.WithdrawFunds, AccountID: acct, Currency: "USD", Funds: usd(int64(1 + rng.IntN(100)))}
				}
				r, err := c.Do(context.Background(), cmd)
				if err != nil {
					t.Error(err)
					return
				}
				if r.Err == nil && cmd.Kind == engine.Place {
					mine = append(mine, r.Order.ID)
				}
			}
		}()
	}
	wg.Wait()
}

// coreState is what c holds of the exchange, read on its sequencer after
// checking the ledger invariants: the counters, every open order and
// balance of accounts 100-105, each currency's supply and the btcusd book.
func coreState(t *testing.T, c *core.Core) string {
	t.Helper()
	var s string
	var cerr error
	err := c.Inspect(context.Background(), func(x *engine.Exchange) {
		cerr = x.Check()
		// The last stamp is left out: a batch of rejected commands
		// changes nothing and is not journaled, so its stamps are not
		// recovered (the sequencer stamps on from the clock or the last
		// stamp recovered, whichever is later).
		c := x.Counters()
		c.Time = 0
		s = fmt.Sprintf("%+v\n", c)
		for a := int64(100); a < 106; a++ {
			s += fmt.Sprintf("%d %+v %+v\n", a, x.OpenOrders(a), x.Ledger().Balances(a))
		}
		for i := range x.Markets().Currencies {
			s += fmt.Sprint(x.Ledger().Supply(i), " ")
		}
		bids, asks := x.Depth(0, nil, nil, 0)
		s += fmt.Sprintf("\n%+v %+v\n", bids, asks)
	})
	if err != nil {
		t.Fatal(err)
	}
	if cerr != nil {
		t.Fatal(cerr)
	}
	return s
}

// storeState is what a store holds of the exchange: its recovery state
// (bar the projected sequence) and the history of accounts 100-105.
func storeState(t *testing.T, db twinex.ExchangeStore) string {
	t.Helper()
	ctx := context.Background()
	st, err := db.LoadState(ctx)
	if err != nil {
		t.Fatal(err)
	}
	st.JournalSeq = 0
	s := fmt.Sprintf("%+v\n", *st)
	for a := int64(100); a < 106; a++ {
		os, err := db.Orders(ctx, twinex.OrderQuery{AccountID: a, Limit: 1 << 20})
		if err != nil {
			t.Fatal(err)
		}
		tr, err := db.Trades(ctx, twinex.TradeQuery{AccountID: a, Limit: 1 << 20})
		if err != nil {
			t.Fatal(err)
		}
		xs, err := db.Transfers(ctx, twinex.TransferQuery{AccountID: a, Limit: 1 << 20})
		if err != nil {
			t.Fatal(err)
		}
		s += fmt.Sprintf("%d %+v\n%+v\n%+v\n", a, os, tr, xs)
	}
	return s
}

// firstDiff returns the first line where got and want differ.
func firstDiff(got, want string) string {
	g, w := strings.Split(got, "\n"), strings.Split(want, "\n")
	for i := range min(len(g), len(w)) {
		if g[i] != w[i] {
			return fmt.Sprintf("line %d:\n got %.600s\nwant %.600s", i+1, g[i], w[i])
		}
	}
	return fmt.Sprintf("%d lines, want %d", len(g), len(w))
}

// TestCoreRecovers: a core on PostgreSQL takes commands, closes, and
// reopens with the same state, from the checkpoint (its clean close) and
// from the journal alone, replayed into an empty schema.
func TestCoreRecovers(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	url := pg.Schema(t)
	c, db, j := openCore(t, url, true, nil)
	stream(t, c, 1, 1200, 4)
	want := coreState(t, c)
	closeCore(t, c, db, j)
	db = open(t, url)
	wantStored := storeState(t, db)
	db.Close()
	if len(wantStored) < 20000 {
		t.Fatalf("the stream left little state (%d bytes): the comparison would prove nothing", len(wantStored))
	}
	// A second schema holding the journal and nothing else.
	alone := pg.Schema(t)
	open(t, alone).Close() // migrates
	conn := raw(t, url)
	var from, to string
	if err := conn.QueryRow(ctx, `SELECT current_schema()`).Scan(&from); err != nil {
		t.Fatal(err)
	}
	if err := raw(t, alone).QueryRow(ctx, `SELECT current_schema()`).Scan(&to); err != nil {
		t.Fatal(err)
	}
	if _, err := conn.Exec(ctx, `INSERT INTO `+to+`.journal_id SELECT * FROM `+from+`.journal_id;
		INSERT INTO `+to+`.journal SELECT * FROM `+from+`.journal`); err != nil {
		t.Fatal(err)
	}

	t.Run("Checkpoint", func(t *testing.T) {
		c, db, j := openCore(t, url, true, nil)
		if got := coreState(t, c); got != want {
			t.Errorf("reopened core: %s", firstDiff(got, want))
		}
		// It goes on taking commands.
		if r, err := c.Do(ctx, engine.Command{Kind: engine.DepositFunds, AccountID: 100, Currency: "USD", Funds: 1}); err != nil || r.Err != nil {
			t.Fatal(err, r.Err)
		}
		closeCore(t, c, db, j)
	})

	t.Run("JournalAlone", func(t *testing.T) {
		c, db, j := openCore(t, alone, true, nil)
		if got := coreState(t, c); got != want {
			t.Errorf("core from the journal alone: %s", firstDiff(got, want))
		}
		closeCore(t, c, db, j)
		db = open(t, alone)
		defer db.Close()
		if got := storeState(t, db); got != wantStored {
			t.Errorf("the journal alone projects another state than the one acknowledged: %s", firstDiff(got, wantStored))
		}
	})
}

// heldStore, once hold is set, holds every projection back until gate is
// closed, and then fails it without writing anything: as if the process
// died before the projection reached the database.
type heldStore struct {
	*postgres.DB
	hold atomic.Bool
	gate chan struct{}
}

func (s *heldStore) Project(ctx context.Context, b *twinex.Batch) error {
	if !s.hold.Load() {
		return s.DB.Project(ctx, b)
	}
	<-s.gate
	return errors.New("crashed before projecting")
}

// TestJournalIsTheDurabilityPoint: with the projection held back, the
// acknowledged commands are in the PostgreSQL journal alone, and a
// restart recovers them from it.
func TestJournalIsTheDurabilityPoint(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	url := pg.Schema(t)
	held := &heldStore{gate: make(chan struct{})}
	c, db, j := openCore(t, url, false, func(db *postgres.DB) twinex.ExchangeStore {
		held.DB = db
		return held
	})
	stream(t, c, 2, 400, 4)
	if err := c.Caught(ctx); err != nil {
		t.Fatal(err)
	}
	// From here on the projection lags: fewer batches than the core's
	// MaxLag (256), after which the sequencer would wait for it.
	held.hold.Store(true)
	var o engine.Result
	for i := range 20 {
		cmd := engine.Command{Kind: engine.Place, AccountID: 100 + int64(i%3), Session: "s", Side: twinex.Side(1 + i%2),
			Type: twinex.Limit, Price: 3000000 + int64(i%5-2)*100, Amount: 1000000, ClientOrderID: fmt.Sprint("held", i)}
		if i < 6 {
			cmd = engine.Command{Kind: engine.DepositFunds, AccountID: 100 + int64(i%3), Currency: []string{"USD", "BTC"}[i/3],
				Funds: []int64{usd(1_000_000), btc(100)}[i/3]}
		}
		var err error
		if o, err = c.Do(ctx, cmd); err != nil || o.Err != nil {
			t.Fatal(err, o.Err)
		}
	}
	want := coreState(t, c)
	if c.Lag() == 0 {
		t.Fatal("the projection is not behind")
	}
	// Only the journal has the order.
	if _, err := db.Order(ctx, o.Order.ID); !errors.Is(err, twinex.ErrNotFound) {
		t.Fatalf("the order was projected through a closed gate: %v", err)
	}
	close(held.gate)
	if err := c.Close(); err == nil {
		t.Fatal("the core closed cleanly over a failed projection")
	}
	db.Close()
	j.Close()

	c, db, j = openCore(t, url, false, nil)
	defer closeCore(t, c, db, j)
	if got := coreState(t, c); got != want {
		t.Errorf("recovered core: %s", firstDiff(got, want))
	}
	got, err := c.History().Order(ctx, o.Order.ID)
	if err != nil || got != o.Order {
		t.Fatalf("after the crash: %+v %v, want %+v", got, err, o.Order)
	}
}

// fund deposits USD and BTC to accounts 100-105, one at a time.
func fund(t *testing.T, c *core.Core) {
	t.Helper()
	for a := int64(100); a < 106; a++ {
		for _, d := range []engine.Command{
			{Kind: engine.DepositFunds, AccountID: a, Currency: "USD", Funds: usd(1_000_000)},
			{Kind: engine.DepositFunds, AccountID: a, Currency: "BTC", Funds: btc(100)},
		} {
			if r, err := c.Do(context.Background(), d); err != nil || r.Err != nil {
				t.Fatal(err, r.Err)
			}
		}
	}
}

// TestExchangeSameAsSQLite: one seeded stream of commands, sent one at a
// time (so that the batches, and with them the stamps, are alike), through
// a core on SQLite with the file journal and a core on PostgreSQL with its
// journal, leaves the same state and history in both stores.
func TestExchangeSameAsSQLite(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	cfg := func(st twinex.ExchangeStore, j twinex.Journal) core.Config {
		return core.Config{Store: st, Journal: j, Markets: twinex.DefaultMarkets(), Now: fixedClock, CheckpointEvery: 5 * time.Millisecond}
	}
	for _, seed := range []uint64{3, 4} {
		t.Run(fmt.Sprint(seed), func(t *testing.T) {
			dir := t.TempDir()
			lite, err := sqlite.Open(filepath.Join(dir, "twinex.db"))
			if err != nil {
				t.Fatal(err)
			}
			defer lite.Close()
			lj, err := journal.Open(filepath.Join(dir, "journal"))
			if err != nil {
				t.Fatal(err)
			}
			defer lj.Close()
			c, err := core.Open(ctx, cfg(lite, lj))
			if err != nil {
				t.Fatal(err)
			}
			fund(t, c)
			stream(t, c, seed, 500, 1)
			if err := c.Close(); err != nil {
				t.Fatal(err)
			}

			url := pg.Schema(t)
			c, db, j := openCore(t, url, false, nil)
			fund(t, c)
			stream(t, c, seed, 500, 1)
			closeCore(t, c, db, j)
			db = open(t, url)
			defer db.Close()

			want := storeState(t, lite)
			if !strings.Contains(want, "Status:filled") || !strings.Contains(want, "Status:live") || len(want) < 50000 {
				t.Fatalf("the stream left little state (%d bytes, filled and live orders: %v %v): the comparison would prove little",
					len(want), strings.Contains(want, "Status:filled"), strings.Contains(want, "Status:live"))
			}
			if got := storeState(t, db); got != want {
				t.Errorf("PostgreSQL holds another state than SQLite: %s", firstDiff(got, want))
			}
		})
	}
}

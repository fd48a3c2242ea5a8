package core

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/twinex/twinex"
	"github.com/twinex/twinex/engine"
	"github.com/twinex/twinex/journal"
	"github.com/twinex/twinex/sqlite"
)

// openJournaled opens the store and the journal in dir and a core over
// them; the caller closes all three (closeAll).
func openJournaled(t *testing.T, dir string, keep bool) (*Core, *sqlite.DB, *journal.File) {
	t.Helper()
	db := openStore(t, dir)
	j, err := journal.Open(filepath.Join(dir, "journal"))
	if err != nil {
		t.Fatal(err)
	}
	c, err := Open(context.Background(), Config{Store: db, Journal: j, KeepJournal: keep, Markets: twinex.DefaultMarkets(),
		Now: fixedClock, CheckpointEvery: time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	return c, db, j
}

func closeAll(t *testing.T, c *Core, db *sqlite.DB, j *journal.File) {
	t.Helper()
	if err := c.Close(); err != nil {
		t.Fatal(err)
	}
	db.Close()
	j.Close()
}

// randomStream sends n seeded random commands to c from several
// goroutines at once (so batches hold many commands): deposits, limit
// orders around a moving price on two markets, cancels, fee changes and a
// market halted and reopened.
func randomStream(t *testing.T, c *Core, seed uint64, n int) {
	t.Helper()
	ms := twinex.DefaultMarkets()
	eth := ms.Index("ethusd")
	const workers = 8
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
				switch k := rng.IntN(20); {
				case i < 4:
					cmd = deposit(acct, []string{"USD", "BTC", "ETH"}[i%3], []int64{usd(1_000_000), btc(100), btc(1000)}[i%3])
				case k < 11:
					side := twinex.Buy
					if rng.IntN(2) == 0 {
						side = twinex.Sell
					}
					cmd = limit(acct, side, 3000000+int64(rng.IntN(200)-100)*100, int64(1+rng.IntN(50))*1000000)
					if k == 10 {
						cmd.Market, cmd.Price = eth, 200000+int64(rng.IntN(50)-25)*100
					}
				case k < 16 && len(mine) > 0:
					cmd = engine.Command{Kind: engine.Cancel, AccountID: acct, OrderID: mine[rng.IntN(len(mine))]}
				case k == 16:
					cmd = engine.Command{Kind: engine.CancelAll, AccountID: acct}
				case k == 17:
					cmd = engine.Command{Kind: engine.SetFees, AccountID: acct, Fees: twinex.FeeRates{MakerBps: int64(rng.IntN(20)), TakerBps: int64(20 + rng.IntN(20))}}
				case k == 18:
					st := twinex.MarketOpen
					if rng.IntN(4) == 0 {
						st = twinex.MarketStatus("cancel_only")
					}
					cmd = engine.Command{Kind: engine.SetMarketStatus, Market: eth, Status: st}
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

// everything is what a store holds of the exchange: its recovery state,
// and its orders and trades of every account.
func everything(t *testing.T, db twinex.ExchangeStore) string {
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

func copyDir(t *testing.T, from, to string) {
	t.Helper()
	if err := os.CopyFS(to, os.DirFS(from)); err != nil {
		t.Fatal(err)
	}
}

// Recovery from a checkpoint plus the journal after it equals recovery
// from the journal alone, and both equal the state the exchange
// acknowledged, on seeded random streams.
func TestCheckpointPlusJournalEqualsJournalAlone(t *testing.T) {
	for _, seed := range []uint64{1, 2, 3} {
		t.Run(fmt.Sprint(seed), func(t *testing.T) {
			live := t.TempDir()
			c, db, j := openJournaled(t, live, true)
			randomStream(t, c, seed, 1500)
			closeAll(t, c, db, j)
			// The checkpoint: the store as it was after the first
			// part of the stream.
			checkpoint := t.TempDir()
			copyDir(t, live, checkpoint)
			os.RemoveAll(filepath.Join(checkpoint, "journal"))

			c, db, j = openJournaled(t, live, true)
			randomStream(t, c, seed+100, 1500)
			checkCore(t, c)
			closeAll(t, c, db, j)
			db = openStore(t, live)
			want := everything(t, db)
			db.Close()
			if n := len(want); n < 100000 {
				t.Fatalf("the stream left little state (%d bytes): the comparison would prove nothing", n)
			}

			// From the checkpoint and the whole journal.
			copyDir(t, filepath.Join(live, "journal"), filepath.Join(checkpoint, "journal"))
			c, db, j = openJournaled(t, checkpoint, true)
			checkCore(t, c)
			closeAll(t, c, db, j)
			db = openStore(t, checkpoint)
			if got := everything(t, db); got != want {
				t.Errorf("checkpoint + journal differs from the acknowledged state")
			}
			db.Close()

			// From the journal alone, into an empty store.
			alone := t.TempDir()
			copyDir(t, filepath.Join(live, "journal"), filepath.Join(alone, "journal"))
			c, db, j = openJournaled(t, alone, true)
			checkCore(t, c)
			closeAll(t, c, db, j)
			db = openStore(t, alone)
			if got := everything(t, db); got != want {
				t.Errorf("the journal alone differs from the acknowledged state")
			}
			db.Close()
		})
	}
}

// slowStore holds every projection back until released, so that the
// projection lags the journal.
type slowStore struct {
	*sqlite.DB
	gate chan struct{}
}

func (s *slowStore) Project(ctx context.Context, b *twinex.Batch) error {
	<-s.gate
	return s.DB.Project(ctx, b)
}

// An acknowledged command is durable in the journal: with the projection
// held back (as in a crash before it ran), a restart replays it, and a
// read through History waits for the projection instead of missing it.
func TestJournalIsTheDurabilityPoint(t *testing.T) {
	dir := t.TempDir()
	db := openStore(t, dir)
	j, err := journal.Open(filepath.Join(dir, "journal"))
	if err != nil {
		t.Fatal(err)
	}
	slow := &slowStore{DB: db, gate: make(chan struct{})}
	c, err := Open(context.Background(), Config{Store: slow, Journal: j, Markets: twinex.DefaultMarkets(), Now: fixedClock})
	if err != nil {
		t.Fatal(err)
	}
	mustDo(t, c, deposit(100, "USD", usd(100000)))
	o := mustDo(t, c, limit(100, twinex.Buy, 3000000, 20000000)).Order
	if c.Lag() == 0 {
		t.Fatal("the projection is not behind")
	}
	// A read waits until the projection holds the order.
	read := make(chan error, 1)
	go func() {
		got, err := c.History().Order(context.Background(), o.ID)
		if err == nil && got.ID != o.ID {
			err = fmt.Errorf("read order %d", got.ID)
		}
		read <- err
	}()
	select {
	case err := <-read:
		t.Fatalf("the read did not wait for the projection: %v", err)
	case <-time.After(50 * time.Millisecond):
	}
	// The raw store does not have it yet: only the journal does. A
	// restart from these files (the crash) recovers it.
	if _, err := db.Order(context.Background(), o.ID); err == nil {
		t.Fatal("the order was projected through a closed gate")
	}
	crash := t.TempDir()
	copyDir(t, dir, crash)
	close(slow.gate)
	if err := <-read; err != nil {
		t.Fatal(err)
	}
	closeAll(t, c, db, j)

	c, db, j = openJournaled(t, crash, false)
	defer closeAll(t, c, db, j)
	if err := c.Caught(context.Background()); err != nil {
		t.Fatal(err)
	}
	got, err := c.History().Order(context.Background(), o.ID)
	if err != nil || got.Status != o.Status || got.Amount != o.Amount {
		t.Fatalf("after the crash: %+v %v, want %+v", got, err, o)
	}
	checkCore(t, c)
}

// A journal written with another database is not replayed into it.
func TestRefusesAForeignJournal(t *testing.T) {
	a, b := t.TempDir(), t.TempDir()
	c, db, j := openJournaled(t, a, true)
	mustDo(t, c, deposit(100, "USD", usd(1)))
	closeAll(t, c, db, j)
	c, db, j = openJournaled(t, b, true)
	mustDo(t, c, deposit(100, "USD", usd(2)))
	closeAll(t, c, db, j)
	// b's database with a's journal, which holds a record after b's
	// projection (both reached sequence 1; a's journal gets another).
	c, db, j = openJournaled(t, a, true)
	mustDo(t, c, deposit(100, "USD", usd(3)))
	closeAll(t, c, db, j)
	os.RemoveAll(filepath.Join(b, "journal"))
	copyDir(t, filepath.Join(a, "journal"), filepath.Join(b, "journal"))
	db = openStore(t, b)
	defer db.Close()
	j, err := journal.Open(filepath.Join(b, "journal"))
	if err != nil {
		t.Fatal(err)
	}
	defer j.Close()
	if _, err := Open(context.Background(), Config{Store: db, Journal: j, Markets: twinex.DefaultMarkets()}); err == nil {
		t.Fatal("a foreign journal was replayed")
	}
}

// Without KeepJournal a clean close leaves the journal empty: the store
// holds everything.
func TestCloseCheckpointsAndEmptiesTheJournal(t *testing.T) {
	dir := t.TempDir()
	c, db, j := openJournaled(t, dir, false)
	randomStream(t, c, 7, 400)
	closeAll(t, c, db, j)
	j, err := journal.Open(filepath.Join(dir, "journal"))
	if err != nil {
		t.Fatal(err)
	}
	defer j.Close()
	segs, _ := filepath.Glob(filepath.Join(dir, "journal", "*.journal"))
	if len(segs) != 1 || j.Segments() != 1 {
		t.Fatalf("%d segments after a clean close", len(segs))
	}
	if info, err := os.Stat(segs[0]); err != nil || info.Size() != 24 {
		t.Fatalf("the segment left after a clean close holds records: %v %v", info.Size(), err)
	}
	// Replaying from before the truncation is refused: those records
	// are gone, and only the store has their effects.
	if err := j.Replay(context.Background(), 0, func(twinex.JournalRecord) error { return nil }); err == nil {
		t.Fatal("replaying from 0 a journal truncated at the close")
	}
}

// Records round-trip through their encoding.
func TestRecordRoundTrip(t *testing.T) {
	ms := twinex.DefaultMarkets()
	cmds := []engine.Command{
		{Kind: engine.Place, Time: 1, AccountID: 7, Session: "k", ClientOrderID: "c1", Market: ms.Index("ethusd"), Side: twinex.Sell,
			Type: twinex.Limit, Option: 2, Price: 123, StopPrice: 4, Amount: 5, Reason: "", Fees: twinex.FeeRates{MakerBps: 1, TakerBps: 2}},
		{Kind: engine.WithdrawFunds, Time: 2, AccountID: 8, Currency: "BTC", Funds: -1 << 62, Fee: 1 << 62, ToAccount: 9,
			Destination: "addr", TxHash: "h", ClientID: "cid", Method: "m"},
		{Kind: engine.SetMarketStatus, Time: 3, Market: ms.Index("btcusd"), Status: "cancel_only"},
		{Kind: engine.Cancel, Time: 4, AccountID: 7, OrderID: 99, Reason: "Requested"},
	}
	b := &twinex.Batch{
		KeyUses:    []twinex.KeyUse{{ID: "key", LastNonce: "17", LastUsed: 5, LastIP: "::1", Seq: 3}},
		KeyReplays: []twinex.KeyReplay{{KeyID: "key", Sig: "abc", Until: 9}},
		Meta:       map[string]string{"b": "2", "a": "1"},
	}
	ptrs := []*engine.Command{}
	for i := range cmds {
		ptrs = append(ptrs, &cmds[i])
	}
	data := encodeRecord(nil, ms, ptrs, b)
	r, err := decodeRecord(data, ms)
	if err != nil {
		t.Fatal(err)
	}
	// A command's market is kept only for the kinds that use one.
	cmds[1].Market, cmds[3].Market = 0, 0
	if !reflect.DeepEqual(r.cmds, cmds) || !reflect.DeepEqual(r.uses, b.KeyUses) ||
		!reflect.DeepEqual(r.replays, b.KeyReplays) || !reflect.DeepEqual(r.meta, b.Meta) {
		t.Fatalf("decoded %+v", r)
	}
	for cut := range data {
		if _, err := decodeRecord(data[:cut], ms); err == nil {
			t.Fatalf("a record cut at %d decoded", cut)
		}
	}
}

func FuzzDecodeRecord(f *testing.F) {
	ms := twinex.DefaultMarkets()
	c := engine.Command{Kind: engine.Place, Market: 0, Price: 1, Amount: 2}
	f.Add(encodeRecord(nil, ms, []*engine.Command{&c}, &twinex.Batch{}))
	f.Fuzz(func(t *testing.T, data []byte) {
		r, err := decodeRecord(data, ms)
		if err != nil {
			return
		}
		ptrs := []*engine.Command{}
		for i := range r.cmds {
			ptrs = append(ptrs, &r.cmds[i])
		}
		again, err := decodeRecord(encodeRecord(nil, ms, ptrs, &twinex.Batch{KeyUses: r.uses, KeyReplays: r.replays, Meta: r.meta}), ms)
		if err != nil || !reflect.DeepEqual(again.cmds, r.cmds) {
			t.Fatalf("re-encoding changed the record: %v", err)
		}
	})
}

// A journal cut at every byte inside its last record (a write torn by a
// crash) recovers exactly the complete records, with the ledger
// invariants holding, and takes new commands after them.
func TestTornJournalRecovers(t *testing.T) {
	src := t.TempDir()
	c, db, j := openJournaled(t, src, true)
	randomStream(t, c, 11, 120)
	mustDo(t, c, deposit(104, "BTC", btc(3))) // the last record, alone in its batch
	closeAll(t, c, db, j)

	j, err := journal.Open(filepath.Join(src, "journal"))
	if err != nil {
		t.Fatal(err)
	}
	var last int
	if err := j.Replay(context.Background(), 0, func(r twinex.JournalRecord) error { last = len(r.Data); return nil }); err != nil {
		t.Fatal(err)
	}
	j.Close()
	segs, _ := filepath.Glob(filepath.Join(src, "journal", "*.journal"))
	if len(segs) != 1 {
		t.Fatalf("%d segments", len(segs))
	}
	whole, err := os.ReadFile(segs[0])
	if err != nil {
		t.Fatal(err)
	}
	start := len(whole) - 16 - last // the record's head is 16 bytes

	recoverCut := func(cut int) string {
		t.Helper()
		dir := t.TempDir()
		if err := os.MkdirAll(filepath.Join(dir, "journal"), 0o700); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, "journal", filepath.Base(segs[0])), whole[:cut], 0o600); err != nil {
			t.Fatal(err)
		}
		c, db, j := openJournaled(t, dir, true)
		checkCore(t, c)
		closeAll(t, c, db, j)
		db = openStore(t, dir)
		defer db.Close()
		return everything(t, db)
	}
	before, after := recoverCut(start), recoverCut(len(whole))
	if before == after {
		t.Fatal("the last record changed nothing")
	}
	for cut := start + 1; cut < len(whole); cut++ {
		if got := recoverCut(cut); got != before {
			t.Fatalf("cut at byte %d of %d: the state is not that of the complete records", cut, len(whole))
		}
	}
}

// A command naming a market out of range (refused by the engine) is
// journaled without one and replays refused, not in the first market.
func TestRecordOfAnUnknownMarket(t *testing.T) {
	ms := twinex.DefaultMarkets()
	c := engine.Command{Kind: engine.Place, Market: len(ms.List) + 3, Price: 1, Amount: 1}
	r, err := decodeRecord(encodeRecord(nil, ms, []*engine.Command{&c}, &twinex.Batch{}), ms)
	if err != nil {
		t.Fatal(err)
	}
	if r.cmds[0].Market >= 0 {
		t.Fatalf("replays in market %d", r.cmds[0].Market)
	}
}

// Records that ran under one market configuration are not replayed under
// another: the engine checks orders against ticks, steps and minimum
// sizes, so an acknowledged order could be refused on replay.
func TestReplayRefusesChangedMarketRules(t *testing.T) {
	live := t.TempDir()
	c, db, j := openJournaled(t, live, true)
	mustDo(t, c, deposit(100, "USD", usd(100000)))
	closeAll(t, c, db, j)
	checkpoint := t.TempDir()
	copyDir(t, live, checkpoint)
	os.RemoveAll(filepath.Join(checkpoint, "journal"))
	c, db, j = openJournaled(t, live, true)
	mustDo(t, c, limit(100, twinex.Buy, 3000000, 1000000))
	closeAll(t, c, db, j)
	copyDir(t, filepath.Join(live, "journal"), filepath.Join(checkpoint, "journal"))

	db = openStore(t, checkpoint)
	defer db.Close()
	jj, err := journal.Open(filepath.Join(checkpoint, "journal"))
	if err != nil {
		t.Fatal(err)
	}
	defer jj.Close()
	ms := twinex.DefaultMarkets()
	ms.List[0].MinAmount *= 1000
	if _, err := Open(context.Background(), Config{Store: db, Journal: jj, Markets: ms}); err == nil || !strings.Contains(err.Error(), "market configuration changed") {
		t.Fatalf("replay under changed rules: %v", err)
	}
	c, err = Open(context.Background(), Config{Store: db, Journal: jj, Markets: twinex.DefaultMarkets()})
	if err != nil {
		t.Fatalf("replay under the same rules: %v", err)
	}
	checkCore(t, c)
	c.Close()
}

// stuckJournal's appends hang until their context ends, as on a database
// connection that died without a word.
type stuckJournal struct {
	*journal.File
	once  sync.Once
	stuck chan struct{}
}

func (j *stuckJournal) Append(ctx context.Context, _ []twinex.JournalRecord) error {
	j.once.Do(func() { close(j.stuck) })
	<-ctx.Done()
	return ctx.Err()
}

// Abort frees a core whose write hangs: the command in flight gets an
// error that says its outcome is unknown (never an acknowledgement), and
// Close returns.
func TestAbortCutsAHangingWriteShort(t *testing.T) {
	dir := t.TempDir()
	db := openStore(t, dir)
	defer db.Close()
	f, err := journal.Open(filepath.Join(dir, "journal"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	j := &stuckJournal{File: f, stuck: make(chan struct{})}
	c, err := Open(context.Background(), Config{Store: db, Journal: j, Markets: twinex.DefaultMarkets(), Now: fixedClock})
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() {
		_, err := c.Do(context.Background(), deposit(100, "USD", usd(5)))
		done <- err
	}()
	<-j.stuck
	select {
	case err := <-done:
		t.Fatalf("the command returned while its write hung: %v", err)
	case <-time.After(50 * time.Millisecond):
	}
	c.Abort()
	var err2 error
	select {
	case err2 = <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("the command still waits after Abort")
	}
	if !errors.Is(err2, twinex.ErrOutcomeUnknown) || twinex.ErrorReason(err2) != twinex.System {
		t.Fatalf("the command's error is %v, want a System error whose outcome is unknown", err2)
	}
	closed := make(chan error, 1)
	go func() { closed <- c.Close() }()
	select {
	case <-closed:
	case <-time.After(10 * time.Second):
		t.Fatal("Close still waits after Abort")
	}
}

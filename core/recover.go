package core

import (
	"context"
	"fmt"
	"sort"
	"strconv"
	"strings"

	"github.com/twinex/twinex"
	"github.com/twinex/twinex/engine"
	"github.com/twinex/twinex/marketdata"
)

// recover loads the store's state into the engine and the market data,
// checks that it was written under the configured markets' scales and
// units, and replays the journal after it.
func (c *Core) recover(ctx context.Context) error {
	st, err := c.cfg.Store.LoadState(ctx)
	if err != nil {
		return fmt.Errorf("core: load state: %w", err)
	}
	scales, units, rules := scaleString(c.cfg.Markets), unitString(c.cfg.Markets), ruleString(c.cfg.Markets)
	if old, ok := st.Meta[metaScales]; ok {
		if err := compareUnits("currency", old, scales); err != nil {
			return fmt.Errorf("core: %w", err)
		}
	}
	if old, ok := st.Meta[metaUnits]; ok {
		if err := compareUnits("market", old, units); err != nil {
			return fmt.Errorf("core: %w", err)
		}
	}
	now := c.cfg.Now().UnixNano()
	last := map[string]int64{}
	for _, m := range c.cfg.Markets.List {
		trades, err := c.cfg.Store.Trades(ctx, twinex.TradeQuery{Market: m.Symbol, Limit: marketdata.RecentTrades})
		if err != nil {
			return fmt.Errorf("core: load trades of %s: %w", m.Symbol, err)
		}
		var candles []twinex.Candle
		for k, tf := range twinex.Timeframes {
			q := twinex.CandleQuery{Market: m.Symbol, Timeframe: tf.Name, Limit: 1}
			if k == 0 {
				// The last day's minutes and the one before them, which
				// is the price before the 24-hour window.
				q.Limit = 1441
			}
			cs, err := c.cfg.Store.Candles(ctx, q)
			if err != nil {
				return fmt.Errorf("core: load candles of %s: %w", m.Symbol, err)
			}
			candles = append(candles, cs...)
		}
		if len(trades) > 0 {
			last[m.Symbol] = trades[0].Price // newest first
		}
		c.md.Restore(m.Symbol, trades, candles)
	}
	if err := c.x.Restore(st, last); err != nil {
		return fmt.Errorf("core: %w", err)
	}
	c.seq = st.JournalSeq
	c.projected.Store(st.JournalSeq)
	c.journaled.Store(st.JournalSeq)
	if c.cfg.Journal != nil {
		if err := c.replay(ctx, st, rules); err != nil {
			return fmt.Errorf("core: %w", err)
		}
	}
	if err := c.x.Check(); err != nil {
		return fmt.Errorf("core: the stored state violates the ledger invariants; refusing to start: %w", err)
	}
	if st.Meta[metaScales] != scales || st.Meta[metaUnits] != units || st.Meta[metaRules] != rules {
		b := &twinex.Batch{Meta: map[string]string{metaScales: scales, metaUnits: units, metaRules: rules}}
		if c.recovered == nil {
			b.Counters = c.x.Counters()
		}
		if err := c.cfg.Store.Commit(ctx, b); err != nil {
			return fmt.Errorf("core: record currency scales: %w", err)
		}
	}
	// Stamps go on from the last one stored even if the clock is behind
	// (a step back, a moved data directory): history never goes backwards.
	c.last = max(now, st.Counters.Time, c.x.Counters().Time)
	for i := range c.cfg.Markets.List {
		c.snaps[i].Store(c.snapshot(i, now, true))
	}
	c.log.Info("exchange recovered", "open_orders", len(st.OpenOrders), "balances", len(st.Balances),
		"last_order_id", st.Counters.OrderID, "last_trade_id", st.Counters.TradeID)
	return nil
}

// scaleString renders the currencies' ledger scales as "BTC:11,USD:10".
func scaleString(ms *twinex.Markets) string {
	var parts []string
	for _, cur := range ms.Currencies {
		parts = append(parts, cur.Code+":"+strconv.Itoa(cur.Scale))
	}
	sort.Strings(parts)
	return strings.Join(parts, ",")
}

// unitString renders the markets' price and amount decimals as
// "btcusd:2/8,ethbtc:5/6": stored prices and amounts are counts of these
// units, so they must not change under stored orders and trades.
func unitString(ms *twinex.Markets) string {
	var parts []string
	for _, m := range ms.List {
		parts = append(parts, fmt.Sprintf("%s:%d/%d", m.Symbol, m.PriceDecimals, m.AmountDecimals))
	}
	sort.Strings(parts)
	return strings.Join(parts, ",")
}

// ruleString renders what the engine checks orders against, per market:
// "btcusd:1/1/1000/open,...".
func ruleString(ms *twinex.Markets) string {
	var parts []string
	for _, m := range ms.List {
		parts = append(parts, fmt.Sprintf("%s:%d/%d/%d/%s", m.Symbol, m.PriceTick, m.AmountStep, m.MinAmount, m.Status))
	}
	sort.Strings(parts)
	return strings.Join(parts, ",")
}

// compareUnits refuses a configuration that changes the units of a currency
// or market the store already knows ("what" names which, for the message).
// New ones are fine; a removed one is caught by the restore if anything
// still refers to it.
func compareUnits(what, stored, now string) error {
	cur := map[string]string{}
	for _, p := range strings.Split(now, ",") {
		if k, v, ok := strings.Cut(p, ":"); ok {
			cur[k] = v
		}
	}
	for _, p := range strings.Split(stored, ",") {
		k, v, ok := strings.Cut(p, ":")
		if !ok {
			continue
		}
		if nv, present := cur[k]; present && nv != v {
			return fmt.Errorf("%s %s has units %s in the store but %s in the market configuration; stored amounts would change meaning", what, k, v, nv)
		}
	}
	return nil
}

// replay recovers the journal records after the store's projection (st):
// their commands are applied to the restored exchange exactly as they were
// first applied, and their effects merged into one batch that the
// projector writes first. A journal that was not written with this store
// is refused unless it holds nothing to replay.
func (c *Core) replay(ctx context.Context, st *twinex.State, rules string) error {
	j := c.cfg.Journal
	stored, err := c.cfg.Store.JournalID(ctx)
	if err != nil {
		return err
	}
	pristine := st.JournalSeq == 0 && st.Counters == (twinex.Counters{}) && len(st.Balances) == 0
	foreign := stored != j.ID() && !(stored == "" && pristine)
	// The engine and the market data keep what changed until taken, the
	// latest state of each once, so the replay takes them as one batch at
	// its end. Only the orders it closes are taken as it goes, encoded
	// (so that they are reused, not each allocated and held), with the
	// new rows (in chunks, never copied to grow) and the key uses
	// gathered per record.
	rows := &replayRows{}
	acc := &pending{replay: rows}
	b := &acc.batch
	rp := &replayed{b: b, rows: rows, uses: map[string]int{}, take: rows.closed.add, out: engine.Output{NoEvents: true}}
	check := func(twinex.JournalRecord) error {
		if foreign {
			return fmt.Errorf("the journal (id %s) was not written with this database (journal id %q) and holds records after its sequence %d; "+
				"start with the journal that belongs to this database, or move the journal directory aside to start from the database alone", j.ID(), stored, st.JournalSeq)
		}
		if was := st.Meta[metaRules]; was != "" && was != rules {
			return fmt.Errorf("the market configuration changed (ticks, steps, minimum sizes or statuses: %q, was %q) while the journal holds "+
				"commands after sequence %d that ran under the old one: start once with the previous configuration so that they replay "+
				"as they were acknowledged, stop cleanly, then change it", rules, was, st.JournalSeq)
		}
		return nil
	}
	err = readAhead(ctx, j, st.JournalSeq, c.cfg.Markets, check, func(d *decoded) { c.replayRecord(rp, d) })
	records, commands := rp.records, rp.commands
	if err != nil {
		return err
	}
	if len(b.KeyUses) > 0 || len(b.KeyReplays) > 0 {
		// Keys read their nonce and replay marks from the store when
		// first used: those of the replayed requests are written now,
		// before anything is served, not with the rest of the projection.
		if err := c.cfg.Store.Commit(ctx, &twinex.Batch{KeyUses: b.KeyUses, KeyReplays: b.KeyReplays}); err != nil {
			return fmt.Errorf("record the replayed key uses: %w", err)
		}
	}
	if records > 0 {
		// The market statuses TakeChanges adds are those the last
		// records' meta already holds.
		c.x.TakeChanges(b)
		c.md.TakeCandles(b)
	}
	c.touched = c.x.TakeTouched(c.touched[:0])
	if stored != j.ID() {
		if err := c.cfg.Store.SetJournalID(ctx, j.ID()); err != nil {
			return err
		}
	}
	if last := max(j.Last(), b.JournalSeq); last > c.seq {
		c.seq = last
	}
	if records > 0 {
		c.recovered = acc
		c.journaled.Store(b.JournalSeq)
		c.log.Info("journal replayed", "records", records, "commands", commands, "from", st.JournalSeq, "to", b.JournalSeq)
	}
	return nil
}

// replayed is what a replay gathered so far.
type replayed struct {
	b                 *twinex.Batch       // the new rows, key uses, replay marks and meta
	uses              map[string]int      // key id -> its use in b.KeyUses
	rows              *replayRows         // the closed orders, trades and transfers
	take              func(*twinex.Order) // rows.closed.add, made once (a method value per record would allocate)
	out               engine.Output
	records, commands int
}

// replayRecord applies one journal record's commands to the engine and the
// market data and gathers its effects into rp.
func (c *Core) replayRecord(rp *replayed, d *decoded) {
	r, b := &d.r, rp.b
	rp.out.Reset()
	for i := range r.cmds {
		c.x.Apply(&r.cmds[i], &rp.out)
	}
	c.md.Apply(rp.out.Trades)
	c.x.TakeClosed(rp.take)
	rp.rows.trades.add(rp.out.Trades)
	rp.rows.transfers.add(rp.out.Transfers)
	for _, u := range r.uses {
		if i, ok := rp.uses[u.ID]; !ok {
			rp.uses[u.ID] = len(b.KeyUses)
			b.KeyUses = append(b.KeyUses, u)
		} else if u.Seq > b.KeyUses[i].Seq {
			b.KeyUses[i] = u
		}
	}
	b.KeyReplays = append(b.KeyReplays, r.replays...)
	for k, v := range r.meta {
		if b.Meta == nil {
			b.Meta = map[string]string{}
		}
		b.Meta[k] = v
	}
	b.JournalSeq = d.seq
	rp.records++
	rp.commands += len(r.cmds)
}

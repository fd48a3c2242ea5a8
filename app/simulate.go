package app

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/twinex/twinex"
	adminapi "github.com/twinex/twinex/admin"
	"github.com/twinex/twinex/engine"
	"github.com/twinex/twinex/sim"
)

// simulator is the sandbox's market simulator for one state: market-maker
// and taker bots (system accounts 2 and 3) trading through the core.
type simulator struct {
	runner *sim.Runner
	stop   func()
	done   sync.WaitGroup
}

// openSimulator funds the bots up to what the simulator needs, continues
// each market's price path from its last trade, and returns the simulator,
// not yet running.
func (m *App) openSimulator(ctx context.Context, st *state) (*simulator, error) {
	s, err := sim.New(m.simCfg, m.markets)
	if err != nil {
		return nil, fmt.Errorf("simulator: %w", err)
	}
	// Top the bots up to their funding whenever a state opens: at start,
	// after a restore or a reset.
	var topUps []engine.Command
	var last []int64
	if err := st.core.Inspect(ctx, func(x *engine.Exchange) {
		for _, d := range s.Funding() {
			a := x.Ledger().Lookup(d.AccountID)
			var have int64
			if c := x.Ledger().CurrencyIndex(d.Currency); a != nil && c >= 0 {
				// A bot holding more than an int64 needs no top-up:
				// Int64 saturates.
				have, _ = a.Balances[c].Total.Int64()
			}
			if have < d.Funds/2 {
				topUps = append(topUps, engine.Command{Kind: engine.DepositFunds, AccountID: d.AccountID, Currency: d.Currency, Funds: d.Funds - have, Method: "Simulator"})
			}
		}
		for i := range m.markets.List {
			last = append(last, x.LastPrice(i))
		}
	}); err != nil {
		return nil, err
	}
	for _, c := range topUps {
		res, err := st.core.Do(ctx, c)
		if err == nil {
			err = res.Err
		}
		if err != nil {
			return nil, fmt.Errorf("simulator: fund the bots: %w", err)
		}
	}
	for i, p := range last {
		if p > 0 {
			if err := s.SetPrice(m.markets.List[i].Symbol, p); err != nil {
				return nil, fmt.Errorf("simulator: %w", err)
			}
		}
	}
	r := sim.NewRunner(s, st.core)
	r.Logger = m.Logger
	r.Now = m.now
	m.simMu.Lock()
	if m.simPaused {
		r.Pause()
	}
	m.simMu.Unlock()
	return &simulator{runner: r}, nil
}

// backfill writes the simulator's market history (sim.Backfill, m.Backfill
// long, ending now) into a store that has no trade yet: at first start and
// after a reset, so that the first ticker has a last price and a day's
// volume and every candle timeframe is full. It runs before the core
// opens, which then loads the history like any other (recent trades,
// candles, the last price the bots continue from).
//
// The history is market data only: its trades name no account nor order
// and it writes no balance, so the ledger and users' trade histories,
// volumes and usage charts are untouched. Money moves only through the
// sequencer, which stamps each command with the present; a past it never
// executed cannot have moved funds.
func (m *App) backfill(ctx context.Context, store twinex.ExchangeStore) error {
	if m.Mode != Sandbox || !m.Sim || m.Backfill <= 0 {
		return nil
	}
	first, err := store.Trades(ctx, twinex.TradeQuery{Limit: 1})
	if err != nil {
		return fmt.Errorf("backfill: %w", err)
	}
	if len(first) > 0 {
		return nil
	}
	start := time.Now() // times the work; the history ends at the App's now
	h, err := sim.Backfill(m.simCfg, m.markets, m.now(), m.Backfill, 1)
	if err != nil || len(h.Trades) == 0 {
		return err
	}
	made := time.Since(start)
	last := h.Trades[len(h.Trades)-1]
	b := &twinex.Batch{Trades: h.Trades, Candles: h.Candles, Counters: twinex.Counters{TradeID: last.ID, Time: last.Time}}
	if err := store.Commit(ctx, b); err != nil {
		return fmt.Errorf("backfill: %w", err)
	}
	m.Logger.Info("market history backfilled", "span", m.Backfill, "trades", len(h.Trades), "candles", len(h.Candles),
		"made_in", made.Round(time.Millisecond), "written_in", (time.Since(start) - made).Round(time.Millisecond))
	return nil
}

func (s *simulator) start() {
	ctx, stop := context.WithCancel(context.Background())
	s.stop = stop
	s.done.Add(1)
	go func() { defer s.done.Done(); s.runner.Run(ctx) }()
}

func (s *simulator) close() {
	if s.stop != nil {
		s.stop()
		s.done.Wait()
	}
}

// SetPrice jumps a market's reference price (sandbox control).
func (m *App) SetPrice(symbol string, price string) error {
	mk := m.markets.Market(symbol)
	if mk == nil {
		return fmt.Errorf("unknown market %q", symbol)
	}
	p, err := mk.ParsePrice(price)
	if err != nil {
		return err
	}
	if m.st.sim == nil {
		return fmt.Errorf("the simulator is off (serve --sim=false)")
	}
	return m.st.sim.runner.SetPrice(mk.Symbol, p)
}

// PauseSim and ResumeSim stop and restart the bots (sandbox controls); the
// choice holds across restores. Like every control they run inside a
// request, which holds m.mu for reading (a restore holds it for writing);
// simMu keeps concurrent pauses and resumes from crossing.
func (m *App) PauseSim() error  { return m.pauseSim(true) }
func (m *App) ResumeSim() error { return m.pauseSim(false) }

func (m *App) pauseSim(pause bool) error {
	if m.st.sim == nil {
		return fmt.Errorf("the simulator is off (serve --sim=false)")
	}
	m.simMu.Lock()
	defer m.simMu.Unlock()
	m.simPaused = pause
	if pause {
		m.st.sim.runner.Pause()
	} else {
		m.st.sim.runner.Resume()
	}
	return nil
}

// SimStatus describes the simulator: whether it runs, its reference prices
// and its counters.
func (m *App) SimStatus() adminapi.SimStatus {
	if m.st.sim == nil {
		return adminapi.SimStatus{}
	}
	r := m.st.sim.runner
	refs := map[string]string{}
	for _, mk := range m.markets.List {
		refs[mk.Symbol] = mk.FormatPrice(r.Reference(mk.Symbol))
	}
	paused, st := r.Paused(), r.Stats()
	return adminapi.SimStatus{Enabled: true, Paused: &paused, Reference: refs, Stats: &adminapi.SimStats{
		Commands: st.Commands, Rejected: st.Rejected, InsufficientFunds: st.InsufficientFunds, Lost: st.Lost,
		Requotes: st.Requotes, TakerOrders: st.TakerOrders, TakerFills: st.TakerFills}}
}

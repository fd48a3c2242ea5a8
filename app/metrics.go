package app

import (
	"errors"
	"fmt"
	"net"
	"net/http"
	"time"

	"github.com/twinex/twinex"
	"github.com/twinex/twinex/core"
	"github.com/twinex/twinex/metrics"
)

// startMetrics serves GET /metrics on MetricsListen, a listener of its own
// so that it is never public by accident with the API. The gauges read the
// current state at each scrape (a restore replaces it).
func (m *App) startMetrics() error {
	mt := m.metrics
	m.stateGauges(mt)
	m.bookGauges(mt)
	ln, err := net.Listen("tcp", m.MetricsListen)
	if err != nil {
		return fmt.Errorf("metrics listen: %w", err)
	}
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", mt.Handler())
	m.metricsSrv = &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	m.metricsLn = ln
	go func() {
		if err := m.metricsSrv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			m.Logger.Error("metrics server", "err", err)
		}
	}()
	m.Logger.Info("metrics serving", "addr", ln.Addr().String())
	return nil
}

// stateGauges registers the gauges read from the current state (and the
// server's role).
func (m *App) stateGauges(mt *metrics.Metrics) {
	for _, k := range twinex.AlertKinds {
		mt.AlertRules(string(k))
	}
	cur := func(read func(st *state) float64) func() float64 {
		return func() float64 {
			m.mu.RLock()
			defer m.mu.RUnlock()
			if m.st == nil {
				return 0
			}
			return read(m.st)
		}
	}
	mt.Gauge("twinex_sequencer_queue_depth", "Commands waiting for the sequencer.",
		cur(func(st *state) float64 { return float64(st.core.QueueDepth()) }))
	mt.Gauge("twinex_projection_lag", "How far the store's tables are behind the command journal, in batch sequence numbers (0 when every acknowledged batch is projected).",
		cur(func(st *state) float64 { return float64(st.core.Lag()) }))
	mt.Gauge("twinex_activity_queue_depth", "Activity log records waiting to be written.",
		cur(func(st *state) float64 { return float64(st.log.Queued()) }))
	mt.Gauge("twinex_activity_records_dropped", "Activity log records dropped because the log was behind, since the state was opened.",
		cur(func(st *state) float64 { return float64(st.log.Dropped()) }))
	mt.Gauge("twinex_unknown_key_requests_dropped", "Requests naming unknown API keys refused unlogged by the per-address limit, since the state was opened.",
		cur(func(st *state) float64 { return float64(st.srv.DroppedUnknownKeys()) }))
	mt.Gauge("twinex_websocket_connections", "Open WebSocket connections.",
		cur(func(st *state) float64 { return float64(st.srv.WSConnections()) }))
	mt.Gauge("twinex_websocket_slow_readers_dropped", "WebSocket subscribers closed for falling behind, since the state was opened.",
		cur(func(st *state) float64 { return float64(st.feed.Dropped()) }))
	mt.Gauge("twinex_simulator_running", "1 while the market simulator trades, 0 when paused or off.",
		cur(func(st *state) float64 {
			m.simMu.Lock()
			defer m.simMu.Unlock()
			if st.sim == nil || m.simPaused {
				return 0
			}
			return 1
		}))
	mt.Gauge("twinex_leader", "1 while this server runs the sequencer (always on SQLite; on PostgreSQL while it holds the lease), 0 on a standby.",
		func() float64 {
			if m.ctl == nil || m.serving() {
				return 1
			}
			return 0
		})
}

// bookGauges registers the per-market gauges read from the published
// books.
func (m *App) bookGauges(mt *metrics.Metrics) {
	perMarket := func(read func(s *core.Snapshot) float64) func() map[string]float64 {
		return func() map[string]float64 {
			m.mu.RLock()
			defer m.mu.RUnlock()
			out := map[string]float64{}
			if m.st == nil {
				return out
			}
			for i, mk := range m.markets.List {
				if s := m.st.core.Snapshot(i); s != nil {
					out[mk.Symbol] = read(s)
				}
			}
			return out
		}
	}
	mt.PerMarket("twinex_book_orders", "Orders resting in a market's published book (both sides).",
		perMarket(func(s *core.Snapshot) float64 {
			n := 0
			for _, l := range s.Bids {
				n += l.Orders
			}
			for _, l := range s.Asks {
				n += l.Orders
			}
			return float64(n)
		}))
	depth := func(bids bool) func(s *core.Snapshot) float64 {
		return func(s *core.Snapshot) float64 {
			side := s.Asks
			if bids {
				side = s.Bids
			}
			var sum float64 // a gauge; level totals may sum past an int64
			for _, l := range side {
				sum += float64(l.Amount)
			}
			return sum / float64(pow10(s.Market.AmountDecimals))
		}
	}
	mt.PerMarket("twinex_book_bid_depth", "Base currency bid in a market's published book.", perMarket(depth(true)))
	mt.PerMarket("twinex_book_ask_depth", "Base currency offered in a market's published book.", perMarket(depth(false)))
}

// MetricsAddr is the metrics listener's address ("" when off).
func (m *App) MetricsAddr() string {
	if m.metricsLn == nil {
		return ""
	}
	return m.metricsLn.Addr().String()
}

func pow10(n int) int64 {
	v := int64(1)
	for range n {
		v *= 10
	}
	return v
}

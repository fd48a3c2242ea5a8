package api

import (
	"context"
	"fmt"
	"math"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/twinex/twinex"
	"github.com/twinex/twinex/core"
	"github.com/twinex/twinex/gemini"
	"github.com/twinex/twinex/marketdata"
)

// Gemini's public REST endpoints (reference §2): GET, no authentication,
// served from the core's published snapshots (and from the store for history
// the snapshots do not hold). An X-GEMINI-APIKEY header on these routes is
// ignored. Every symbol and token matches in any case.
//
// Choices where the reference is silent, pinned by public_test.go and the
// golden files in testdata/:
//
//   - A price that does not exist is left out, never invented as "0": the
//     pubticker and v2 ticker omit bid (ask) when that side of the book is
//     empty and last/open/high/low/close when the market never traded;
//     pricefeed omits price. ccxt then reads undefined, which is the truth;
//     a "0" would read as a real price of zero. Volumes are real zeros and
//     are always present.
//   - Gemini documents no reason for a malformed query parameter. Limits,
//     since_tid, include_breaks and candle time frames that do not parse
//     give 400 InvalidJson, Gemini's general "malformed request" reason and
//     the one ccxt maps to BadRequest; timestamp/since give 400
//     InvalidTimestampInPayload.
//   - /v1/trades returns, newest first, the newest limit_trades trades that
//     are newer than since_tid (tid > since_tid) or at/after timestamp. When
//     more trades than the limit follow the bound, the oldest of them are
//     left out. That is what the store can answer (TradeQuery has lower
//     bounds only and returns newest first), so memory and store give the
//     same answer. Real Gemini appears to return the oldest trades after the
//     bound instead (ccxt PR #15765: limit 1 with a month-old timestamp gave
//     a trade 28 s after it), which allows gap-free forward paging; matching
//     it needs an ascending TradeQuery.
//   - /v2/ticker's open (and pricefeed's change base) is the first trade of
//     the last 24 hours (marketdata.Stats.Open); with no trade in that window
//     open=high=low=close=last. changes lists the hourly prices newest first,
//     leaving out hour marks before the market's first trade (so a young
//     market has fewer than 24).
//   - pricefeed's percentChange24h is a fraction with four decimals
//     ("0.0244" for +2.44%), as live Gemini sends it (ccxt quotes "0.0146"
//     and "0.0000"); the reference's docs example "5.23" looks like a
//     percentage but is hand-written.
//   - /v1/network/:token for a fiat currency answers an empty network list;
//     an unknown token gives UnsupportedNetwork (the reason Gemini's
//     authenticated v2 variant uses; its HTTP status comes from HTTPStatus).

// Query defaults and caps of the public endpoints (reference §2.6, §2.7).
const (
	defaultBookLimit  = 50
	defaultTradeLimit = 50
	maxTradeLimit     = 500
	// candleRows is how many candles /v2/candles returns at most: a day of
	// one-minute candles. Gemini documents no count.
	candleRows = 1440
)

func (s *Server) routePublic() {
	// GET / is the page ccxt scrapes currencyData from (§8.1). The
	// dashboard will take this path over and embed CurrencyDataScript.
	s.mux.HandleFunc("GET /{$}", s.home)
	s.mux.Handle("GET /v1/symbols", s.public(s.symbols))
	s.mux.Handle("GET /v1/symbols/details/{symbol}", s.public(s.symbolDetails))
	s.mux.Handle("GET /v1/network/{token}", s.public(s.network))
	s.mux.Handle("GET /v1/pubticker/{symbol}", s.public(s.pubticker))
	s.mux.Handle("GET /v2/ticker/{symbol}", s.public(s.tickerV2))
	s.mux.Handle("GET /v1/book/{symbol}", s.public(s.book))
	s.mux.Handle("GET /v1/trades/{symbol}", s.public(s.trades))
	s.mux.Handle("GET /v2/candles/{symbol}/{time_frame}", s.public(s.candles))
	s.mux.Handle("GET /v1/pricefeed", s.public(s.pricefeed))
	s.mux.Handle("GET /v1/feepromos", s.public(s.feepromos))
}

type publicHandler func(w http.ResponseWriter, r *http.Request) error

// public adapts a handler that returns its error.
func (s *Server) public(h publicHandler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if err := h(w, r); err != nil {
			s.writeError(w, r, err)
		}
	})
}

// market returns the market named by the path's symbol (any case) and its
// latest snapshot, or InvalidSymbol.
func (s *Server) market(symbol string) (*twinex.Market, *core.Snapshot, error) {
	ms := s.Core.Markets()
	i := ms.Index(symbol)
	if i < 0 {
		return nil, nil, twinex.Errorf(twinex.InvalidSymbol, "Supplied value %q is not a valid symbol", symbol)
	}
	return ms.List[i], s.Core.Snapshot(i), nil
}

// units renders units of 10^-scale as an exact decimal ("0.00000001",
// never a float64's "1e-08" or rounding).
func units(v int64, scale int) gemini.Decimal { return gemini.Decimal(twinex.FormatUnits(v, scale)) }

// price formats a price, or "" (omitted) when there is none.
func price(m *twinex.Market, p int64) gemini.Decimal {
	if p == 0 {
		return ""
	}
	return gemini.Decimal(m.FormatPrice(p))
}

// symbols lists the markets that are not closed: a closed market is gone
// from Gemini's list (its details still answer, with status "closed").
func (s *Server) symbols(w http.ResponseWriter, r *http.Request) error {
	out := []string{}
	for i, m := range s.Core.Markets().List {
		if s.Core.Snapshot(i).Status != twinex.MarketClosed {
			out = append(out, m.Symbol)
		}
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

// symbolDetails is §2.2. contract_price_currency is left out: for a spot
// market its presence makes ccxt treat the market as a swap (§2.2, §9).
func (s *Server) symbolDetails(w http.ResponseWriter, r *http.Request) error {
	m, snap, err := s.market(r.PathValue("symbol"))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, gemini.SymbolDetails{
		Symbol: strings.ToUpper(m.Symbol), BaseCurrency: m.Base, QuoteCurrency: m.Quote,
		TickSize:       gemini.Number(units(m.AmountStep, m.AmountDecimals)), // the amount increment
		QuoteIncrement: gemini.Number(units(m.PriceTick, m.PriceDecimals)),   // the price tick
		MinOrderSize:   gemini.Decimal(m.FormatAmount(m.MinAmount)), Status: string(snap.Status),
		ProductType: "spot", ContractType: "vanilla",
	})
	return nil
}

func (s *Server) network(w http.ResponseWriter, r *http.Request) error {
	token := r.PathValue("token")
	cur := s.Core.Markets().Currency(token)
	if cur == nil {
		return twinex.Errorf(twinex.UnsupportedNetwork, "Supplied value %q is not a supported token", token)
	}
	out := gemini.Network{Token: cur.Code, Networks: []string{}}
	if cur.Network != "" {
		out.Networks = append(out.Networks, cur.Network)
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

// pubtickerJSON is §2.4. Volume holds the base and quote codes (upper
// case) as decimal strings and "timestamp" as a number of ms.
func (s *Server) pubticker(w http.ResponseWriter, r *http.Request) error {
	m, snap, err := s.market(r.PathValue("symbol"))
	if err != nil {
		return err
	}
	bid, ask := bestPrices(snap)
	writeJSON(w, http.StatusOK, gemini.Ticker{
		Bid: price(m, bid), Ask: price(m, ask), Last: price(m, snap.Stats.Last),
		Volume: gemini.TickerVolume{Timestampms: snap.Time / 1e6, Amounts: map[string]gemini.Decimal{
			m.Base:  gemini.Decimal(m.FormatAmount(snap.Stats.Volume)),
			m.Quote: gemini.Decimal(snap.Stats.QuoteVolume.FormatUnits(m.QuoteScale())),
		}},
	})
	return nil
}

// bestPrices returns the best bid and ask, 0 for an empty side.
func bestPrices(snap *core.Snapshot) (bid, ask int64) {
	if len(snap.Bids) > 0 {
		bid = snap.Bids[0].Price
	}
	if len(snap.Asks) > 0 {
		ask = snap.Asks[0].Price
	}
	return bid, ask
}

// tickerV2JSON is §2.5.
// dayRange is marketdata's rule, which the dashboard shows too.
func dayRange(st marketdata.Stats) (open, high, low int64) { return st.DayRange() }

func (s *Server) tickerV2(w http.ResponseWriter, r *http.Request) error {
	m, snap, err := s.market(r.PathValue("symbol"))
	if err != nil {
		return err
	}
	st := snap.Stats
	open, high, low := dayRange(st)
	bid, ask := bestPrices(snap)
	out := gemini.TickerV2{
		Symbol: strings.ToUpper(m.Symbol), Open: price(m, open), High: price(m, high), Low: price(m, low),
		Close: price(m, st.Last), Changes: []gemini.Decimal{}, Bid: price(m, bid), Ask: price(m, ask),
	}
	for _, p := range st.Hourly {
		if p == 0 {
			break // no price yet at this mark, nor at any older one
		}
		out.Changes = append(out.Changes, gemini.Decimal(m.FormatPrice(p)))
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

// bookEntryJSON is one level of §2.6. Timestamp is a string of seconds, the
// snapshot's time (Gemini documents it as not meaningful).
// queryCount parses a non-negative integer query parameter, def when it is
// absent or empty. Anything else is InvalidJson.
func queryCount(q url.Values, name string, def int) (int, error) {
	v := q.Get(name)
	if v == "" {
		return def, nil
	}
	n, err := strconv.ParseUint(v, 10, 31)
	if err != nil {
		return 0, twinex.Errorf(twinex.InvalidJson, "Invalid %s %q: must be a non-negative integer", name, v)
	}
	return int(n), nil
}

func (s *Server) book(w http.ResponseWriter, r *http.Request) error {
	m, snap, err := s.market(r.PathValue("symbol"))
	if err != nil {
		return err
	}
	q := r.URL.Query()
	nb, err := queryCount(q, "limit_bids", defaultBookLimit)
	if err != nil {
		return err
	}
	na, err := queryCount(q, "limit_asks", defaultBookLimit)
	if err != nil {
		return err
	}
	ts := strconv.FormatInt(snap.Time/1e9, 10)
	levels := func(ls []core.Level, n int) []gemini.BookEntry {
		if n > 0 && n < len(ls) { // 0: the whole side
			ls = ls[:n]
		}
		out := make([]gemini.BookEntry, 0, len(ls))
		for _, l := range ls {
			out = append(out, gemini.BookEntry{Price: gemini.Decimal(m.FormatPrice(l.Price)), Amount: gemini.Decimal(m.FormatAmount(l.Amount)), Timestamp: ts})
		}
		return out
	}
	writeJSON(w, http.StatusOK, gemini.OrderBook{Bids: levels(snap.Bids, nb), Asks: levels(snap.Asks, na)})
	return nil
}

// tradeJSON is one public trade (§2.7): timestamp (seconds), timestampms
// and tid are numbers, price and amount strings, type the taker side.
// tradeBound is what /v1/trades selects: trades with ID > AfterID and Time
// >= After (Unix ns), the newest Limit of them.
type tradeBound struct {
	After   int64
	AfterID int64
	Limit   int
}

// parseTimestamp parses a timestamp query value in seconds or, above 1e11,
// milliseconds (reference §0.1) into Unix ns. Only non-negative integers
// that fit are accepted; anything else is InvalidTimestampInPayload.
func parseTimestamp(name, v string) (int64, error) {
	n, err := strconv.ParseInt(v, 10, 64)
	switch {
	case err != nil || n < 0:
	case n > 1e11 && n <= math.MaxInt64/int64(1e6):
		return n * 1e6, nil
	case n <= 1e11 && n <= math.MaxInt64/int64(1e9):
		return n * 1e9, nil
	}
	return 0, twinex.Errorf(twinex.InvalidTimestampInPayload, "Invalid %s %q: must be a non-negative integer of seconds or milliseconds", name, v)
}

// parseTradeQuery reads /v1/trades' query. since_tid, when given,
// overrides timestamp (alias since), but every given value must parse.
func parseTradeQuery(q url.Values) (tradeBound, error) {
	var b tradeBound
	var err error
	if b.Limit, err = queryCount(q, "limit_trades", defaultTradeLimit); err != nil {
		return b, err
	}
	if b.Limit == 0 {
		return b, twinex.Errorf(twinex.InvalidJson, "Invalid limit_trades \"0\": must be at least 1")
	}
	b.Limit = min(b.Limit, maxTradeLimit)
	for _, name := range []string{"timestamp", "since"} {
		if v := q.Get(name); v != "" {
			if b.After, err = parseTimestamp(name, v); err != nil {
				return b, err
			}
			break
		}
	}
	if v := q.Get("since_tid"); v != "" {
		if b.AfterID, err = strconv.ParseInt(v, 10, 64); err != nil || b.AfterID < 0 {
			return b, twinex.Errorf(twinex.InvalidJson, "Invalid since_tid %q: must be a non-negative integer", v)
		}
		b.After = 0
	}
	// No trade is ever broken here, so include_breaks changes nothing; it
	// is still checked so that a typo is not silently taken as false.
	if v := q.Get("include_breaks"); v != "" {
		if _, err := strconv.ParseBool(v); err != nil {
			return b, twinex.Errorf(twinex.InvalidJson, "Invalid include_breaks %q: must be true or false", v)
		}
	}
	return b, nil
}

// recentTrades answers b from recent (newest first, contiguous up to the
// newest trade). ok is false when recent cannot prove the answer: it ran
// out before the limit or the bound, and is not the market's whole
// history (complete).
func recentTrades(recent []twinex.Trade, b tradeBound, complete bool) (out []twinex.Trade, ok bool) {
	for _, t := range recent {
		// Ids and stamps both grow with time, so the first trade past
		// the bound ends the answer.
		if t.ID <= b.AfterID || t.Time < b.After {
			return out, true
		}
		if len(out) == b.Limit {
			return out, true
		}
		out = append(out, t)
	}
	return out, complete || len(out) == b.Limit
}

// selectTrades answers b from recent when it can, else from the store.
func (s *Server) selectTrades(ctx context.Context, m *twinex.Market, recent []twinex.Trade, complete bool, b tradeBound) ([]twinex.Trade, error) {
	if out, ok := recentTrades(recent, b, complete); ok {
		return out, nil
	}
	return s.Store.Trades(ctx, twinex.TradeQuery{Market: m.Symbol, After: b.After, AfterID: b.AfterID, Limit: b.Limit})
}

func (s *Server) trades(w http.ResponseWriter, r *http.Request) error {
	m, snap, err := s.market(r.PathValue("symbol"))
	if err != nil {
		return err
	}
	b, err := parseTradeQuery(r.URL.Query())
	if err != nil {
		return err
	}
	// The core restores the newest RecentTrades trades of each market and
	// then keeps every new one, so holding fewer means holding them all.
	complete := len(snap.Trades) < marketdata.RecentTrades
	ts, err := s.selectTrades(r.Context(), m, snap.Trades, complete, b)
	if err != nil {
		return fmt.Errorf("public trades of %s: %w", m.Symbol, err)
	}
	out := make([]gemini.Trade, 0, len(ts))
	for _, t := range ts {
		out = append(out, gemini.Trade{
			Timestamp: t.Time / 1e9, Timestampms: t.Time / 1e6, TID: t.ID,
			Price: gemini.Decimal(m.FormatPrice(t.Price)), Amount: gemini.Decimal(m.FormatAmount(t.Amount)),
			Exchange: "gemini", Type: t.TakerSide.String(),
		})
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

// candles serves /v2/candles (§2.8): rows [ms, open, high, low, close,
// volume], all JSON numbers, newest first, at most candleRows. The store's
// candles are merged with the snapshot's latest one.
func (s *Server) candles(w http.ResponseWriter, r *http.Request) error {
	m, snap, err := s.market(r.PathValue("symbol"))
	if err != nil {
		return err
	}
	name := r.PathValue("time_frame")
	tf, ok := twinex.ParseTimeframe(name)
	if !ok {
		return twinex.Errorf(twinex.InvalidJson, "Supplied value %q is not a valid time frame: use one of 1m, 5m, 15m, 30m, 1hr, 6hr, 1day (or 1h, 6h, 1d)", name)
	}
	cs, err := s.Store.Candles(r.Context(), twinex.CandleQuery{Market: m.Symbol, Timeframe: tf.Name, Limit: candleRows})
	if err != nil {
		return fmt.Errorf("public candles of %s: %w", m.Symbol, err)
	}
	for k, t := range twinex.Timeframes {
		if t.Name == tf.Name && k < len(snap.Candles) {
			cs = mergeLatest(cs, snap.Candles[k])
		}
	}
	if len(cs) > candleRows {
		cs = cs[:candleRows]
	}
	out := make([]gemini.Candle, 0, len(cs))
	for _, c := range cs {
		// gemini.Candle encodes its decimals as the JSON numbers of the wire.
		out = append(out, gemini.Candle{Time: c.Start / 1e6,
			Open: units(c.Open, m.PriceDecimals), High: units(c.High, m.PriceDecimals),
			Low: units(c.Low, m.PriceDecimals), Close: units(c.Close, m.PriceDecimals),
			Volume: units(c.Volume, m.AmountDecimals),
		})
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

// mergeLatest puts the snapshot's latest candle in front of the store's
// (newest first). When both hold the same candle, the fuller one wins: a
// candle's volume only grows, and either source may be the fresher (the
// store commits before the snapshot is published).
func mergeLatest(cs []twinex.Candle, latest twinex.Candle) []twinex.Candle {
	if latest.Timeframe == "" {
		return cs // never traded
	}
	switch {
	case len(cs) == 0 || latest.Start > cs[0].Start:
		return append([]twinex.Candle{latest}, cs...)
	case latest.Start == cs[0].Start && latest.Volume > cs[0].Volume:
		cs[0] = latest
	}
	return cs
}

// pricefeedJSON is one entry of §2.9.
// fractionChange is marketdata's rule, which the dashboard shows too.
func fractionChange(last, open int64) string { return marketdata.FractionChange(last, open) }

func (s *Server) pricefeed(w http.ResponseWriter, r *http.Request) error {
	ms := s.Core.Markets()
	out := make([]gemini.Price, 0, len(ms.List))
	for i, m := range ms.List {
		st := s.Core.Snapshot(i).Stats
		open, _, _ := dayRange(st)
		out = append(out, gemini.Price{
			Pair: strings.ToUpper(m.Symbol), Price: price(m, st.Last),
			PercentChange24h: gemini.Decimal(fractionChange(st.Last, open)),
		})
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

// feepromos: Twinex runs no fee promotions (§2.10).
func (s *Server) feepromos(w http.ResponseWriter, r *http.Request) error {
	writeJSON(w, http.StatusOK, map[string][]string{"symbols": {}})
	return nil
}

package api

import (
	"context"
	"encoding/json"
	"net/http"
	"sort"
	"time"

	"github.com/twinex/twinex"
	"github.com/twinex/twinex/gemini"
)

func (s *Server) routeHistory() {
	const reader = twinex.RoleTrader | twinex.RoleAuditor
	s.private("/v1/orders/history", reader, accountScope, s.ordersHistory)
	s.private("/v1/tradevolume", reader, accountScope, s.tradeVolume)
	s.private("/v1/notionalvolume", reader, accountScope, s.notionalVolume)
}

// marketFilter reads an optional symbol field.
func (s *Server) marketFilter(p payload) (string, error) {
	sym, err := p.str("symbol")
	if err != nil || sym == "" {
		return "", err
	}
	m := s.Core.Markets().Market(sym)
	if m == nil {
		return "", twinex.Errorf(twinex.InvalidSymbol, "Supplied value %q is not a valid symbol", sym)
	}
	return m.Symbol, nil
}

func (s *Server) ordersHistory(w http.ResponseWriter, r *http.Request, c *signed) error {
	q := twinex.OrderQuery{AccountID: c.account.ID, ClosedOnly: true}
	var err error
	if q.Market, err = s.marketFilter(c.payload); err != nil {
		return err
	}
	if q.Limit, err = limitField(c.payload, "limit_orders", 50, 500); err != nil {
		return err
	}
	if q.After, err = sinceField(c.payload, "timestamp"); err != nil {
		return err
	}
	orders, err := s.Store.Orders(r.Context(), q)
	if err != nil {
		return err
	}
	out := []orderReply{}
	for _, o := range orders {
		m := s.Core.Markets().Market(o.Market)
		if m == nil {
			continue
		}
		v := orderObject(o, m)
		v.Trades = []gemini.MyTrade{}
		if o.Filled > 0 {
			list, err := s.Store.Trades(r.Context(), twinex.TradeQuery{OrderID: o.ID, Limit: 500})
			if err != nil {
				return err
			}
			v.Trades = s.myTradesJSON(list, c.account.ID)
		}
		out = append(out, v)
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

// volumeTrades returns the account's trades of the last 30 days.
func (s *Server) volumeTrades(r *http.Request, accountID int64, now time.Time) ([]twinex.Trade, error) {
	return s.Store.Trades(r.Context(), twinex.TradeQuery{AccountID: accountID, After: now.Add(-30 * 24 * time.Hour).UnixNano(), Limit: 10000})
}

// num renders units as an exact JSON number.
func num(v int64, scale int) json.Number { return json.Number(twinex.FormatUnits(v, scale)) }

// wideNum is num for a sum of notionals, which may pass an int64 of ledger
// units ($922M of USD).
func wideNum(v twinex.Int128, scale int) json.Number { return json.Number(v.FormatUnits(scale)) }

func (s *Server) tradeVolume(w http.ResponseWriter, r *http.Request, c *signed) error {
	trades, err := s.volumeTrades(r, c.account.ID, s.now())
	if err != nil {
		return err
	}
	type agg struct {
		m           *twinex.Market
		date        string
		base, count [2][2]int64 // [maker?][sell?]; base saturates (92 billion BTC)
		notional    [2][2]twinex.Int128
	}
	byKey := map[string]*agg{}
	for _, t := range trades {
		m := s.Core.Markets().Market(t.Market)
		if m == nil {
			continue
		}
		date := time.Unix(0, t.Time).UTC().Format("2006-01-02")
		a := byKey[date+" "+t.Market]
		if a == nil {
			a = &agg{m: m, date: date}
			byKey[date+" "+t.Market] = a
		}
		maker := 0
		side := t.TakerSide
		if t.MakerAccount == c.account.ID {
			maker, side = 1, t.TakerSide.Opposite()
		}
		sell := 0
		if side == twinex.Sell {
			sell = 1
		}
		a.base[maker][sell] = satAdd(a.base[maker][sell], t.Amount)
		a.notional[maker][sell] = a.notional[maker][sell].Add64(t.Notional)
		a.count[maker][sell]++
	}
	keys := make([]string, 0, len(byKey))
	for k := range byKey {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	days := [][]map[string]any{}
	var cur string
	for _, k := range keys {
		a := byKey[k]
		if a.date != cur {
			days = append(days, []map[string]any{})
			cur = a.date
		}
		ad, qs := a.m.AmountDecimals, a.m.QuoteScale()
		total := satAdd(satAdd(a.base[0][0], a.base[0][1]), satAdd(a.base[1][0], a.base[1][1]))
		ratio := json.Number("0")
		if makerTotal := satAdd(a.base[1][0], a.base[1][1]); makerTotal > 0 {
			ratio = json.Number(twinex.FormatQuotient(a.base[1][0], makerTotal, 0, 0, 4))
		}
		days[len(days)-1] = append(days[len(days)-1], map[string]any{
			"symbol": a.m.Symbol, "base_currency": a.m.Base, "notional_currency": a.m.Quote, "data_date": a.date,
			"total_volume_base": num(total, ad), "maker_buy_sell_ratio": ratio,
			"buy_maker_base": num(a.base[1][0], ad), "buy_maker_notional": wideNum(a.notional[1][0], qs), "buy_maker_count": a.count[1][0],
			"sell_maker_base": num(a.base[1][1], ad), "sell_maker_notional": wideNum(a.notional[1][1], qs), "sell_maker_count": a.count[1][1],
			"buy_taker_base": num(a.base[0][0], ad), "buy_taker_notional": wideNum(a.notional[0][0], qs), "buy_taker_count": a.count[0][0],
			"sell_taker_base": num(a.base[0][1], ad), "sell_taker_notional": wideNum(a.notional[0][1], qs), "sell_taker_count": a.count[0][1],
		})
	}
	writeJSON(w, http.StatusOK, days)
	return nil
}

// usdValue converts a notional in a market's quote currency to USD ledger
// units (scale 10) at the last price of QUOTEUSD, or reports false.
func (s *Server) usdValue(m *twinex.Market, notional int64) (int64, bool) {
	if m.Quote == "USD" {
		return notional, true
	}
	ms := s.Core.Markets()
	conv := ms.Market(m.Quote + "usd")
	if conv == nil {
		return 0, false
	}
	snap := s.Core.Snapshot(ms.Index(conv.Symbol))
	if snap == nil || snap.Stats.Last == 0 {
		return 0, false
	}
	// notional (quote units, scale q) * price (scale pd) -> USD at scale
	// q+pd; bring it to conv's quote scale. Fractions of the smallest unit
	// are dropped: this is a statistic, not money.
	e := m.QuoteScale() + conv.PriceDecimals - conv.QuoteScale()
	if e < 0 || e > twinex.MaxScale {
		return 0, false
	}
	return new(bigInt).mul(notional, snap.Stats.Last).div(twinex.Pow10(e)), true
}

func (s *Server) notionalVolume(w http.ResponseWriter, r *http.Request, c *signed) error {
	sym, err := s.marketFilter(c.payload)
	if err != nil {
		return err
	}
	now := s.now()
	trades, err := s.volumeTrades(r, c.account.ID, now)
	if err != nil {
		return err
	}
	fees, err := s.Core.FeeRates(context.WithoutCancel(r.Context()), c.account.ID)
	if err != nil {
		return coreError(err)
	}
	var total twinex.Int128 // 30 days of notionals outgrow an int64 of USD ledger units
	daily := map[string]twinex.Int128{}
	for _, t := range trades {
		m := s.Core.Markets().Market(t.Market)
		if m == nil || (sym != "" && t.Market != sym) {
			continue
		}
		if usd, ok := s.usdValue(m, t.Notional); ok {
			day := time.Unix(0, t.Time).UTC().Format("2006-01-02")
			total, daily[day] = total.Add64(usd), daily[day].Add64(usd)
		}
	}
	dates := make([]string, 0, len(daily))
	for d := range daily {
		dates = append(dates, d)
	}
	sort.Sort(sort.Reverse(sort.StringSlice(dates)))
	oneDay := []map[string]any{}
	for _, d := range dates {
		oneDay = append(oneDay, map[string]any{"date": d, "notional_volume": wideNum(daily[d], 10)})
	}
	writeJSON(w, http.StatusOK, map[string]any{
		"web_maker_fee_bps": fees.MakerBps, "web_taker_fee_bps": fees.TakerBps, "web_auction_fee_bps": fees.MakerBps,
		"api_maker_fee_bps": fees.MakerBps, "api_taker_fee_bps": fees.TakerBps, "api_auction_fee_bps": fees.MakerBps,
		"fix_maker_fee_bps": fees.MakerBps, "fix_taker_fee_bps": fees.TakerBps, "fix_auction_fee_bps": fees.MakerBps,
		"block_maker_fee_bps": 0, "block_taker_fee_bps": fees.TakerBps,
		"notional_30d_volume": wideNum(total, 10), "last_updated_ms": now.UnixMilli(),
		"date": now.UTC().Format("2006-01-02"), "notional_1d_volume": oneDay,
	})
	return nil
}

package api

import (
	"context"
	"net/http"
	"sort"
	"strconv"
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
func num(v int64, scale int) gemini.Number { return gemini.Number(twinex.FormatUnits(v, scale)) }

// wideNum is num for a sum of notionals, which may pass an int64 of ledger
// units ($922M of USD).
func wideNum(v twinex.Int128, scale int) gemini.Number { return gemini.Number(v.FormatUnits(scale)) }

// bps renders a fee rate in basis points as a JSON number.
func bps(v int64) gemini.Number { return gemini.Number(strconv.FormatInt(v, 10)) }

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
	days := [][]gemini.TradeVolume{}
	var cur string
	for _, k := range keys {
		a := byKey[k]
		if a.date != cur {
			days = append(days, []gemini.TradeVolume{})
			cur = a.date
		}
		ad, qs := a.m.AmountDecimals, a.m.QuoteScale()
		total := satAdd(satAdd(a.base[0][0], a.base[0][1]), satAdd(a.base[1][0], a.base[1][1]))
		ratio := gemini.Number("0")
		if makerTotal := satAdd(a.base[1][0], a.base[1][1]); makerTotal > 0 {
			ratio = gemini.Number(twinex.FormatQuotient(a.base[1][0], makerTotal, 0, 0, 4))
		}
		days[len(days)-1] = append(days[len(days)-1], gemini.TradeVolume{
			Symbol: a.m.Symbol, BaseCurrency: a.m.Base, NotionalCurrency: a.m.Quote, DataDate: a.date,
			TotalVolumeBase: num(total, ad), MakerBuySellRatio: ratio,
			BuyMakerBase: num(a.base[1][0], ad), BuyMakerNotional: wideNum(a.notional[1][0], qs), BuyMakerCount: a.count[1][0],
			SellMakerBase: num(a.base[1][1], ad), SellMakerNotional: wideNum(a.notional[1][1], qs), SellMakerCount: a.count[1][1],
			BuyTakerBase: num(a.base[0][0], ad), BuyTakerNotional: wideNum(a.notional[0][0], qs), BuyTakerCount: a.count[0][0],
			SellTakerBase: num(a.base[0][1], ad), SellTakerNotional: wideNum(a.notional[0][1], qs), SellTakerCount: a.count[0][1],
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
	oneDay := []gemini.DayNotional{}
	for _, d := range dates {
		oneDay = append(oneDay, gemini.DayNotional{Date: d, NotionalVolume: wideNum(daily[d], 10)})
	}
	writeJSON(w, http.StatusOK, gemini.NotionalVolume{
		WebMakerFeeBps: bps(fees.MakerBps), WebTakerFeeBps: bps(fees.TakerBps), WebAuctionFeeBps: bps(fees.MakerBps),
		APIMakerFeeBps: bps(fees.MakerBps), APITakerFeeBps: bps(fees.TakerBps), APIAuctionFeeBps: bps(fees.MakerBps),
		FIXMakerFeeBps: bps(fees.MakerBps), FIXTakerFeeBps: bps(fees.TakerBps), FIXAuctionFeeBps: bps(fees.MakerBps),
		BlockMakerFeeBps: bps(0), BlockTakerFeeBps: bps(fees.TakerBps),
		Notional30dVolume: wideNum(total, 10), LastUpdatedMs: now.UnixMilli(),
		Date: now.UTC().Format("2006-01-02"), Notional1dVolume: oneDay,
	})
	return nil
}

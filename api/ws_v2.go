package api

// Market data v2 (reference §6): subscribe and unsubscribe messages, l2
// and candle streams on one connection.

import (
	"context"
	"encoding/json"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/twinex/twinex"
	"github.com/twinex/twinex/feed"
)

// v2Proto is one v2 connection's subscriptions: which candle spellings it
// asked for, per market and timeframe (§6.5: the reply echoes the spelling).
type v2Proto struct {
	mu     sync.Mutex
	spells map[[2]int]map[string]bool
	any    bool // something was ever subscribed
}

func (s *Server) wsMarketV2(w http.ResponseWriter, r *http.Request) {
	c, ok := s.wsOpenPublic(w, r)
	if !ok {
		return
	}
	c.run(&v2Proto{spells: map[[2]int]map[string]bool{}})
}

// v2Request is a subscribe or unsubscribe message (§6.1).
type v2Request struct {
	Type          string `json:"type"`
	Subscriptions []struct {
		Name    string   `json:"name"`
		Symbols []string `json:"symbols"`
	} `json:"subscriptions"`
}

// v2Error renders an in-band error (§2.5). NoValidTradingPairs is sent as
// Gemini sends it, without a message.
func v2Error(reason, msg string) []byte {
	v := map[string]string{"result": "error", "reason": reason}
	if msg != "" {
		v["message"] = msg
	}
	b, _ := json.Marshal(v)
	return b
}

// maxV2Pairs bounds the (symbol, subscription) pairs of one v2 message:
// more than the markets times the streams a client could want.
const maxV2Pairs = 64

// onMessage handles subscribe and unsubscribe. A malformed message, an
// unknown type or subscription name, or a subscribe naming no valid pair
// while nothing is subscribed gets the error object and then a close
// (ccxt ignores in-band errors, §2.5). Unknown symbols among valid ones get
// NoValidTradingPairs and the valid ones are served (§6.4).
func (p *v2Proto) onMessage(c *wsConn, data []byte) {
	var req v2Request
	if err := json.Unmarshal(data, &req); err != nil {
		c.reply(v2Error("InvalidJson", "The message is not a valid subscribe or unsubscribe request"))
		c.requestClose(closePolicy, "invalid JSON")
		return
	}
	if req.Type != "subscribe" && req.Type != "unsubscribe" {
		c.reply(v2Error("InvalidJson", "type must be subscribe or unsubscribe"))
		c.requestClose(closePolicy, "unknown message type")
		return
	}
	ms := c.s.Core.Markets()
	// One message cannot ask for more than a connection could want: each
	// (market, stream) pair costs a snapshot or a candle history.
	pairs := 0
	for _, sub := range req.Subscriptions {
		pairs += len(sub.Symbols)
	}
	if pairs > maxV2Pairs {
		c.reply(v2Error("InvalidJson", "at most "+strconv.Itoa(maxV2Pairs)+" symbols in one message"))
		c.requestClose(closePolicy, "too many subscriptions in one message")
		return
	}
	seen := map[[3]string]bool{} // (symbol, name) asked twice in this message
	valid, invalid := 0, false
	for _, sub := range req.Subscriptions {
		st, known := parseV2Stream(sub.Name)
		if !known {
			c.reply(v2Error("InvalidJson", "unknown subscription "+strconv.Quote(sub.Name)))
			c.requestClose(closePolicy, "unknown subscription name")
			return
		}
		if st.bits == 0 { // a perpetuals' stream: Twinex lists no perpetuals, so no symbol is valid
			invalid = true
			continue
		}
		for _, sym := range sub.Symbols {
			i := ms.Index(strings.ReplaceAll(sym, "-", ""))
			if i < 0 {
				invalid = true
				continue
			}
			valid++
			if k := [3]string{ms.List[i].Symbol, sub.Name}; seen[k] {
				continue
			} else {
				seen[k] = true
			}
			if req.Type == "unsubscribe" {
				p.unsubscribe(c, i, st)
			} else if !p.subscribe(c, i, st) {
				return
			}
		}
	}
	if invalid {
		c.reply(v2Error("NoValidTradingPairs", ""))
		p.mu.Lock()
		any := p.any
		p.mu.Unlock()
		if valid == 0 && !any {
			c.requestClose(closePolicy, "NoValidTradingPairs")
		}
	}
}

// v2Stream is a v2 subscription's stream: its feed bits, and for candles
// the timeframe's index and the name's spelling (1h or 1hr).
type v2Stream struct {
	bits  uint16
	tf    int // -1 for l2
	spell string
}

// parseV2Stream reads a v2 subscription name; known is false for a name
// the reference does not list. A perpetuals' stream (mark_price,
// funding_amount) is known, with no bits.
func parseV2Stream(name string) (st v2Stream, known bool) {
	st.tf = -1
	switch {
	case name == "l2":
		st.bits = feed.Book | feed.Trades
	case strings.HasPrefix(name, "candles_"):
		st.spell = strings.TrimPrefix(name, "candles_")
		t, ok := twinex.ParseTimeframe(st.spell)
		if !ok {
			return st, false
		}
		for k, x := range twinex.Timeframes {
			if x.Name == t.Name {
				st.tf = k
			}
		}
		st.bits = feed.CandleBit(st.tf)
	case name == "mark_price" || name == "funding_amount":
	default:
		return st, false
	}
	return st, true
}

// unsubscribe ends the connection's stream st of market i; a candle stream
// still asked for under its other spelling stays.
func (p *v2Proto) unsubscribe(c *wsConn, i int, st v2Stream) {
	if st.tf >= 0 {
		p.mu.Lock()
		delete(p.spells[[2]int{i, st.tf}], st.spell)
		still := len(p.spells[[2]int{i, st.tf}]) > 0
		p.mu.Unlock()
		if still {
			return
		}
	}
	c.s.Feed.Unwatch(c.sub, i, st.bits)
}

// subscribe starts the connection's stream st of market i, with a candle
// stream's history read from the store; false when the connection was
// dropped meanwhile.
func (p *v2Proto) subscribe(c *wsConn, i int, st v2Stream) bool {
	var hist map[int][]twinex.Candle
	if st.tf >= 0 {
		k := [2]int{i, st.tf}
		p.mu.Lock()
		if p.spells[k] == nil {
			p.spells[k] = map[string]bool{}
		}
		already := len(p.spells[k]) > 0
		p.spells[k][st.spell] = true
		p.mu.Unlock()
		if already {
			return true // subscribed: its history was sent, and its updates flow
		}
		select {
		case <-c.sub.Done():
			return false // dropped meanwhile: no store read for nobody
		default:
		}
		ms := c.s.Core.Markets()
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		cs, err := c.s.Store.Candles(ctx, twinex.CandleQuery{Market: ms.List[i].Symbol, Timeframe: twinex.Timeframes[st.tf].Name, Limit: candleRows})
		cancel()
		if err != nil {
			c.s.Logger.Error("websocket candles", "err", err)
		}
		hist = map[int][]twinex.Candle{st.tf: cs}
	}
	c.s.Feed.Watch(c.sub, i, st.bits, hist)
	p.mu.Lock()
	p.any = true
	p.mu.Unlock()
	return true
}

func (p *v2Proto) heartbeat(c *wsConn, now time.Time) []byte {
	return append(strconv.AppendInt([]byte(`{"type":"heartbeat","timestamp":`), now.UnixMilli(), 10), '}')
}

func (p *v2Proto) render(c *wsConn, m *feed.Msg, out [][]byte) [][]byte {
	mk := c.s.Core.Markets().List[m.Market]
	switch m.Kind {
	case feed.KindSnapshot, feed.KindUpdate:
		return append(out, m.Encoded(slotV2L2, func() [][]byte { return v2L2(mk, m) })...)
	case feed.KindCandles:
		p.mu.Lock()
		spells := p.spells[[2]int{m.Market, m.TF}]
		var list []string
		for sp := range spells {
			list = append(list, sp)
		}
		p.mu.Unlock()
		for _, sp := range list {
			slot := slotV2Candle
			if sp != twinex.Timeframes[m.TF].Name {
				slot = slotV2Short
			}
			out = append(out, m.Encoded(slot, func() [][]byte { return [][]byte{v2Candles(mk, m, sp)} })...)
		}
	}
	return out
}

func appendV2Trade(b []byte, mk *twinex.Market, sym string, t twinex.Trade) []byte {
	b = append(b, `{"type":"trade","symbol":"`...)
	b = append(b, sym...)
	b = append(b, `","event_id":`...)
	b = strconv.AppendInt(b, t.ID, 10)
	b = append(b, `,"timestamp":`...)
	b = strconv.AppendInt(b, t.Time/1e6, 10)
	b = append(b, `,"price":"`...)
	b = append(b, mk.FormatPrice(t.Price)...)
	b = append(b, `","quantity":"`...)
	b = append(b, mk.FormatAmount(t.Amount)...)
	b = append(b, `","side":"`...)
	b = append(b, t.TakerSide.String()...)
	b = append(b, `","tid":`...)
	b = strconv.AppendInt(b, t.ID, 10)
	return append(b, '}')
}

func appendV2Change(b []byte, mk *twinex.Market, side string, price, amount int64) []byte {
	b = append(b, `["`...)
	b = append(b, side...)
	b = append(b, `","`...)
	b = append(b, mk.FormatPrice(price)...)
	b = append(b, `","`...)
	b = append(b, mk.FormatAmount(amount)...)
	return append(b, `"]`...)
}

// v2L2 renders a snapshot (changes, trades and auction_events: all three
// keys, §6.4) or an update (its trades as trade messages, then its changes
// as l2_updates with changes only).
func v2L2(mk *twinex.Market, m *feed.Msg) [][]byte {
	sym := strings.ToUpper(mk.Symbol)
	var frames [][]byte
	if m.Kind == feed.KindUpdate {
		for _, t := range m.Trades {
			frames = append(frames, appendV2Trade(nil, mk, sym, t))
		}
		if len(m.Changes) == 0 {
			return frames
		}
	}
	b := []byte(`{"type":"l2_updates","symbol":"`)
	b = append(b, sym...)
	b = append(b, `","changes":[`...)
	n := 0
	sep := func() {
		if n > 0 {
			b = append(b, ',')
		}
		n++
	}
	if m.Kind == feed.KindSnapshot {
		for _, l := range m.Bids {
			sep()
			b = appendV2Change(b, mk, "buy", l.Price, l.Amount)
		}
		for _, l := range m.Asks {
			sep()
			b = appendV2Change(b, mk, "sell", l.Price, l.Amount)
		}
		b = append(b, `],"trades":[`...)
		for k, t := range m.Trades {
			if k > 0 {
				b = append(b, ',')
			}
			b = appendV2Trade(b, mk, sym, t)
		}
		b = append(b, `],"auction_events":[]}`...)
		return append(frames, b)
	}
	for _, ch := range m.Changes {
		sep()
		side := "buy"
		if ch.Side == twinex.Sell {
			side = "sell"
		}
		b = appendV2Change(b, mk, side, ch.Price, ch.Amount)
	}
	b = append(b, "]}"...)
	return append(frames, b)
}

// v2Candles renders candle rows as JSON numbers, newest first (§6.5).
func v2Candles(mk *twinex.Market, m *feed.Msg, spell string) []byte {
	b := []byte(`{"type":"candles_`)
	b = append(b, spell...)
	b = append(b, `_updates","symbol":"`...)
	b = append(b, strings.ToUpper(mk.Symbol)...)
	b = append(b, `","changes":[`...)
	for k, cd := range m.Candles {
		if k > 0 {
			b = append(b, ',')
		}
		b = append(b, '[')
		b = strconv.AppendInt(b, cd.Start/1e6, 10)
		for _, v := range []int64{cd.Open, cd.High, cd.Low, cd.Close} {
			b = append(b, ',')
			b = append(b, twinex.FormatUnits(v, mk.PriceDecimals)...)
		}
		b = append(b, ',')
		b = append(b, twinex.FormatUnits(cd.Volume, mk.AmountDecimals)...)
		b = append(b, ']')
	}
	return append(b, "]}"...)
}

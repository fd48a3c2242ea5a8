package api

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/twinex/twinex"
	"github.com/twinex/twinex/core"
	"github.com/twinex/twinex/feed"
)

// Market data feeds: v1 one symbol (reference §4), multi-market (§5) and
// v2 (§6). Frames are built by hand with append: every value is a number
// or a decimal, side or symbol string that needs no escaping, and v2's
// frames are shared by every subscriber (feed.Msg.Encoded).

// Encoding slots of a feed.Msg (feed.Slots).
const (
	slotV2L2     = 0 // l2 snapshot or update and its trades
	slotV2Candle = 1 // candles_<tf>_updates with REST's spelling (1hr)
	slotV2Short  = 2 // candles_<tf>_updates with the docs' spelling (1h)
)

// ---- v1 and multi-market ----

// v1Flags are the query flags of §4.1.
type v1Flags struct {
	heartbeat, topOfBook, bids, offers, trades bool
}

// parseV1Flags reads the flags; an unnamed flag keeps its default (the
// current docs' reading, §4.1). A value that is not a boolean is refused.
func parseV1Flags(q url.Values) (v1Flags, error) {
	f := v1Flags{bids: true, offers: true, trades: true}
	for _, x := range []struct {
		name string
		dst  *bool
	}{{"heartbeat", &f.heartbeat}, {"top_of_book", &f.topOfBook}, {"bids", &f.bids}, {"offers", &f.offers}, {"trades", &f.trades}, {"auctions", new(bool)}} {
		v := q.Get(x.name)
		if v == "" {
			continue
		}
		b, err := strconv.ParseBool(strings.ToLower(v))
		if err != nil {
			return f, twinex.Errorf(twinex.InvalidJson, "Invalid %s %q: must be true or false", x.name, v)
		}
		*x.dst = b
	}
	return f, nil
}

// v1Proto renders v1 and multi-market messages. Each connection numbers
// its own messages (socket_sequence), so frames are rendered per
// connection.
type v1Proto struct {
	multi bool
	f     v1Flags
	top   map[int][2]core.Level // top of book last sent, per market
}

func (s *Server) wsMarketV1(w http.ResponseWriter, r *http.Request) {
	i := s.Core.Markets().Index(r.PathValue("symbol"))
	if i < 0 {
		s.wsRefuse(w, r, twinex.Errorf(twinex.InvalidSymbol, "Supplied value %q is not a valid symbol", r.PathValue("symbol")))
		return
	}
	s.wsMarketData(w, r, []int{i}, false)
}

func (s *Server) wsMultiMarket(w http.ResponseWriter, r *http.Request) {
	list := r.URL.Query().Get("symbols")
	if list == "" {
		s.wsRefuse(w, r, twinex.Errorf(twinex.InvalidJson, "symbols is required, e.g. symbols=btcusd,ethusd"))
		return
	}
	var idx []int
	seen := map[int]bool{}
	for _, sym := range strings.Split(list, ",") {
		i := s.Core.Markets().Index(strings.TrimSpace(sym))
		if i < 0 {
			s.wsRefuse(w, r, twinex.Errorf(twinex.InvalidSymbol, "Supplied value %q is not a valid symbol", sym))
			return
		}
		if !seen[i] {
			seen[i] = true
			idx = append(idx, i)
		}
	}
	s.wsMarketData(w, r, idx, true)
}

func (s *Server) wsMarketData(w http.ResponseWriter, r *http.Request, markets []int, multi bool) {
	f, err := parseV1Flags(r.URL.Query())
	if err != nil {
		s.wsRefuse(w, r, err)
		return
	}
	c, ok := s.wsOpenPublic(w, r)
	if !ok {
		return
	}
	var bits uint16
	if f.bids || f.offers {
		bits |= feed.Book
	}
	if f.trades {
		bits |= feed.Trades
	}
	if bits == 0 {
		bits = feed.Book // the snapshot still comes, with no events
	}
	// Snapshots are queued in the order the symbols were listed, before
	// the writer starts, so each is its symbol's first message.
	for _, i := range markets {
		s.Feed.Watch(c.sub, i, bits, nil)
	}
	c.run(&v1Proto{multi: multi, f: f, top: map[int][2]core.Level{}})
}

func (p *v1Proto) onMessage(c *wsConn, data []byte) {} // v1 clients send nothing

func (p *v1Proto) heartbeat(c *wsConn, now time.Time) []byte {
	if !p.f.heartbeat {
		return nil
	}
	b := append([]byte(`{"type":"heartbeat","socket_sequence":`), strconv.FormatInt(c.seq, 10)...)
	c.seq++
	return append(b, '}')
}

func (p *v1Proto) render(c *wsConn, m *feed.Msg, out [][]byte) [][]byte {
	e := &v1Events{p: p, mk: c.s.Core.Markets().List[m.Market]}
	initial := m.Kind == feed.KindSnapshot
	switch m.Kind {
	case feed.KindSnapshot:
		p.snapshotEvents(e, m)
	case feed.KindUpdate:
		p.updateEvents(e, m)
	default:
		return out
	}
	if !initial && len(e.list) == 0 {
		return out // nothing this connection wants: no message, no number
	}
	b := []byte(`{"type":"update","eventId":`)
	b = strconv.AppendInt(b, m.EventID, 10)
	if !initial {
		b = append(b, `,"timestamp":`...)
		b = strconv.AppendInt(b, m.Time/1e9, 10)
		b = append(b, `,"timestampms":`...)
		b = strconv.AppendInt(b, m.Time/1e6, 10)
	}
	b = append(b, `,"socket_sequence":`...)
	b = strconv.AppendInt(b, c.seq, 10)
	c.seq++
	b = append(b, `,"events":[`...)
	for k, ev := range e.list {
		if k > 0 {
			b = append(b, ',')
		}
		b = append(b, ev...)
	}
	b = append(b, "]}"...)
	return append(out, b)
}

// v1Events gathers the events of one v1 update message.
type v1Events struct {
	p    *v1Proto
	mk   *twinex.Market
	list [][]byte
}

// change adds a change event; withDelta adds its delta (not on a
// top-of-book stream).
func (e *v1Events) change(side string, price, remaining, delta int64, reason string, withDelta bool) {
	b := []byte(`{"type":"change","side":"`)
	b = append(b, side...)
	b = append(b, `","price":"`...)
	b = append(b, e.mk.FormatPrice(price)...)
	b = append(b, `","remaining":"`...)
	b = append(b, e.mk.FormatAmount(remaining)...)
	if withDelta {
		b = append(b, `","delta":"`...)
		b = append(b, e.mk.FormatAmount(delta)...)
	}
	b = append(b, `","reason":"`...)
	b = append(b, reason...)
	b = append(b, '"')
	e.list = append(e.list, e.p.symbol(b, e.mk))
}

// trade adds a trade event.
func (e *v1Events) trade(t twinex.Trade) {
	b := []byte(`{"type":"trade","tid":`)
	b = strconv.AppendInt(b, t.ID, 10)
	b = append(b, `,"price":"`...)
	b = append(b, e.mk.FormatPrice(t.Price)...)
	b = append(b, `","amount":"`...)
	b = append(b, e.mk.FormatAmount(t.Amount)...)
	b = append(b, `","makerSide":"`...)
	if t.TakerSide == twinex.Buy {
		b = append(b, "ask"...)
	} else {
		b = append(b, "bid"...)
	}
	b = append(b, '"')
	e.list = append(e.list, e.p.symbol(b, e.mk))
}

// wantSide reports whether the connection asked for sd's side.
func (p *v1Proto) wantSide(sd twinex.Side) bool {
	return (sd == twinex.Buy && p.f.bids) || (sd == twinex.Sell && p.f.offers)
}

// snapshotEvents adds the initial events of a book snapshot: every level
// of the sides asked for, or the top of book.
func (p *v1Proto) snapshotEvents(e *v1Events, m *feed.Msg) {
	if p.f.topOfBook {
		var t [2]core.Level
		if len(m.Bids) > 0 {
			t[0] = m.Bids[0]
		}
		if len(m.Asks) > 0 {
			t[1] = m.Asks[0]
		}
		p.top[m.Market] = t
		if t[0].Amount > 0 && p.f.bids {
			e.change("bid", t[0].Price, t[0].Amount, t[0].Amount, "initial", true)
		}
		if t[1].Amount > 0 && p.f.offers {
			e.change("ask", t[1].Price, t[1].Amount, t[1].Amount, "initial", true)
		}
		return
	}
	if p.f.bids {
		for _, l := range m.Bids {
			e.change("bid", l.Price, l.Amount, l.Amount, "initial", true)
		}
	}
	if p.f.offers {
		for _, l := range m.Asks {
			e.change("ask", l.Price, l.Amount, l.Amount, "initial", true)
		}
	}
}

// updateEvents adds the events of an update: its trades, then its changes
// (or the top of book's, which replace the level that left it).
func (p *v1Proto) updateEvents(e *v1Events, m *feed.Msg) {
	if p.f.trades {
		for _, t := range m.Trades {
			e.trade(t)
		}
	}
	if p.f.topOfBook {
		old := p.top[m.Market]
		for k, side := range []string{"bid", "ask"} {
			o, n := old[k], m.Top[k]
			if o == n || !p.wantSide(twinex.Side(k+1)) {
				continue
			}
			if o.Amount > 0 && o.Price != n.Price {
				e.change(side, o.Price, 0, 0, "top-of-book", false)
			}
			if n.Amount > 0 {
				e.change(side, n.Price, n.Amount, 0, "top-of-book", false)
			}
		}
		p.top[m.Market] = m.Top
		return
	}
	for _, ch := range m.Changes {
		if !p.wantSide(ch.Side) {
			continue
		}
		side := "bid"
		if ch.Side == twinex.Sell {
			side = "ask"
		}
		e.change(side, ch.Price, ch.Amount, ch.Delta, ch.Reason, true)
	}
}

// symbol closes an event object, adding the upper-case symbol on
// multi-market (§5.2).
func (p *v1Proto) symbol(b []byte, mk *twinex.Market) []byte {
	if p.multi {
		b = append(b, `,"symbol":"`...)
		b = append(b, strings.ToUpper(mk.Symbol)...)
		b = append(b, '"')
	}
	return append(b, '}')
}

// ---- v2 ----

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

// onMessage handles subscribe and unsubscribe. A malformed message, an
// unknown type or subscription name, or a subscribe naming no valid pair
// while nothing is subscribed gets the error object and then a close
// (ccxt ignores in-band errors, §2.5). Unknown symbols among valid ones get
// NoValidTradingPairs and the valid ones are served (§6.4).
// maxV2Pairs bounds the (symbol, subscription) pairs of one v2 message:
// more than the markets times the streams a client could want.
const maxV2Pairs = 64

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

package api

import (
	"net/http"
	"net/url"
	"strconv"
	"strings"
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

package api

import (
	"encoding/json"
	"net/http"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/twinex/twinex"
	"github.com/twinex/twinex/core"
	"github.com/twinex/twinex/feed"
	"github.com/twinex/twinex/gemini"
)

// The newer WebSocket API (reference gemini-websocket.md §9, Gemini's
// wss://ws.gemini.com), served as an upgrade of GET / on the same port:
// its public part only. Methods ping, time, conninfo, subscribe,
// unsubscribe, list_subscriptions (each also upper case) and depth;
// streams {symbol}@trade, @bookTicker, @depth and @depth5|10|20 (each also
// with @100ms, sent on every change rather than batched). The account
// streams and order.* methods, which need an authenticated upgrade, answer
// -1020 Unsupported operation.
//
// Update ids: every market update carries the hub's EventID; a @depth
// frame's U is the market's previous update id and u its own, so U equal
// to the last u seen means no gap (§9.4).

// fastLimits is what conninfo reports: Gemini's published figures (§2.6);
// Twinex counts none of them but the connection limits.
var fastLimits = json.RawMessage(`[{"rateLimitType":"REQUEST_WEIGHT","interval":"SECOND","intervalNum":10,"limit":7000,"count":0},` +
	`{"rateLimitType":"ORDERS","interval":"SECOND","intervalNum":10,"limit":3500,"count":0},` +
	`{"rateLimitType":"ORDERS","interval":"DAY","intervalNum":1,"limit":10000000,"count":0},` +
	`{"rateLimitType":"CONNECTION_ATTEMPTS","interval":"MINUTE","intervalNum":5,"limit":300,"count":0}]`)

// fastMarket is one market's streams on a connection and the connection's
// copy of its book (for @depthN and the @depth snapshot).
type fastMarket struct {
	trade, ticker, diff bool
	depthN              int // 0: no @depthN stream
	bids, asks          map[int64]int64
	top                 [2]core.Level
	lastID              int64
	ready               bool // the snapshot arrived
}

func (fm *fastMarket) none() bool { return !fm.trade && !fm.ticker && !fm.diff && fm.depthN == 0 }

// fastProto is one connection of the newer API.
type fastProto struct {
	snapshot int // the query's snapshot: 0 none, -1 the full book, N the top N levels

	mu      sync.Mutex
	streams map[string]bool
	markets map[int]*fastMarket
}

// wsFast upgrades GET / (with an Upgrade header) to the newer API.
func (s *Server) wsFast(w http.ResponseWriter, r *http.Request) {
	snap := 0
	if v := r.URL.Query().Get("snapshot"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < -1 {
			s.wsRefuse(w, r, twinex.Errorf(twinex.InvalidJson, "snapshot must be -1, 0 or a positive number of levels"))
			return
		}
		snap = n
	}
	c, ok := s.wsOpenPublic(w, r)
	if !ok {
		return
	}
	c.run(&fastProto{snapshot: snap, streams: map[string]bool{}, markets: map[int]*fastMarket{}})
}

// fastRequest is {"id":..., "method":..., "params":...}.
type fastRequest struct {
	ID     json.RawMessage `json:"id"`
	Method string          `json:"method"`
	Params json.RawMessage `json:"params"`
}

func fastReply(id json.RawMessage, result any) []byte {
	b, _ := json.Marshal(gemini.FastResponse{ID: id, Status: 200, Result: result})
	return b
}

func fastError(id json.RawMessage, code int, msg string) []byte {
	if id == nil {
		id = json.RawMessage("null")
	}
	b, _ := json.Marshal(gemini.FastResponse{ID: id, Status: 400, Error: &gemini.FastError{Code: code, Msg: msg}})
	return b
}

// fastStream is a parsed public stream name.
type fastStream struct {
	name   string // with the symbol in lower case
	market int
	kind   string // "trade", "bookTicker", "depth", "depthN"
	n      int
}

// parseFastStream reads "btcusd@trade", "btcusd@depth10@100ms", ...
func parseFastStream(ms *twinex.Markets, name string) (fastStream, bool) {
	sym, rest, ok := strings.Cut(name, "@")
	i := ms.Index(sym)
	if !ok || i < 0 {
		return fastStream{}, false
	}
	norm := strings.ToLower(sym) + "@" + rest
	rest = strings.TrimSuffix(rest, "@100ms")
	switch rest {
	case "trade", "bookTicker", "depth":
		return fastStream{name: norm, market: i, kind: rest}, true
	case "depth5", "depth10", "depth20":
		n, _ := strconv.Atoi(strings.TrimPrefix(rest, "depth"))
		return fastStream{name: norm, market: i, kind: "depthN", n: n}, true
	}
	return fastStream{}, false
}

func (p *fastProto) onMessage(c *wsConn, data []byte) {
	var req fastRequest
	if err := json.Unmarshal(data, &req); err != nil || req.Method == "" {
		c.reply(fastError(req.ID, -1013, "Invalid request"))
		return
	}
	switch strings.ToLower(req.Method) {
	case "ping":
		c.reply(fastReply(req.ID, nil))
	case "time":
		c.reply(fastReply(req.ID, gemini.FastTime{ServerTime: c.s.now().UnixMilli()}))
	case "conninfo":
		b, _ := json.Marshal(gemini.FastResponse{ID: req.ID, Status: 200, RateLimits: fastLimits})
		c.reply(b)
	case "list_subscriptions":
		p.mu.Lock()
		list := make([]string, 0, len(p.streams))
		for n := range p.streams {
			list = append(list, n)
		}
		p.mu.Unlock()
		sort.Strings(list)
		c.reply(fastReply(req.ID, list))
	case "subscribe", "unsubscribe":
		p.subscribe(c, req, strings.ToLower(req.Method) == "subscribe")
	case "depth":
		var q struct {
			Symbol string `json:"symbol"`
			Limit  int    `json:"limit"`
		}
		i := -1
		if json.Unmarshal(req.Params, &q) == nil {
			i = c.s.Core.Markets().Index(q.Symbol)
		}
		if i < 0 || q.Limit < 0 || q.Limit > 5000 {
			c.reply(fastError(req.ID, -1013, "Invalid parameters: symbol must be a market, limit 1 to 5000"))
			return
		}
		bids, asks, last := c.s.Feed.Book(i)
		limit := cmpOr(q.Limit, 100)
		mk := c.s.Core.Markets().List[i]
		c.reply(fastReply(req.ID, gemini.DepthSnapshot{LastUpdateID: last, Bids: fastLevels(mk, bids, limit), Asks: fastLevels(mk, asks, limit)}))
	default:
		c.reply(fastError(req.ID, -1020, "Unsupported operation"))
	}
}

func cmpOr(v, def int) int {
	if v == 0 {
		return def
	}
	return v
}

func fastLevels(mk *twinex.Market, ls []core.Level, n int) [][2]string {
	out := [][2]string{}
	for k, l := range ls {
		if n > 0 && k >= n {
			break
		}
		out = append(out, [2]string{mk.FormatPrice(l.Price), mk.FormatAmount(l.Amount)})
	}
	return out
}

// subscribe adds or removes streams. One invalid name refuses the whole
// request (§9.2).
func (p *fastProto) subscribe(c *wsConn, req fastRequest, add bool) {
	var names []string
	if err := json.Unmarshal(req.Params, &names); err != nil || len(names) == 0 {
		c.reply(fastError(req.ID, -1013, "params must be an array of stream names"))
		return
	}
	ms := c.s.Core.Markets()
	parsed := make([]fastStream, len(names))
	for k, n := range names {
		if strings.HasPrefix(n, "orders@") || strings.HasPrefix(n, "balances@") || strings.HasPrefix(n, "positions@") {
			c.reply(fastError(req.ID, -1020, "Unsupported operation: account streams need an authenticated connection, which Twinex does not serve on this API"))
			return
		}
		st, ok := parseFastStream(ms, n)
		if !ok {
			c.reply(fastError(req.ID, -1013, "Invalid stream name: "+n))
			return
		}
		parsed[k] = st
	}
	var watch, unwatch []int
	p.mu.Lock()
	for _, st := range parsed {
		fm := p.markets[st.market]
		if fm == nil {
			if !add {
				continue
			}
			fm = &fastMarket{}
			p.markets[st.market] = fm
		}
		was := !fm.none()
		on := add
		switch st.kind {
		case "trade":
			fm.trade = on
		case "bookTicker":
			fm.ticker = on
		case "depth":
			fm.diff = on
		}
		if add {
			p.streams[st.name] = true
		} else {
			delete(p.streams, st.name)
		}
		if st.kind == "depthN" {
			// The deepest of the market's depthN streams still listed.
			fm.depthN = 0
			for name := range p.streams {
				if o, ok := parseFastStream(ms, name); ok && o.kind == "depthN" && o.market == st.market {
					fm.depthN = max(fm.depthN, o.n)
				}
			}
		}
		switch {
		case add && !was:
			watch = append(watch, st.market)
		case !add && was && fm.none():
			unwatch = append(unwatch, st.market)
			delete(p.markets, st.market)
		}
	}
	p.mu.Unlock()
	for _, i := range slices.Compact(watch) {
		c.s.Feed.Watch(c.sub, i, feed.Book|feed.Trades, nil)
	}
	for _, i := range unwatch {
		c.s.Feed.Unwatch(c.sub, i, feed.Book|feed.Trades)
	}
	c.reply(fastReply(req.ID, nil))
}

func (p *fastProto) heartbeat(c *wsConn, now time.Time) []byte { return nil } // protocol pings only

func (p *fastProto) render(c *wsConn, m *feed.Msg, out [][]byte) [][]byte {
	p.mu.Lock()
	defer p.mu.Unlock()
	fm := p.markets[m.Market]
	if fm == nil {
		return out
	}
	mk := c.s.Core.Markets().List[m.Market]
	sym := mk.Symbol
	switch m.Kind {
	case feed.KindSnapshot:
		fm.bids, fm.asks = map[int64]int64{}, map[int64]int64{}
		for _, l := range m.Bids {
			fm.bids[l.Price] = l.Amount
		}
		for _, l := range m.Asks {
			fm.asks[l.Price] = l.Amount
		}
		fm.lastID, fm.ready = m.PrevEventID, true
		if fm.diff && p.snapshot != 0 {
			out = append(out, fastDepthUpdate(mk, m.Time, fm.lastID, fm.lastID, fastBook(mk, fm.bids, true, p.snapshot), fastBook(mk, fm.asks, false, p.snapshot)))
		}
		if fm.depthN > 0 {
			out = append(out, fastDepthN(mk, fm, fm.lastID))
		}
		var t [2]core.Level
		if len(m.Bids) > 0 {
			t[0] = m.Bids[0]
		}
		if len(m.Asks) > 0 {
			t[1] = m.Asks[0]
		}
		fm.top = t
		if fm.ticker {
			out = append(out, fastTicker(mk, m.Time, fm.lastID, t))
		}
	case feed.KindUpdate:
		if !fm.ready {
			return out
		}
		if fm.trade {
			for _, t := range m.Trades {
				b, _ := json.Marshal(gemini.FastTrade{Time: t.Time, Symbol: sym, TradeID: t.ID, Price: mk.FormatPrice(t.Price), Quantity: mk.FormatAmount(t.Amount), BuyerMaker: t.TakerSide == twinex.Sell})
				out = append(out, b)
			}
		}
		if len(m.Changes) == 0 {
			return out
		}
		var b, a [][2]string
		for _, ch := range m.Changes {
			book, list := fm.bids, &b
			if ch.Side == twinex.Sell {
				book, list = fm.asks, &a
			}
			if ch.Amount == 0 {
				delete(book, ch.Price)
			} else {
				book[ch.Price] = ch.Amount
			}
			*list = append(*list, [2]string{mk.FormatPrice(ch.Price), mk.FormatAmount(ch.Amount)})
		}
		if fm.diff {
			out = append(out, fastDepthUpdate(mk, m.Time, fm.lastID, m.EventID, orEmpty(b), orEmpty(a))) // U: the last update this client saw (a trade-only update sends none)
		}
		fm.lastID = m.EventID
		if fm.depthN > 0 {
			out = append(out, fastDepthN(mk, fm, m.EventID))
		}
		if fm.ticker && m.Top != fm.top {
			out = append(out, fastTicker(mk, m.Time, m.EventID, m.Top))
		}
		fm.top = m.Top
	}
	return out
}

func orEmpty(l [][2]string) [][2]string {
	if l == nil {
		return [][2]string{}
	}
	return l
}

// fastBook returns a side of a connection's book, best first, at most n
// levels (n <= 0: all).
func fastBook(mk *twinex.Market, side map[int64]int64, bids bool, n int) [][2]string {
	prices := make([]int64, 0, len(side))
	for p := range side {
		prices = append(prices, p)
	}
	sort.Slice(prices, func(i, j int) bool {
		if bids {
			return prices[i] > prices[j]
		}
		return prices[i] < prices[j]
	})
	if n > 0 && len(prices) > n {
		prices = prices[:n]
	}
	out := make([][2]string, 0, len(prices))
	for _, p := range prices {
		out = append(out, [2]string{mk.FormatPrice(p), mk.FormatAmount(side[p])})
	}
	return out
}

func fastDepthUpdate(mk *twinex.Market, t, first, last int64, b, a [][2]string) []byte {
	out, _ := json.Marshal(gemini.DepthUpdate{Event: "depthUpdate", Time: t, Symbol: mk.Symbol, First: first, Last: last, Bids: b, Asks: a})
	return out
}

func fastDepthN(mk *twinex.Market, fm *fastMarket, id int64) []byte {
	out, _ := json.Marshal(gemini.DepthSnapshot{LastUpdateID: id, Symbol: mk.Symbol,
		Bids: fastBook(mk, fm.bids, true, fm.depthN), Asks: fastBook(mk, fm.asks, false, fm.depthN)})
	return out
}

func fastTicker(mk *twinex.Market, t, id int64, top [2]core.Level) []byte {
	v := gemini.BookTicker{UpdateID: id, Time: t, Symbol: mk.Symbol}
	if top[0].Amount > 0 {
		v.Bid, v.BidQty = mk.FormatPrice(top[0].Price), mk.FormatAmount(top[0].Amount)
	}
	if top[1].Amount > 0 {
		v.Ask, v.AskQty = mk.FormatPrice(top[1].Price), mk.FormatAmount(top[1].Amount)
	}
	out, _ := json.Marshal(v)
	return out
}

package api

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/twinex/twinex"
	"github.com/twinex/twinex/core"
	"github.com/twinex/twinex/feed"
	"github.com/twinex/twinex/gemini"
)

// Order events (reference §7). The upgrade is authenticated by the REST
// path itself (authenticate: headers, signature, key state, allowlist via
// the TCP peer or a trusted proxy, nonce, roles), so every rule keeps its
// one home; the request in the payload is /v1/order/events.

// orderEventTypes are the values eventTypeFilter accepts.
var orderEventTypes = []string{"initial", "accepted", "rejected", "booked", "fill", "cancelled", "cancel_rejected", "closed"}

// orderFilters are the parsed filters of §7.1.
type orderFilters struct {
	Symbols    []string `json:"symbolFilter"`
	Sessions   []string `json:"apiSessionFilter"`
	EventTypes []string `json:"eventTypeFilter"`
	heartbeat  bool
}

func parseOrderFilters(s *Server, q map[string][]string) (orderFilters, error) {
	f := orderFilters{Symbols: []string{}, Sessions: []string{}, EventTypes: []string{}, heartbeat: true}
	for _, v := range q["symbolFilter"] {
		if v == "" {
			continue
		}
		m := s.Core.Markets().Market(strings.ToLower(v))
		if m == nil {
			return f, twinex.Errorf(twinex.InvalidSymbol, "symbolFilter %q is not a valid symbol", v)
		}
		f.Symbols = append(f.Symbols, m.Symbol)
	}
	for _, v := range q["apiSessionFilter"] {
		if v != "" {
			f.Sessions = append(f.Sessions, v)
		}
	}
	for _, v := range q["eventTypeFilter"] {
		if v == "" {
			continue
		}
		if !slices.Contains(orderEventTypes, v) {
			return f, twinex.Errorf(twinex.InvalidJson, "eventTypeFilter %q is not one of %s", v, strings.Join(orderEventTypes, ", "))
		}
		f.EventTypes = append(f.EventTypes, v)
	}
	if v := q["heartbeat"]; len(v) > 0 && v[0] != "" {
		b, err := strconv.ParseBool(strings.ToLower(v[0]))
		if err != nil {
			return f, twinex.Errorf(twinex.InvalidJson, "Invalid heartbeat %q: must be true or false", v[0])
		}
		f.heartbeat = b
	}
	return f, nil
}

func (f *orderFilters) wantType(t string) bool {
	return len(f.EventTypes) == 0 || slices.Contains(f.EventTypes, t)
}

func (f *orderFilters) wantOrder(o *twinex.Order) bool {
	return (len(f.Symbols) == 0 || slices.Contains(f.Symbols, o.Market)) &&
		(len(f.Sessions) == 0 || slices.Contains(f.Sessions, o.Session))
}

func (s *Server) wsOrderEvents(w http.ResponseWriter, r *http.Request) {
	at, start := s.now(), time.Now() // the record's stamp, and its latency on the monotonic clock
	c, err := s.authenticate(r, twinex.RoleTrader|twinex.RoleAuditor, groupScope)
	if err == nil {
		err = s.injectFault(w, r, c)
	}
	if err == nil {
		err = s.limit(w, s.PrivateLimit, c.key.ID)
	}
	var f orderFilters
	if err == nil {
		f, err = parseOrderFilters(s, r.URL.Query())
	}
	accounts, names := []int64{}, map[int64]string{}
	if err == nil {
		accounts, names, err = s.orderEventAccounts(r.Context(), c)
	}
	var release func()
	if err == nil {
		release, err = s.wsAdmit(c.ip, c.key.ID)
	}
	if err != nil {
		s.wsRefuse(w, r, err)
		s.recordAt(r, c, err, at, time.Since(start))
		return
	}
	ws, ok := s.wsOpen(w, r, c.key.ID, release)
	if !ok {
		return
	}
	ws.key, ws.entry, ws.account = c.key, c.entry, c.account.ID
	ws.b64, ws.sig = r.Header.Get("X-GEMINI-PAYLOAD"), r.Header.Get("X-GEMINI-SIGNATURE")
	s.recordWS(ws, "GET", "", time.Since(start))
	// Subscribe first, then read the open orders: events committed after
	// the read's mark are queued already, and those before it are skipped.
	s.Feed.WatchOrders(ws.sub, accounts)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	orders, mark, err := s.Core.OpenOrders(ctx, accounts)
	cancel()
	if err != nil {
		s.Logger.Error("order events: open orders", "err", err)
		ws.requestClose(closeGoingAway, "the exchange is unavailable")
	}
	trace := newTraceID()
	p := &orderProto{f: f, mark: mark, trace: trace, names: names, master: c.key.Master}
	acct := c.key.AccountID
	if c.account.ID != 0 {
		acct = c.account.ID
	}
	first := orderAck(acct, trace, f)
	p.first = [][]byte{first}
	if f.wantType("initial") {
		var evs []gemini.OrderEvent
		for _, o := range orders {
			if f.wantOrder(&o) {
				evs = append(evs, p.event(s, "initial", core.Event{Order: o}, 0, ""))
			}
		}
		p.first = append(p.first, p.array(ws, evs))
	}
	ws.run(p)
}

// orderEventAccounts returns the accounts a key's stream covers: an account
// key's own; a master key's whole group, or the one account its payload
// names (reference §3: recommended), with each account's name.
func (s *Server) orderEventAccounts(ctx context.Context, c *signed) ([]int64, map[int64]string, error) {
	if !c.key.Master {
		return []int64{c.key.AccountID}, nil, nil
	}
	if c.payload.has("account") {
		if err := s.scopeAccount(ctx, c, accountScope); err != nil {
			return nil, nil, err
		}
		return []int64{c.account.ID}, map[int64]string{c.account.ID: c.account.Nickname}, nil
	}
	list, err := s.Accounts.Accounts(ctx, c.key.UserID)
	if err != nil {
		return nil, nil, err
	}
	ids, names := []int64{}, map[int64]string{}
	for _, a := range list {
		ids = append(ids, a.ID)
		names[a.ID] = a.Nickname
	}
	return ids, names, nil
}

// noticeRejected sends order events for an order the engine refused: a
// rejected event whose order_id is its event id (the order was never
// created, so REST knows no id for it).
func (s *Server) noticeRejected(cmd core.Command, m *twinex.Market, reason string) {
	if s.Feed == nil {
		return
	}
	now := s.now().UnixNano()
	o := twinex.Order{AccountID: cmd.AccountID, Session: cmd.Session, ClientOrderID: cmd.ClientOrderID, Market: m.Symbol,
		Side: cmd.Side, Type: cmd.Type, Option: cmd.Option, Price: cmd.Price, StopPrice: cmd.StopPrice, Amount: cmd.Amount, Created: now, Updated: now}
	s.Feed.Notice(feed.OrderEvent{Event: core.Event{Order: o}, Type: "rejected", Reason: reason})
}

// noticeCancelRejected sends cancel_rejected for a cancel of an order of the
// account that is no longer open (reason OrderNotFound, the engine's).
func (s *Server) noticeCancelRejected(o twinex.Order) {
	if s.Feed != nil {
		s.Feed.Notice(feed.OrderEvent{Event: core.Event{Order: o}, Type: "cancel_rejected", Reason: twinex.OrderNotFound})
	}
}

// orderAck renders subscription_ack (§7.3): the subscription id ends with
// the trace id that heartbeats echo.
func orderAck(account int64, trace string, f orderFilters) []byte {
	b, _ := json.Marshal(gemini.OrderSubscriptionAck{Type: "subscription_ack", AccountID: account,
		SubscriptionID: "ws-order-events-" + strconv.FormatInt(account, 10) + "-" + trace,
		SymbolFilter:   f.Symbols, APISessionFilter: f.Sessions, EventTypeFilter: f.EventTypes})
	return b
}

func newTraceID() string {
	b := make([]byte, 10)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// orderProto renders one order-event connection.
type orderProto struct {
	f      orderFilters
	mark   core.Mark
	trace  string
	names  map[int64]string
	master bool
	first  [][]byte
	hb     int64 // heartbeat counter (writer only)
}

func (p *orderProto) onMessage(c *wsConn, data []byte) {} // clients send nothing

func (p *orderProto) opening(c *wsConn) [][]byte { return p.first }

func (p *orderProto) heartbeat(c *wsConn, now time.Time) []byte {
	if !p.f.heartbeat {
		return nil
	}
	b, _ := json.Marshal(gemini.OrderHeartbeat{Type: "heartbeat", Timestampms: now.UnixMilli(), Sequence: p.hb,
		TraceID: p.trace, SocketSequence: c.seq})
	p.hb++
	c.seq++
	return b
}

func (p *orderProto) render(c *wsConn, m *feed.Msg, out [][]byte) [][]byte {
	if m.Kind != feed.KindOrders {
		return out
	}
	var evs []gemini.OrderEvent
	for _, ev := range m.Events {
		if p.mark.Before(ev.Seq, ev.Index) {
			continue // already in the initial list
		}
		t := ev.TypeName()
		if !p.f.wantType(t) || !p.f.wantOrder(&ev.Order) {
			continue
		}
		evs = append(evs, p.event(c.s, t, ev.Event, ev.ID, ev.Reason))
	}
	if len(evs) == 0 {
		return out
	}
	return append(out, p.array(c, evs))
}

// array renders events as one JSON array sharing one socket_sequence
// (reference §7.2: recommended). An empty array takes no number.
func (p *orderProto) array(c *wsConn, evs []gemini.OrderEvent) []byte {
	if len(evs) == 0 {
		return []byte("[]")
	}
	for i := range evs {
		evs[i].SocketSequence = c.seq
	}
	c.seq++
	b, _ := json.Marshal(evs)
	return b
}

// event renders one order event: the REST order object (orderObject, so ids,
// amounts, prices and times agree with /v1/order/status) reshaped to §7.5.
// reason is the refusal of a rejected or cancel_rejected event.
func (p *orderProto) event(s *Server, typ string, ev core.Event, id int64, reason string) gemini.OrderEvent {
	o := ev.Order
	mk := s.Core.Markets().Market(o.Market)
	r := orderObject(o, mk)
	e := gemini.OrderEvent{
		APISession: o.Session, AvgExecutionPrice: r.AvgExecutionPrice, ClientOrderID: r.ClientOrderID,
		ExecutedAmount: r.ExecutedAmount, IsCancelled: r.IsCancelled, IsHidden: r.IsHidden, IsLive: r.IsLive,
		OrderID: r.OrderID, OrderType: r.Type, OriginalAmount: r.OriginalAmount, Price: r.Price,
		RemainingAmount: r.RemainingAmount, Side: r.Side, StopPrice: r.StopPrice, Symbol: r.Symbol,
		Timestamp: strconv.FormatInt(r.Timestamp, 10), Timestampms: r.Timestampms, Type: typ,
	}
	switch typ {
	case "cancelled":
		e.Reason = r.Reason
	case "rejected":
		// The order was never created: its id is the event's, and it has
		// no amounts executed or remaining.
		e.Reason, e.IsLive = reason, false
		e.AvgExecutionPrice, e.ExecutedAmount, e.RemainingAmount = "", "", ""
	case "cancel_rejected":
		e.Reason = reason
	}
	if o.Option != twinex.NoOption {
		e.Behavior = o.Option.String()
	}
	if id != 0 {
		e.EventID = strconv.FormatInt(id, 10)
	}
	if typ == "rejected" {
		e.OrderID = e.EventID
	}
	if p.master {
		e.AccountName = p.names[o.AccountID]
	}
	if typ == "fill" {
		liq := "Taker"
		if ev.Fill.Maker {
			liq = "Maker"
		}
		e.Fill = &gemini.OrderFill{TradeID: strconv.FormatInt(ev.Fill.TradeID, 10), Liquidity: liq,
			Price: gemini.Decimal(mk.FormatPrice(ev.Fill.Price)), Amount: gemini.Decimal(mk.FormatAmount(ev.Fill.Amount)),
			Fee: gemini.Decimal(twinex.FormatUnits(ev.Fill.Fee, mk.QuoteScale())), FeeCurrency: mk.Quote}
	}
	return e
}

package api

import (
	"bytes"
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/twinex/twinex"
	"github.com/twinex/twinex/core"
	"github.com/twinex/twinex/engine"
	"github.com/twinex/twinex/feed"
	"github.com/twinex/twinex/gemini"
	"github.com/twinex/twinex/sqlite"
)

// TestWebSocketGolden pins every frame type of the feeds (field names,
// strings versus numbers, key sets), rendered from fixed hub messages so
// that the files need no clock or socket.
func TestWebSocketGolden(t *testing.T) {
	db, err := sqlite.Open(t.TempDir() + "/twinex.db")
	if err != nil {
		t.Fatal(err)
	}
	c, err := core.Open(context.Background(), core.Config{Store: db, Markets: twinex.DefaultMarkets()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { checkLedger(t, c); c.Close(); db.Close() })
	s := &Server{Core: c}
	conn := func() *wsConn { return &wsConn{s: s} }
	btc := c.Markets().Index("btcusd")
	const ns = int64(1764633600123456789) // 2025-12-02T00:00:00.123Z
	trade := twinex.Trade{ID: 41, Market: "btcusd", Price: 3000000, Amount: 20000000, TakerSide: twinex.Buy, Time: ns}
	snap := &feed.Msg{Kind: feed.KindSnapshot, Market: btc, Time: ns, EventID: 1764633600123001,
		Bids: []engine.Level{{Price: 2999900, Amount: 50000000}, {Price: 2999800, Amount: 100000000}},
		Asks: []engine.Level{{Price: 3000000, Amount: 30000000}}, Trades: []twinex.Trade{trade}}
	update := &feed.Msg{Kind: feed.KindUpdate, Market: btc, Time: ns, EventID: 1764633600123002, Trades: []twinex.Trade{trade},
		Changes: []feed.Change{{Side: twinex.Sell, Price: 3000000, Amount: 10000000, Delta: -20000000, Reason: "trade"},
			{Side: twinex.Buy, Price: 2999950, Amount: 1000000, Delta: 1000000, Reason: "place"}},
		Top: [2]engine.Level{{Price: 2999950, Amount: 1000000}, {Price: 3000000, Amount: 10000000}}}
	candle := twinex.Candle{Market: "btcusd", Timeframe: "1hr", Start: 1764633600000000000, Open: 2999900, High: 3000000, Low: 2999800, Close: 3000000, Volume: 20000000}
	candles := &feed.Msg{Kind: feed.KindCandles, Market: btc, TF: 4, Candles: []twinex.Candle{candle,
		{Market: "btcusd", Timeframe: "1hr", Start: 1764630000000000000, Open: 2999000, High: 2999500, Low: 2998000, Close: 2999900, Volume: 150000000}}}
	at := time.Unix(0, ns)

	frames := map[string][]byte{}
	one := func(name string, fs [][]byte) {
		t.Helper()
		if len(fs) == 0 {
			t.Fatalf("%s: no frame", name)
		}
		frames[name] = bytes.Join(fs, []byte("\n"))
	}

	v2 := &v2Proto{spells: map[[2]int]map[string]bool{{btc, 4}: {"1hr": true}}}
	one("v2_l2_snapshot", v2.render(conn(), snap, nil))
	one("v2_trade_and_l2_update", v2.render(conn(), update, nil))
	one("v2_candles_1hr", v2.render(conn(), candles, nil))
	v2short := &v2Proto{spells: map[[2]int]map[string]bool{{btc, 4}: {"1h": true}}}
	one("v2_candles_1h", v2short.render(conn(), candles, nil))
	one("v2_heartbeat", [][]byte{v2.heartbeat(conn(), at)})
	one("v2_error_no_valid_pairs", [][]byte{v2Error("NoValidTradingPairs", "")})

	all := v1Flags{heartbeat: true, bids: true, offers: true, trades: true}
	v1c := conn()
	v1 := &v1Proto{f: all, top: map[int][2]engine.Level{}}
	one("v1_snapshot", v1.render(v1c, snap, nil))
	one("v1_trade_and_changes", v1.render(v1c, update, nil))
	one("v1_heartbeat", [][]byte{v1.heartbeat(v1c, at)})
	mc := conn()
	multi := &v1Proto{multi: true, f: all, top: map[int][2]engine.Level{}}
	one("multimarket_snapshot", multi.render(mc, snap, nil))
	one("multimarket_update", multi.render(mc, update, nil))
	tc := conn()
	tob := &v1Proto{multi: true, f: v1Flags{heartbeat: true, topOfBook: true, bids: true, offers: true}, top: map[int][2]engine.Level{}}
	one("multimarket_top_of_book_snapshot", tob.render(tc, snap, nil))
	one("multimarket_top_of_book_update", tob.render(tc, update, nil))

	order := twinex.Order{ID: 7, ClientOrderID: "bot-1", AccountID: 100, Session: "account-AAAAAAAAAAAAAAAAAAAA", Market: "btcusd",
		Side: twinex.Sell, Type: twinex.Limit, Price: 3000000, Amount: 30000000, Status: twinex.StatusLive, Created: ns, Updated: ns}
	filled := order
	filled.Filled, filled.FilledNotional, filled.Fees = 20000000, 60000000000000, 150000000000
	closed := filled
	closed.Status = twinex.StatusCancelled
	closed.CancelReason = twinex.ReasonRequested
	ioc := order
	ioc.Option, ioc.Status, ioc.CancelReason = twinex.ImmediateOrCancel, twinex.StatusCancelled, twinex.ReasonImmediateOrCancelWouldPost
	oc := conn()
	op := &orderProto{trace: "b8bk32clqeb13g9tk8p0", f: orderFilters{heartbeat: true}}
	one("order_subscription_ack", [][]byte{orderAck(100, op.trace, orderFilters{Symbols: []string{"btcusd"}, Sessions: []string{}, EventTypes: []string{"fill", "closed"}})})
	one("order_initial_empty", [][]byte{op.array(oc, nil)})
	one("order_initial", [][]byte{op.array(oc, []gemini.OrderEvent{op.event(s, "initial", engine.Event{Order: order}, 0, "")})})
	events := func(evs ...feed.OrderEvent) *feed.Msg {
		return &feed.Msg{Kind: feed.KindOrders, Account: 100, Events: evs}
	}
	one("order_accepted_booked", op.render(oc, events(
		feed.OrderEvent{Event: engine.Event{Kind: engine.EventAccepted, Order: order}, Seq: 1, ID: 1764633600123010},
		feed.OrderEvent{Event: engine.Event{Kind: engine.EventBooked, Order: order}, Seq: 1, Index: 1, ID: 1764633600123011}), nil))
	one("order_fill", op.render(oc, events(feed.OrderEvent{Event: engine.Event{Kind: engine.EventFill, Order: filled,
		Fill: engine.Fill{TradeID: 41, Price: 3000000, Amount: 20000000, Fee: 150000000000, Maker: true}}, Seq: 2, ID: 1764633600123012}), nil))
	one("order_cancelled_closed", op.render(oc, events(
		feed.OrderEvent{Event: engine.Event{Kind: engine.EventCancelled, Order: closed}, Seq: 3, ID: 1764633600123013},
		feed.OrderEvent{Event: engine.Event{Kind: engine.EventClosed, Order: closed}, Seq: 3, Index: 1, ID: 1764633600123014}), nil))
	one("order_ioc_cancelled", op.render(oc, events(feed.OrderEvent{Event: engine.Event{Kind: engine.EventCancelled, Order: ioc}, Seq: 4, ID: 1764633600123015}), nil))
	rejected := order
	rejected.ID, rejected.Status = 0, 0
	one("order_rejected", op.render(oc, events(feed.OrderEvent{Event: engine.Event{Order: rejected}, Type: "rejected", Reason: twinex.InsufficientFunds, Seq: ^uint64(0), ID: 1764633600123016}), nil))
	one("order_cancel_rejected", op.render(oc, events(feed.OrderEvent{Event: engine.Event{Order: closed}, Type: "cancel_rejected", Reason: twinex.OrderNotFound, Seq: ^uint64(0), ID: 1764633600123017}), nil))
	one("order_heartbeat", [][]byte{op.heartbeat(oc, at)})

	fp := &fastProto{snapshot: -1, streams: map[string]bool{}, markets: map[int]*fastMarket{btc: {trade: true, ticker: true, diff: true, depthN: 5}}}
	snap.PrevEventID, update.PrevEventID = 1764633600122999, 1764633600122999
	one("fast_snapshot_depth_depth5_bookticker", fp.render(conn(), snap, nil))
	one("fast_trade_depthupdate_depth5_bookticker", fp.render(conn(), update, nil))
	one("fast_reply", [][]byte{fastReply(json.RawMessage(`1`), nil)})
	one("fast_error", [][]byte{fastError(json.RawMessage(`"a"`), -1013, "Invalid stream name: nosuch@depth")})

	for name, b := range frames {
		golden(t, "ws_"+name, append(b, '\n'))
	}
}

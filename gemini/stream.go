package gemini

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/gorilla/websocket"
)

// Streaming: market data v2 (/v2/marketdata) and order events
// (/v1/order/events), typed, with reconnection. Each stream calls fn with
// every message, in order, on one goroutine; after a reconnection the
// stream starts again with a snapshot (an l2 Snapshot, or subscription_ack
// and initial), so a consumer that resets its state on a snapshot never
// sees a gap. fn returning an error ends the stream with it.

// Subscription is one v2 subscription: Name is "l2" or "candles_<tf>"
// (1m 5m 15m 30m 1h 6h 1d, or 1hr 6hr 1day), Symbols upper case.
type Subscription struct {
	Name    string   `json:"name"`
	Symbols []string `json:"symbols"`
}

// L2Change is one level of an l2 message: Side "buy" (bids) or "sell"
// (asks), and the level's new Quantity ("0" removes it).
type L2Change struct {
	Side     string
	Price    Decimal
	Quantity Decimal
}

// UnmarshalJSON reads the ["buy","9122.04","0.00121425"] form.
func (c *L2Change) UnmarshalJSON(b []byte) error {
	var a [3]string
	if err := json.Unmarshal(b, &a); err != nil {
		return err
	}
	c.Side, c.Price, c.Quantity = a[0], Decimal(a[1]), Decimal(a[2])
	return nil
}

// StreamTrade is a v2 trade: Side is the taker's.
type StreamTrade struct {
	Type      string  `json:"type"`
	Symbol    string  `json:"symbol"`
	EventID   int64   `json:"event_id"`
	Timestamp int64   `json:"timestamp"` // ms
	Price     Decimal `json:"price"`
	Quantity  Decimal `json:"quantity"`
	Side      string  `json:"side"`
	TID       int64   `json:"tid"`
}

// CandleRow is one v2 candle: time (ms), open, high, low, close, volume.
type CandleRow [6]json.Number

// MarketMessage is one v2 message. Type is "l2_updates", "trade",
// "candles_<tf>_updates", "heartbeat", or "error" (Reason set).
type MarketMessage struct {
	Type      string
	Symbol    string
	Snapshot  bool          // an l2 snapshot: replace the book with Changes
	Changes   []L2Change    // l2
	Trades    []StreamTrade // l2 snapshot: recent trades, newest first
	Trade     *StreamTrade  // trade
	Candles   []CandleRow   // candles, newest first
	Timestamp int64         // heartbeat, ms
	Reason    string        // error
	Raw       json.RawMessage
}

func parseMarketMessage(data []byte) (MarketMessage, error) {
	var v struct {
		Type          string          `json:"type"`
		Symbol        string          `json:"symbol"`
		Changes       json.RawMessage `json:"changes"`
		Trades        []StreamTrade   `json:"trades"`
		AuctionEvents json.RawMessage `json:"auction_events"`
		Timestamp     int64           `json:"timestamp"`
		Result        string          `json:"result"`
		Reason        string          `json:"reason"`
	}
	if err := json.Unmarshal(data, &v); err != nil {
		return MarketMessage{}, fmt.Errorf("gemini: market data message: %w", err)
	}
	m := MarketMessage{Type: v.Type, Symbol: v.Symbol, Timestamp: v.Timestamp, Raw: append(json.RawMessage(nil), data...)}
	switch {
	case v.Result == "error":
		m.Type, m.Reason = "error", v.Reason
	case v.Type == "l2_updates":
		m.Snapshot = v.AuctionEvents != nil && v.Trades != nil
		m.Trades = v.Trades
		if err := json.Unmarshal(v.Changes, &m.Changes); err != nil {
			return m, fmt.Errorf("gemini: l2 changes: %w", err)
		}
	case v.Type == "trade":
		var t StreamTrade
		if err := json.Unmarshal(data, &t); err != nil {
			return m, fmt.Errorf("gemini: trade: %w", err)
		}
		m.Trade = &t
	case strings.HasPrefix(v.Type, "candles_"):
		dec := json.NewDecoder(strings.NewReader(string(v.Changes)))
		dec.UseNumber()
		if err := dec.Decode(&m.Candles); err != nil {
			return m, fmt.Errorf("gemini: candles: %w", err)
		}
	}
	return m, nil
}

// wsURL turns the client's base URL into the WebSocket URL of path.
func (c *Client) wsURL(path string, q url.Values) string {
	u := c.baseURL
	switch {
	case strings.HasPrefix(u, "https://"):
		u = "wss://" + strings.TrimPrefix(u, "https://")
	case strings.HasPrefix(u, "http://"):
		u = "ws://" + strings.TrimPrefix(u, "http://")
	}
	u += path
	if len(q) > 0 {
		u += "?" + q.Encode()
	}
	return u
}

// StreamMarketData subscribes to v2 market data and calls fn with every
// message until ctx ends or fn returns an error. A dropped connection is
// reconnected (after 0.5 s, doubling to at most 30 s) and resubscribed; the
// first messages after it are fresh snapshots. An upgrade the server
// refuses with a 4xx status ends the stream with that error.
func (c *Client) StreamMarketData(ctx context.Context, subs []Subscription, fn func(MarketMessage) error) error {
	sub, err := json.Marshal(map[string]any{"type": "subscribe", "subscriptions": subs})
	if err != nil {
		return err
	}
	return c.stream(ctx, "/v2/marketdata", nil, false, sub, func(data []byte) error {
		m, err := parseMarketMessage(data)
		if err != nil {
			return err
		}
		return fn(m)
	})
}

// OrderEvent is one order event (reference gemini-websocket.md §7.5).
// Fields are in the order of their JSON names, the order Twinex sends
// them in; those marked omitempty are absent from some event types
// (rejected events have no amounts, only fills a fill, only a master
// key's stream an account name).
type OrderEvent struct {
	AccountName       string     `json:"account_name,omitempty"`
	APISession        string     `json:"api_session"`
	AvgExecutionPrice Decimal    `json:"avg_execution_price,omitempty"`
	Behavior          string     `json:"behavior,omitempty"`
	ClientOrderID     string     `json:"client_order_id,omitempty"`
	EventID           string     `json:"event_id,omitempty"`
	ExecutedAmount    Decimal    `json:"executed_amount,omitempty"`
	Fill              *OrderFill `json:"fill,omitempty"`
	IsCancelled       bool       `json:"is_cancelled"`
	IsHidden          bool       `json:"is_hidden"`
	IsLive            bool       `json:"is_live"`
	OrderID           string     `json:"order_id"`
	OrderType         string     `json:"order_type"`
	OriginalAmount    Decimal    `json:"original_amount"`
	Price             Decimal    `json:"price"`
	Reason            string     `json:"reason,omitempty"`
	RemainingAmount   Decimal    `json:"remaining_amount,omitempty"`
	Side              string     `json:"side"`
	SocketSequence    int64      `json:"socket_sequence"`
	StopPrice         Decimal    `json:"stop_price,omitempty"`
	Symbol            string     `json:"symbol"`
	Timestamp         string     `json:"timestamp"`
	Timestampms       int64      `json:"timestampms"`
	Type              string     `json:"type"`
}

// OrderFill is the fill of a "fill" event.
type OrderFill struct {
	Amount      Decimal `json:"amount"`
	Fee         Decimal `json:"fee"`
	FeeCurrency string  `json:"fee_currency"`
	Liquidity   string  `json:"liquidity"` // Maker or Taker
	Price       Decimal `json:"price"`
	TradeID     string  `json:"trade_id"`
}

// OrderSubscriptionAck is the first message of an order-events stream
// (§7.3): the subscription and the filters in force (empty: all).
type OrderSubscriptionAck struct {
	AccountID        int64    `json:"accountId"`
	APISessionFilter []string `json:"apiSessionFilter"`
	EventTypeFilter  []string `json:"eventTypeFilter"`
	SubscriptionID   string   `json:"subscriptionId"` // ends with the trace id heartbeats echo
	SymbolFilter     []string `json:"symbolFilter"`
	Type             string   `json:"type"` // subscription_ack
}

// OrderHeartbeat is an order-events heartbeat (§7.4), every 5 seconds.
type OrderHeartbeat struct {
	Sequence       int64  `json:"sequence"` // heartbeats sent on this stream before this one
	SocketSequence int64  `json:"socket_sequence"`
	Timestampms    int64  `json:"timestampms"`
	TraceID        string `json:"trace_id"`
	Type           string `json:"type"` // heartbeat
}

// OrderMessage is one order-events message: Kind "subscription_ack",
// "heartbeat", "initial" (the open orders when the stream (re)started:
// replace what you knew) or "events".
type OrderMessage struct {
	Kind   string
	Events []OrderEvent
	Raw    json.RawMessage
}

// OrderEventsOptions are the order-events filters; empty means all.
type OrderEventsOptions struct {
	Symbols    []string // symbolFilter, e.g. "btcusd"
	Sessions   []string // apiSessionFilter: API keys, or "UI"
	EventTypes []string // eventTypeFilter: initial accepted rejected booked fill cancelled cancel_rejected closed
}

// StreamOrderEvents opens the order-events stream of the client's key
// (signed like a REST call, with a fresh nonce on every reconnection) and
// calls fn with every message until ctx ends or fn returns an error.
func (c *Client) StreamOrderEvents(ctx context.Context, opts OrderEventsOptions, fn func(OrderMessage) error) error {
	q := url.Values{}
	for _, v := range opts.Symbols {
		q.Add("symbolFilter", v)
	}
	for _, v := range opts.Sessions {
		q.Add("apiSessionFilter", v)
	}
	for _, v := range opts.EventTypes {
		q.Add("eventTypeFilter", v)
	}
	acked := false
	return c.stream(ctx, "/v1/order/events", q, true, nil, func(data []byte) error {
		m := OrderMessage{Raw: append(json.RawMessage(nil), data...)}
		if len(data) > 0 && data[0] == '[' {
			if err := json.Unmarshal(data, &m.Events); err != nil {
				return fmt.Errorf("gemini: order events: %w", err)
			}
			m.Kind = "events"
			if acked && (len(m.Events) == 0 || m.Events[0].Type == "initial") {
				m.Kind = "initial"
			}
			acked = false
			return fn(m)
		}
		var v struct {
			Type string `json:"type"`
		}
		if err := json.Unmarshal(data, &v); err != nil {
			return fmt.Errorf("gemini: order events: %w", err)
		}
		m.Kind = v.Type
		acked = v.Type == "subscription_ack" && (len(opts.EventTypes) == 0 || contains(opts.EventTypes, "initial"))
		return fn(m)
	})
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

// HandshakeError is an upgrade the server refused.
type HandshakeError struct {
	Status int
	Body   string
}

func (e *HandshakeError) Error() string {
	return fmt.Sprintf("gemini: WebSocket upgrade refused: %d %s", e.Status, e.Body)
}

// stream runs one reconnecting WebSocket: it dials (signing the upgrade
// when signed), sends first if set, and hands every message to handle.
func (c *Client) stream(ctx context.Context, path string, q url.Values, signed bool, first []byte, handle func([]byte) error) error {
	backoff := 500 * time.Millisecond
	for {
		var h http.Header
		if signed {
			var err error
			if h, err = c.SignedHeader(path, nil); err != nil {
				return err
			}
		}
		conn, resp, err := websocket.DefaultDialer.DialContext(ctx, c.wsURL(path, q), h)
		if err != nil {
			if ctx.Err() != nil {
				return ctx.Err()
			}
			if resp != nil && resp.StatusCode >= 400 && resp.StatusCode < 500 && resp.StatusCode != http.StatusTooManyRequests {
				var b strings.Builder
				if resp.Body != nil {
					buf := make([]byte, 512)
					n, _ := resp.Body.Read(buf)
					b.Write(buf[:n])
				}
				// A nonce another client of the key used first is worth
				// a retry with a fresh one; other refusals are final.
				if !strings.Contains(b.String(), `"InvalidNonce"`) {
					return &HandshakeError{Status: resp.StatusCode, Body: strings.TrimSpace(b.String())}
				}
			}
		} else {
			backoff = 500 * time.Millisecond
			err = c.readLoop(ctx, conn, first, handle)
			var stop *stopError
			if errors.As(err, &stop) {
				return stop.err
			}
			if ctx.Err() != nil {
				return ctx.Err()
			}
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(backoff):
		}
		backoff = min(2*backoff, 30*time.Second)
	}
}

// stopError carries fn's error out of the reconnect loop.
type stopError struct{ err error }

func (e *stopError) Error() string { return e.err.Error() }

func (c *Client) readLoop(ctx context.Context, conn *websocket.Conn, first []byte, handle func([]byte) error) error {
	defer conn.Close()
	stop := context.AfterFunc(ctx, func() { conn.Close() })
	defer stop()
	if first != nil {
		if err := conn.WriteMessage(websocket.TextMessage, first); err != nil {
			return err
		}
	}
	for {
		_, data, err := conn.ReadMessage()
		if err != nil {
			return err
		}
		if err := handle(data); err != nil {
			return &stopError{err}
		}
	}
}

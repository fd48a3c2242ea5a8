package gemini

import (
	"context"
	"errors"
	"strconv"
	"time"
)

// Order sides, types and execution options of NewOrderRequest.
const (
	SideBuy  = "buy"
	SideSell = "sell"

	OrderTypeExchangeLimit     = "exchange limit"
	OrderTypeExchangeStopLimit = "exchange stop limit"

	OptionMakerOrCancel        = "maker-or-cancel"
	OptionImmediateOrCancel    = "immediate-or-cancel"
	OptionFillOrKill           = "fill-or-kill"
	OptionAuctionOnly          = "auction-only"
	OptionIndicationOfInterest = "indication-of-interest"
)

// Order is Gemini's order status object, returned by NewOrder, CancelOrder,
// OrderStatus, ActiveOrders and OrdersHistory.
//
// Twinex's server answers with this struct too, so the fields are in the
// order of their JSON names: the order its replies have always had on the
// wire, which its golden files pin. Decoding does not care.
type Order struct {
	AvgExecutionPrice Decimal  `json:"avg_execution_price"`
	ClientOrderID     string   `json:"client_order_id,omitempty"`
	Exchange          string   `json:"exchange"`
	ExecutedAmount    Decimal  `json:"executed_amount"`
	ID                string   `json:"id"` // same value as OrderID
	IsCancelled       bool     `json:"is_cancelled"`
	IsHidden          bool     `json:"is_hidden"`
	IsLive            bool     `json:"is_live"`
	Options           []string `json:"options"`
	OrderID           string   `json:"order_id"` // a JSON string of digits, "106817811"
	OriginalAmount    Decimal  `json:"original_amount"`
	Price             Decimal  `json:"price"`
	// Reason says why the order was cancelled ("Requested",
	// "MakerOrCancelWouldTake", ...).
	Reason          string  `json:"reason,omitempty"`
	RemainingAmount Decimal `json:"remaining_amount"`
	Side            string  `json:"side"`
	StopPrice       Decimal `json:"stop_price,omitempty"`
	Symbol          string  `json:"symbol"`           // lower case
	Timestamp       int64   `json:"timestamp,string"` // seconds, sent as a JSON string
	Timestampms     int64   `json:"timestampms"`
	// Trades are the order's fills: present with include_trades and in
	// OrdersHistory (an empty list when it has none; nil leaves the key
	// out when encoding).
	Trades []MyTrade `json:"trades,omitzero"`
	// Type is "exchange limit", "stop-limit" (for orders placed as
	// "exchange stop limit"), "market buy", "market sell", ...
	Type      string `json:"type"`
	WasForced bool   `json:"was_forced"`
}

// IDInt returns OrderID as an int64.
func (o *Order) IDInt() (int64, error) { return strconv.ParseInt(o.OrderID, 10, 64) }

// Time returns the order's creation time.
func (o *Order) Time() time.Time { return time.UnixMilli(o.Timestampms) }

// NewOrderRequest is the payload of POST /v1/order/new. Empty optional fields
// are left out.
type NewOrderRequest struct {
	ClientOrderID string  // optional, [:\-_.#a-zA-Z0-9]{1,36}
	Symbol        string  // any case
	Amount        Decimal // sent as a JSON string
	Price         Decimal // required even for immediate-or-cancel orders
	Side          string  // SideBuy or SideSell
	Type          string  // OrderTypeExchangeLimit when empty
	Options       []string
	StopPrice     Decimal // for OrderTypeExchangeStopLimit
}

// NewOrder places an order. Errors include InvalidSymbol, InvalidPrice,
// InvalidQuantity, InvalidSide, InvalidOrderType, InsufficientFunds (HTTP
// 406), MarketNotOpen, ClientOrderIdTooLong, ConflictingOptions,
// UnsupportedOption, InvalidStopPrice* and MissingRole (HTTP 403).
func (c *Client) NewOrder(ctx context.Context, r NewOrderRequest) (*Order, error) {
	typ := r.Type
	if typ == "" {
		typ = OrderTypeExchangeLimit
	}
	p := map[string]any{
		"symbol": r.Symbol,
		"amount": r.Amount,
		"price":  r.Price,
		"side":   r.Side,
		"type":   typ,
	}
	if r.ClientOrderID != "" {
		p["client_order_id"] = r.ClientOrderID
	}
	if len(r.Options) > 0 {
		p["options"] = r.Options
	}
	if r.StopPrice != "" {
		p["stop_price"] = r.StopPrice
	}
	return c.order(ctx, "/v1/order/new", p)
}

// CancelOrder cancels an order by id; cancelling an already-cancelled order
// succeeds. The id is sent as a JSON number, as Gemini documents. Unknown id:
// OrderNotFound (HTTP 404).
func (c *Client) CancelOrder(ctx context.Context, orderID string) (*Order, error) {
	id, err := orderIDParam(orderID)
	if err != nil {
		return nil, err
	}
	return c.order(ctx, "/v1/order/cancel", map[string]any{"order_id": id})
}

// OrderStatusRequest selects an order by OrderID or ClientOrderID.
type OrderStatusRequest struct {
	OrderID       string
	ClientOrderID string // the most recent order with this id
	IncludeTrades bool
}

// OrderStatus returns one order. Unknown order: OrderNotFound (HTTP 404).
func (c *Client) OrderStatus(ctx context.Context, r OrderStatusRequest) (*Order, error) {
	p := map[string]any{}
	switch {
	case r.OrderID != "":
		id, err := orderIDParam(r.OrderID)
		if err != nil {
			return nil, err
		}
		p["order_id"] = id
	case r.ClientOrderID != "":
		p["client_order_id"] = r.ClientOrderID
	default:
		return nil, errors.New("gemini: order status needs an order id or a client order id")
	}
	if r.IncludeTrades {
		p["include_trades"] = true
	}
	return c.order(ctx, "/v1/order/status", p)
}

func (c *Client) order(ctx context.Context, path string, p map[string]any) (*Order, error) {
	return call[Order](ctx, c.post, path, p)
}

// CancelResult is the answer of the cancel/session and cancel/all endpoints.
type CancelResult struct {
	Details CancelDetails `json:"details"`
	Result  string        `json:"result"`
}

// CancelDetails lists the orders cancelled and those that could not be. The
// ids are JSON numbers in Gemini's docs and strings in some servers; ID
// decodes both.
type CancelDetails struct {
	CancelRejects   []ID `json:"cancelRejects"`
	CancelledOrders []ID `json:"cancelledOrders"`
}

// CancelSession cancels every open order placed with this API key.
func (c *Client) CancelSession(ctx context.Context) (*CancelResult, error) {
	return c.cancelMany(ctx, "/v1/order/cancel/session")
}

// CancelAll cancels every open order of the account, including those placed
// on the website.
func (c *Client) CancelAll(ctx context.Context) (*CancelResult, error) {
	return c.cancelMany(ctx, "/v1/order/cancel/all")
}

func (c *Client) cancelMany(ctx context.Context, path string) (*CancelResult, error) {
	return call[CancelResult](ctx, c.post, path, nil)
}

// ActiveOrders returns the live orders. POST /v1/orders.
func (c *Client) ActiveOrders(ctx context.Context) ([]Order, error) {
	var out []Order
	if err := c.post(ctx, "/v1/orders", nil, &out); err != nil {
		return nil, err
	}
	return out, nil
}

// OrdersHistoryOptions filters OrdersHistory. Zero values leave a parameter
// out.
type OrdersHistoryOptions struct {
	Symbol string
	Limit  int       // limit_orders: default 50, max 500
	Since  time.Time // sent as "timestamp" in ms
}

// OrdersHistory returns closed and cancelled orders, newest first, each with
// its trades. POST /v1/orders/history.
func (c *Client) OrdersHistory(ctx context.Context, opts OrdersHistoryOptions) ([]Order, error) {
	p := map[string]any{}
	if opts.Symbol != "" {
		p["symbol"] = opts.Symbol
	}
	if opts.Limit > 0 {
		p["limit_orders"] = opts.Limit
	}
	if !opts.Since.IsZero() {
		p["timestamp"] = millis(opts.Since)
	}
	var out []Order
	if err := c.post(ctx, "/v1/orders/history", p, &out); err != nil {
		return nil, err
	}
	return out, nil
}

// MyTrade is one of the caller's trades (POST /v1/mytrades, and an order's
// trades). Its fields are in the order of their JSON names, like Order's.
type MyTrade struct {
	Aggressor      bool    `json:"aggressor"`
	Amount         Decimal `json:"amount"`
	Break          string  `json:"break,omitempty"` // set on a broken trade
	ClientOrderID  string  `json:"client_order_id,omitempty"`
	Exchange       string  `json:"exchange"`
	FeeAmount      Decimal `json:"fee_amount"`
	FeeCurrency    string  `json:"fee_currency"`
	IsAuctionFill  bool    `json:"is_auction_fill"`
	IsClearingFill bool    `json:"is_clearing_fill"`
	OrderID        string  `json:"order_id"`
	Price          Decimal `json:"price"`
	Symbol         string  `json:"symbol"` // upper case
	TID            int64   `json:"tid"`
	Timestamp      int64   `json:"timestamp"` // seconds, a JSON number here
	Timestampms    int64   `json:"timestampms"`
	Type           string  `json:"type"` // capitalised: "Buy", "Sell"
}

// Time returns the trade time.
func (t MyTrade) Time() time.Time { return time.UnixMilli(t.Timestampms) }

// MyTradesOptions filters MyTrades. Zero values leave a parameter out.
type MyTradesOptions struct {
	Symbol string
	Limit  int       // limit_trades: default 50, max 500
	Since  time.Time // trades at or after; sent as "timestamp" in ms
}

// MyTrades returns the caller's trades, newest first.
func (c *Client) MyTrades(ctx context.Context, opts MyTradesOptions) ([]MyTrade, error) {
	p := map[string]any{}
	if opts.Symbol != "" {
		p["symbol"] = opts.Symbol
	}
	if opts.Limit > 0 {
		p["limit_trades"] = opts.Limit
	}
	if !opts.Since.IsZero() {
		p["timestamp"] = millis(opts.Since)
	}
	var out []MyTrade
	if err := c.post(ctx, "/v1/mytrades", p, &out); err != nil {
		return nil, err
	}
	return out, nil
}

// TradeVolume is one symbol's volume on one day of POST /v1/tradevolume. All
// values arrive as JSON numbers. The fields are in the order of their JSON
// names, like Order's.
type TradeVolume struct {
	BaseCurrency      string `json:"base_currency"`
	BuyMakerBase      Number `json:"buy_maker_base"`
	BuyMakerCount     int64  `json:"buy_maker_count"`
	BuyMakerNotional  Number `json:"buy_maker_notional"`
	BuyTakerBase      Number `json:"buy_taker_base"`
	BuyTakerCount     int64  `json:"buy_taker_count"`
	BuyTakerNotional  Number `json:"buy_taker_notional"`
	DataDate          string `json:"data_date"` // "2019-01-10"
	MakerBuySellRatio Number `json:"maker_buy_sell_ratio"`
	NotionalCurrency  string `json:"notional_currency"`
	SellMakerBase     Number `json:"sell_maker_base"`
	SellMakerCount    int64  `json:"sell_maker_count"`
	SellMakerNotional Number `json:"sell_maker_notional"`
	SellTakerBase     Number `json:"sell_taker_base"`
	SellTakerCount    int64  `json:"sell_taker_count"`
	SellTakerNotional Number `json:"sell_taker_notional"`
	Symbol            string `json:"symbol"`
	TotalVolumeBase   Number `json:"total_volume_base"`
}

// TradeVolume returns trading volume: one slice per day, one entry per
// symbol.
func (c *Client) TradeVolume(ctx context.Context) ([][]TradeVolume, error) {
	var out [][]TradeVolume
	if err := c.post(ctx, "/v1/tradevolume", nil, &out); err != nil {
		return nil, err
	}
	return out, nil
}

// NotionalVolume is the answer of POST /v1/notionalvolume: fee rates in
// basis points and notional volumes, all JSON numbers. The fields are in
// the order of their JSON names, like Order's.
type NotionalVolume struct {
	APIAuctionFeeBps  Number        `json:"api_auction_fee_bps"`
	APIMakerFeeBps    Number        `json:"api_maker_fee_bps"`
	APITakerFeeBps    Number        `json:"api_taker_fee_bps"`
	BlockMakerFeeBps  Number        `json:"block_maker_fee_bps"`
	BlockTakerFeeBps  Number        `json:"block_taker_fee_bps"`
	Date              string        `json:"date"`
	FIXAuctionFeeBps  Number        `json:"fix_auction_fee_bps"`
	FIXMakerFeeBps    Number        `json:"fix_maker_fee_bps"`
	FIXTakerFeeBps    Number        `json:"fix_taker_fee_bps"`
	LastUpdatedMs     int64         `json:"last_updated_ms"`
	Notional1dVolume  []DayNotional `json:"notional_1d_volume"`
	Notional30dVolume Number        `json:"notional_30d_volume"`
	WebAuctionFeeBps  Number        `json:"web_auction_fee_bps"`
	WebMakerFeeBps    Number        `json:"web_maker_fee_bps"`
	WebTakerFeeBps    Number        `json:"web_taker_fee_bps"`
}

// DayNotional is one day of NotionalVolume.Notional1dVolume.
type DayNotional struct {
	Date           string `json:"date"`
	NotionalVolume Number `json:"notional_volume"`
}

// NotionalVolume returns fee rates and 30-day notional volume, optionally for
// one symbol ("" for all).
func (c *Client) NotionalVolume(ctx context.Context, symbol string) (*NotionalVolume, error) {
	p := map[string]any{}
	if symbol != "" {
		p["symbol"] = symbol
	}
	return call[NotionalVolume](ctx, c.post, "/v1/notionalvolume", p)
}

// Heartbeat keeps the orders of a "Require Heartbeat" key alive: without an
// authenticated request for 30 seconds, Gemini cancels the session's orders.
// Any private call resets the timer; this one does nothing else.
func (c *Client) Heartbeat(ctx context.Context) error {
	var out struct {
		Result string `json:"result"`
	}
	return c.post(ctx, "/v1/heartbeat", nil, &out)
}

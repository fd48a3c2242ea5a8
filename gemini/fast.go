package gemini

import "encoding/json"

// The new WebSocket API's messages (reference gemini-websocket.md §9),
// which Twinex serves at /v1/ws (its "Fast API"). Fields are in the byte
// order of their JSON names (upper case first), the order Twinex sends them
// in.

// FastResponse answers one request of the new WebSocket API: the request's
// id (the same JSON value), an HTTP-like status, and a result or an error.
type FastResponse struct {
	Error      *FastError      `json:"error,omitempty"`
	ID         json.RawMessage `json:"id"`
	RateLimits json.RawMessage `json:"rateLimits,omitempty"` // conninfo's answer
	Result     any             `json:"result,omitempty"`     // the method's; absent for ping and subscriptions
	Status     int             `json:"status"`
}

// FastError is a refused request's error: -1013 invalid parameters or
// stream name, -1020 unsupported operation, -1003 rate limited.
type FastError struct {
	Code int    `json:"code"`
	Msg  string `json:"msg"`
}

// FastTime is the result of the time method.
type FastTime struct {
	ServerTime int64 `json:"serverTime"` // ms
}

// DepthSnapshot is the result of the depth method and a frame of a
// {symbol}@depthN stream (which names its symbol): price levels as
// [price, quantity] strings, best first.
type DepthSnapshot struct {
	Asks         [][2]string `json:"asks"`
	Bids         [][2]string `json:"bids"`
	LastUpdateID int64       `json:"lastUpdateId"`
	Symbol       string      `json:"symbol,omitempty"`
}

// DepthUpdate is a frame of a {symbol}@depth stream: the levels that
// changed between update ids First and Last; a quantity of 0 removes one.
type DepthUpdate struct {
	Time   int64       `json:"E"` // ns
	First  int64       `json:"U"`
	Asks   [][2]string `json:"a"`
	Bids   [][2]string `json:"b"`
	Event  string      `json:"e"` // depthUpdate
	Symbol string      `json:"s"`
	Last   int64       `json:"u"`
}

// FastTrade is a frame of a {symbol}@trade stream.
type FastTrade struct {
	Time       int64  `json:"E"` // ns
	BuyerMaker bool   `json:"m"`
	Price      string `json:"p"`
	Quantity   string `json:"q"`
	Symbol     string `json:"s"`
	TradeID    int64  `json:"t"`
}

// BookTicker is a frame of a {symbol}@bookTicker stream: the best bid and
// ask, each absent while its side is empty.
type BookTicker struct {
	AskQty   string `json:"A,omitempty"`
	BidQty   string `json:"B,omitempty"`
	Time     int64  `json:"E"` // ns
	Ask      string `json:"a,omitempty"`
	Bid      string `json:"b,omitempty"`
	Symbol   string `json:"s"`
	UpdateID int64  `json:"u"`
}

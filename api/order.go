package api

import (
	"strconv"

	"github.com/twinex/twinex"
)

// orderReply is Gemini's order object (reference §3.1), the answer of
// order/new, order/cancel, order/status, /v1/orders and the order
// history. It is a struct rather than a map because it answers every
// signed order and cancel: encoding a map sorts its keys and reflects on
// each value per request. The fields are in the order of their JSON
// names, the order a map's keys were encoded in, so the bytes on the
// wire are the same (the golden files pin them).
type orderReply struct {
	AccountID         int64    `json:"account_id,omitempty"` // the admin API's only
	AvgExecutionPrice string   `json:"avg_execution_price"`
	ClientOrderID     string   `json:"client_order_id,omitempty"`
	Exchange          string   `json:"exchange"`
	ExecutedAmount    string   `json:"executed_amount"`
	ID                string   `json:"id"`
	IsCancelled       bool     `json:"is_cancelled"`
	IsHidden          bool     `json:"is_hidden"`
	IsLive            bool     `json:"is_live"`
	Options           []string `json:"options"`
	OrderID           string   `json:"order_id"`
	OriginalAmount    string   `json:"original_amount"`
	Price             string   `json:"price"`
	Reason            string   `json:"reason,omitempty"`
	RemainingAmount   string   `json:"remaining_amount"`
	Side              string   `json:"side"`
	StopPrice         string   `json:"stop_price,omitempty"` // stop-limit orders only
	Symbol            string   `json:"symbol"`
	Timestamp         string   `json:"timestamp"`
	TimestampMS       int64    `json:"timestampms"`
	// Trades, when set, lists the order's fills (order/status with
	// include_trades, the order history), even when empty.
	Trades    *[]map[string]any `json:"trades,omitempty"`
	Type      string            `json:"type"`
	WasForced bool              `json:"was_forced"`
}

// orderObject renders an order in Gemini's order-object shape.
func orderObject(o twinex.Order, m *twinex.Market) orderReply {
	avg := "0.00"
	if o.Filled > 0 {
		// FilledNotional is in quote ledger units; the average price in
		// price units is FilledNotional / Filled scaled back.
		avg = averagePrice(o, m)
	}
	opts := []string{}
	if o.Option != twinex.NoOption {
		opts = append(opts, o.Option.String())
	}
	id := strconv.FormatInt(o.ID, 10)
	v := orderReply{
		OrderID: id, ID: id, Symbol: o.Market, Exchange: "gemini",
		AvgExecutionPrice: avg, Side: o.Side.String(), Type: o.Type.String(),
		Timestamp: strconv.FormatInt(o.Created/1e9, 10), TimestampMS: o.Created / 1e6,
		IsLive: o.Status.Open(), IsCancelled: o.Status == twinex.StatusCancelled,
		ExecutedAmount: m.FormatAmount(o.Filled), RemainingAmount: m.FormatAmount(o.Remaining()),
		OriginalAmount: m.FormatAmount(o.Amount), Price: m.FormatPrice(o.Price),
		Options: opts, ClientOrderID: o.ClientOrderID, Reason: o.CancelReason,
	}
	if o.Type == twinex.StopLimit {
		v.StopPrice = m.FormatPrice(o.StopPrice)
	}
	return v
}

// adminOrder is the order object with the account id, for the admin API.
func adminOrder(o twinex.Order, m *twinex.Market) orderReply {
	v := orderObject(o, m)
	v.AccountID = o.AccountID
	return v
}

// fields is the order object as a map, for the order events, which
// reshape it (§7.5). TestOrderReplyFields keeps it to the struct's
// encoding.
func (v orderReply) fields() map[string]any {
	f := map[string]any{
		"order_id": v.OrderID, "id": v.ID, "symbol": v.Symbol, "exchange": v.Exchange,
		"avg_execution_price": v.AvgExecutionPrice, "side": v.Side, "type": v.Type,
		"timestamp": v.Timestamp, "timestampms": v.TimestampMS,
		"is_live": v.IsLive, "is_cancelled": v.IsCancelled,
		"is_hidden": v.IsHidden, "was_forced": v.WasForced,
		"executed_amount": v.ExecutedAmount, "remaining_amount": v.RemainingAmount,
		"original_amount": v.OriginalAmount, "price": v.Price,
		"options": v.Options,
	}
	if v.AccountID != 0 {
		f["account_id"] = v.AccountID
	}
	if v.ClientOrderID != "" {
		f["client_order_id"] = v.ClientOrderID
	}
	if v.StopPrice != "" {
		f["stop_price"] = v.StopPrice
	}
	if v.Reason != "" {
		f["reason"] = v.Reason
	}
	if v.Trades != nil {
		f["trades"] = *v.Trades
	}
	return f
}

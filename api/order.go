package api

import (
	"bytes"
	"encoding/json"
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

// appendJSON appends v as encoding/json encodes it (with HTML escaping
// off, as writeJSON does), without reflection: an order reply answers
// every signed order and cancel. TestOrderReplyAppend holds it to
// encoding/json's bytes; a reply with fills (Trades) goes through
// encoding/json.
func (v *orderReply) appendJSON(b []byte) []byte {
	b = append(b, '{')
	if v.AccountID != 0 {
		b = append(b, `"account_id":`...)
		b = strconv.AppendInt(b, v.AccountID, 10)
		b = append(b, ',')
	}
	b = appendField(b, "avg_execution_price", v.AvgExecutionPrice)
	if v.ClientOrderID != "" {
		b = appendField(b, "client_order_id", v.ClientOrderID)
	}
	b = appendField(b, "exchange", v.Exchange)
	b = appendField(b, "executed_amount", v.ExecutedAmount)
	b = appendField(b, "id", v.ID)
	b = append(b, `"is_cancelled":`...)
	b = strconv.AppendBool(b, v.IsCancelled)
	b = append(b, `,"is_hidden":`...)
	b = strconv.AppendBool(b, v.IsHidden)
	b = append(b, `,"is_live":`...)
	b = strconv.AppendBool(b, v.IsLive)
	b = append(b, `,"options":`...)
	if v.Options == nil {
		b = append(b, "null"...)
	} else {
		b = append(b, '[')
		for i, o := range v.Options {
			if i > 0 {
				b = append(b, ',')
			}
			b = appendString(b, o)
		}
		b = append(b, ']')
	}
	b = append(b, ',')
	b = appendField(b, "order_id", v.OrderID)
	b = appendField(b, "original_amount", v.OriginalAmount)
	b = appendField(b, "price", v.Price)
	if v.Reason != "" {
		b = appendField(b, "reason", v.Reason)
	}
	b = appendField(b, "remaining_amount", v.RemainingAmount)
	b = appendField(b, "side", v.Side)
	if v.StopPrice != "" {
		b = appendField(b, "stop_price", v.StopPrice)
	}
	b = appendField(b, "symbol", v.Symbol)
	b = appendField(b, "timestamp", v.Timestamp)
	b = append(b, `"timestampms":`...)
	b = strconv.AppendInt(b, v.TimestampMS, 10)
	b = append(b, ',')
	b = appendField(b, "type", v.Type)
	b = append(b, `"was_forced":`...)
	b = strconv.AppendBool(b, v.WasForced)
	return append(b, '}')
}

// appendField appends "name":"value", with name a plain JSON key.
func appendField(b []byte, name, value string) []byte {
	b = append(b, '"')
	b = append(b, name...)
	b = append(b, `":`...)
	b = appendString(b, value)
	return append(b, ',')
}

// appendString appends s as a JSON string as encoding/json writes it with
// HTML escaping off. Printable ASCII other than '"' and '\' (every value of
// an order reply but an odd client order id) is copied; anything else is
// left to encoding/json, whose escapes (control characters, U+2028 and
// U+2029, invalid UTF-8) this need not repeat.
func appendString(b []byte, s string) []byte {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c >= 0x7f || c == '"' || c == '\\' {
			var buf bytes.Buffer
			enc := json.NewEncoder(&buf)
			enc.SetEscapeHTML(false)
			_ = enc.Encode(s)
			return append(b, bytes.TrimSuffix(buf.Bytes(), []byte("\n"))...)
		}
	}
	b = append(b, '"')
	b = append(b, s...)
	return append(b, '"')
}

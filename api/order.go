package api

import (
	"bytes"
	"encoding/json"
	"strconv"

	"github.com/twinex/twinex"
	"github.com/twinex/twinex/admin"
	"github.com/twinex/twinex/gemini"
)

// orderReply is Gemini's order object (reference §3.1), the answer of
// order/new, order/cancel, order/status, /v1/orders and the order
// history: the gemini client's Order, which the server fills, with the
// account id the admin API adds in front (admin.Order; a type of its own
// here for the encoder's methods). gemini.Order keeps its fields
// in the order of their JSON names, the order the keys of the maps these
// replies were once built from were encoded in, so the bytes on the wire
// are the same (the golden files pin them). Order.Trades, when not nil,
// lists the order's fills (order/status with include_trades, the order
// history), even when empty.
type orderReply admin.Order

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
	v := orderReply{Order: gemini.Order{
		OrderID: id, ID: id, Symbol: o.Market, Exchange: "gemini",
		AvgExecutionPrice: gemini.Decimal(avg), Side: o.Side.String(), Type: o.Type.String(),
		Timestamp: o.Created / 1e9, Timestampms: o.Created / 1e6,
		IsLive: o.Status.Open(), IsCancelled: o.Status == twinex.StatusCancelled,
		ExecutedAmount: gemini.Decimal(m.FormatAmount(o.Filled)), RemainingAmount: gemini.Decimal(m.FormatAmount(o.Remaining())),
		OriginalAmount: gemini.Decimal(m.FormatAmount(o.Amount)), Price: gemini.Decimal(m.FormatPrice(o.Price)),
		Options: opts, ClientOrderID: o.ClientOrderID, Reason: o.CancelReason,
	}}
	if o.Type == twinex.StopLimit {
		v.StopPrice = gemini.Decimal(m.FormatPrice(o.StopPrice))
	}
	return v
}

// averagePrice returns FilledNotional/Filled as a decimal price with the
// quote currency's full precision.
func averagePrice(o twinex.Order, m *twinex.Market) string {
	// notional (quote units, scale qs) / (filled amount units, scale ad)
	// gives a price at scale qs-ad.
	return twinex.FormatQuotient(o.FilledNotional, o.Filled, m.QuoteScale()-m.AmountDecimals, m.PriceDecimals, m.QuoteScale())
}

// adminOrder is the order object with the account id, for the admin API.
func adminOrder(o twinex.Order, m *twinex.Market) orderReply {
	v := orderObject(o, m)
	v.AccountID = o.AccountID
	return v
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
	b = appendField(b, "avg_execution_price", string(v.AvgExecutionPrice))
	if v.ClientOrderID != "" {
		b = appendField(b, "client_order_id", v.ClientOrderID)
	}
	b = appendField(b, "exchange", v.Exchange)
	b = appendField(b, "executed_amount", string(v.ExecutedAmount))
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
	b = appendField(b, "original_amount", string(v.OriginalAmount))
	b = appendField(b, "price", string(v.Price))
	if v.Reason != "" {
		b = appendField(b, "reason", v.Reason)
	}
	b = appendField(b, "remaining_amount", string(v.RemainingAmount))
	b = appendField(b, "side", v.Side)
	if v.StopPrice != "" {
		b = appendField(b, "stop_price", string(v.StopPrice))
	}
	b = appendField(b, "symbol", v.Symbol)
	b = append(b, `"timestamp":"`...)
	b = strconv.AppendInt(b, v.Timestamp, 10)
	b = append(b, `","timestampms":`...)
	b = strconv.AppendInt(b, v.Timestampms, 10)
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

package api

import (
	"bytes"
	"encoding/json"
	"testing"

	"github.com/twinex/twinex"
)

// TestOrderReplyAppend: the order reply's own encoder writes the bytes
// encoding/json writes, for orders of every shape and client order ids
// that need escaping.
func TestOrderReplyAppend(t *testing.T) {
	m := twinex.DefaultMarkets().Market("btcusd")
	base := twinex.Order{ID: 7, Market: "btcusd", Side: twinex.Buy, Type: twinex.Limit, Price: 100000, Amount: 10000,
		Status: twinex.StatusLive, Created: 1_800_000_000_123_456_789}
	var orders []twinex.Order
	for _, coid := range []string{"", "a-b_c.d#e:f", `quote"back\slash`, "tab\there", "é", "\u2028", "\xff", "<&>"} {
		o := base
		o.ClientOrderID = coid
		orders = append(orders, o)
	}
	stop := base
	stop.Type, stop.StopPrice, stop.Option = twinex.StopLimit, 100100, twinex.MakerOrCancel
	done := base
	done.Status, done.CancelReason, done.Filled, done.FilledNotional, done.AccountID = twinex.StatusCancelled, "Requested", 5000, 500000000, 100
	orders = append(orders, stop, done)
	for _, o := range orders {
		for _, v := range []orderReply{orderObject(o, m), adminOrder(o, m), {}} {
			var want bytes.Buffer
			enc := json.NewEncoder(&want)
			enc.SetEscapeHTML(false)
			if err := enc.Encode(v); err != nil {
				t.Fatal(err)
			}
			got := append(v.appendJSON(nil), '\n')
			if string(got) != want.String() {
				t.Errorf("appendJSON %s\nencoding/json %s", got, want.Bytes())
			}
		}
	}
}

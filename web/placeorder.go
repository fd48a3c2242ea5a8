package web

import (
	"errors"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/twinex/twinex"
	"github.com/twinex/twinex/exchange"
)

// orderKinds are the order form's choices: Gemini's order type and
// execution option behind each.
var orderKinds = []struct {
	Value, Text, Type, Option string
}{
	{"limit", "Limit", "exchange limit", ""},
	{"maker-or-cancel", "Limit, maker only (maker-or-cancel)", "exchange limit", "maker-or-cancel"},
	{"immediate-or-cancel", "Limit, fill now or cancel the rest (immediate-or-cancel)", "exchange limit", "immediate-or-cancel"},
	{"fill-or-kill", "Limit, fill all now or nothing (fill-or-kill)", "exchange limit", "fill-or-kill"},
	{"stop-limit", "Stop-limit", "exchange stop limit", ""},
}

// placeOrder places an order for one of the user's accounts from the
// dashboard, through the same rule as the API (exchange.ParseOrder and
// Place); its session is "UI", as Gemini's order events name the website's
// orders. Bad input is shown on its field, with nothing placed.
func (s *Server) placeOrder(w http.ResponseWriter, r *http.Request) {
	u := state(r).user
	a, _, ok := s.chosenAccount(w, r)
	if !ok {
		return
	}
	clean := func(name string) string {
		return formAmount(r.PostFormValue(name))
	}
	form := map[string]string{"symbol": r.PostFormValue("symbol"), "side": r.PostFormValue("side"), "kind": r.PostFormValue("kind"),
		"amount": r.PostFormValue("amount"), "price": r.PostFormValue("price"), "stop": r.PostFormValue("stop")}
	req := exchange.OrderRequest{Symbol: form["symbol"], Side: form["side"]}
	for _, k := range orderKinds {
		if k.Value == form["kind"] {
			req.Type = k.Type
			if k.Option != "" {
				req.Options = []string{k.Option}
			}
		}
	}
	req.Amount, req.HasAmount = clean("amount"), clean("amount") != ""
	req.Price, req.HasPrice = clean("price"), clean("price") != ""
	if req.Type == "exchange stop limit" {
		req.StopPrice, req.HasStop = clean("stop"), clean("stop") != ""
	}
	refuse := func(err error) {
		var te *twinex.Error
		if !errors.As(err, &te) || te.Reason == twinex.Maintenance || te.Reason == twinex.System {
			s.tradeFailed(w, r, err)
			return
		}
		fields := map[string]string{}
		switch te.Reason {
		case twinex.InvalidSymbol:
			fields["symbol"] = "Choose a market from the list."
		case twinex.InvalidSide:
			fields["side"] = "Choose buy or sell."
		case twinex.InvalidOrderType, twinex.ConflictingOptions:
			fields["kind"] = "Choose an order type from the list."
		case twinex.InvalidQuantity:
			fields["amount"] = te.Message + "."
		case twinex.InvalidPrice:
			fields["price"] = te.Message + "."
		case twinex.InvalidStopPrice:
			fields["stop"] = te.Message + "."
		case twinex.InsufficientFunds:
			fields["amount"] = "That needs more than " + a.Name + " has available (funds held by open orders cannot be used twice)."
		default:
			fields["amount"] = te.Message + "."
		}
		q := r.URL.Query()
		q.Set("account", a.Nickname)
		r.URL.RawQuery = q.Encode()
		s.renderOrders(w, r, http.StatusUnprocessableEntity, view{Error: "No order was placed. Please correct the highlighted fields.", Fields: fields, Form: form})
	}
	cmd, _, err := s.Exchange.ParseOrder(req)
	if err != nil {
		refuse(err)
		return
	}
	res, err := s.Exchange.Place(r.Context(), cmd, a.ID, exchange.UISession, twinex.KeyUse{})
	if err != nil {
		refuse(err)
		return
	}
	o := res.Order
	s.audit(r, u.ID, "order_placed", strconv.FormatInt(o.ID, 10)+" "+req.Side+" "+req.Amount+" "+req.Symbol+" in "+a.Nickname)
	msg := "order_placed"
	switch {
	case o.Filled > 0 && o.Filled == o.Amount:
		msg = "order_filled"
	case o.Filled > 0:
		msg = "order_part_filled"
	case o.Status != twinex.StatusLive && o.Status != twinex.StatusPending:
		msg = "order_not_booked"
	}
	http.Redirect(w, r, "/orders?account="+url.QueryEscape(a.Nickname)+"&m="+msg, http.StatusSeeOther)
}

// orderForm is the order form's choices.
type orderForm struct {
	Markets, Sides, Kinds []option
}

func (s *Server) orderFormOf() orderForm {
	var f orderForm
	for _, m := range s.Markets.List {
		f.Markets = append(f.Markets, option{Value: m.Symbol, Text: strings.ToUpper(m.Symbol)})
	}
	f.Sides = []option{{Value: "buy", Text: "Buy"}, {Value: "sell", Text: "Sell"}}
	for _, k := range orderKinds {
		f.Kinds = append(f.Kinds, option{Value: k.Value, Text: k.Text})
	}
	return f
}

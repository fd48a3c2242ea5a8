package web

// The orders pages: open and past orders with their fills, cancelling, and
// the CSV export.

import (
	"encoding/csv"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/twinex/twinex"
	"github.com/twinex/twinex/exchange"
)

// orderRow is one order, formatted.
type orderRow struct {
	ID                                                   int64
	Created                                              int64
	Symbol, Side, Type, Price, Stop, Amount, Filled, Avg string
	Remaining, Status, ClientOrderID                     string
}

// fillRow is one fill, formatted.
type fillRow struct {
	ID, OrderID                                    int64
	Time                                           int64
	Symbol, Side, Price, Amount, Fee, FeeCur, Role string
}

type ordersView struct {
	Accounts []twinex.Account
	Account  twinex.Account
	Tab      string // "open", "history" or "fills"
	Open     []orderRow
	History  []orderRow
	Fills    []fillRow
	Older    int64 // the cursor of the next (older) page; 0: none
	Paged    bool  // this is not the first page
	Form     orderForm
}

func (s *Server) orderRowOf(o twinex.Order) orderRow {
	m := s.Exchange.Core.Markets().Market(o.Market)
	row := orderRow{ID: o.ID, Created: o.Created, Symbol: strings.ToUpper(o.Market), Side: o.Side.String(), Type: o.Type.String(),
		Status: o.Status.String(), ClientOrderID: o.ClientOrderID}
	if m == nil {
		return row
	}
	row.Price, row.Amount = group(m.FormatPrice(o.Price)), group(m.FormatAmount(o.Amount))
	row.Filled, row.Remaining = group(m.FormatAmount(o.Filled)), group(m.FormatAmount(o.Remaining()))
	if o.Type == twinex.StopLimit {
		row.Stop = group(m.FormatPrice(o.StopPrice))
	}
	if o.Filled > 0 {
		row.Avg = group(twinex.FormatQuotient(o.FilledNotional, o.Filled, m.QuoteScale()-m.AmountDecimals, m.PriceDecimals, m.QuoteScale()))
	}
	if o.Status == twinex.StatusCancelled && o.Filled > 0 {
		row.Status = "partly filled, cancelled"
	}
	return row
}

func (s *Server) fillRowOf(f exchange.Fill) fillRow {
	m := s.Exchange.Core.Markets().Market(f.Market)
	row := fillRow{ID: f.ID, OrderID: f.OrderID, Time: f.Time, Symbol: strings.ToUpper(f.Market), Side: f.Side.String(), Role: "Taker"}
	if f.Maker {
		row.Role = "Maker"
	}
	if m == nil {
		return row
	}
	row.Price, row.Amount = group(m.FormatPrice(f.Price)), group(m.FormatAmount(f.Amount))
	row.Fee, row.FeeCur = group(twinex.FormatUnits(f.Fee, m.QuoteScale())), m.Quote
	return row
}

// chosenAccount is the signed-in user's account named by ?account= (or the
// form's account on a POST; the primary one when absent), with all the
// user's accounts; false after an error page (404 for an account that is
// not theirs).
func (s *Server) chosenAccount(w http.ResponseWriter, r *http.Request) (twinex.Account, []twinex.Account, bool) {
	list, err := s.Accounts.Accounts(r.Context(), state(r).user.ID)
	if err != nil {
		s.fail(w, r, err)
		return twinex.Account{}, nil, false
	}
	nick := r.URL.Query().Get("account")
	if r.Method == http.MethodPost {
		nick = r.PostFormValue("account")
	}
	for _, a := range list {
		if a.Nickname == nick || (nick == "" && a.ID == list[0].ID) {
			return a, list, true
		}
	}
	s.errorPage(w, r, http.StatusNotFound, "No such account", "That account does not exist or is not yours.")
	return twinex.Account{}, nil, false
}

// cursor reads ?before= (0 when absent); false after a 400.
func (s *Server) cursor(w http.ResponseWriter, r *http.Request) (int64, bool) {
	v := r.URL.Query().Get("before")
	if v == "" {
		return 0, true
	}
	n, err := strconv.ParseInt(v, 10, 64)
	if err != nil || n <= 0 {
		s.errorPage(w, r, http.StatusBadRequest, "This page does not exist", "The page link is damaged. Go back to the first page.")
		return 0, false
	}
	return n, true
}

// orders shows an account's open orders, order history or fills.
func (s *Server) orders(w http.ResponseWriter, r *http.Request) {
	s.renderOrders(w, r, http.StatusOK, view{})
}

func (s *Server) renderOrders(w http.ResponseWriter, r *http.Request, status int, v view) {
	ctx := r.Context()
	a, list, ok := s.chosenAccount(w, r)
	if !ok {
		return
	}
	before, ok := s.cursor(w, r)
	if !ok {
		return
	}
	ov := ordersView{Accounts: list, Account: a, Tab: r.URL.Query().Get("tab"), Paged: before != 0, Form: s.orderFormOf()}
	switch ov.Tab {
	case "history":
		orders, err := s.Exchange.OrderHistory(ctx, a.ID, before, pageSize+1)
		if err != nil {
			s.tradeFailed(w, r, err)
			return
		}
		orders, ov.Older = onePage(orders, func(o twinex.Order) int64 { return o.ID })
		for _, o := range orders {
			ov.History = append(ov.History, s.orderRowOf(o))
		}
	case "fills":
		fills, err := s.Exchange.Fills(ctx, a.ID, before, pageSize+1)
		if err != nil {
			s.tradeFailed(w, r, err)
			return
		}
		fills, ov.Older = onePage(fills, func(f exchange.Fill) int64 { return f.ID })
		for _, f := range fills {
			ov.Fills = append(ov.Fills, s.fillRowOf(f))
		}
	default:
		ov.Tab = "open"
		orders, err := s.Exchange.OpenOrders(ctx, a.ID)
		if err != nil {
			s.tradeFailed(w, r, err)
			return
		}
		for _, o := range orders {
			ov.Open = append(ov.Open, s.orderRowOf(o))
		}
	}
	v.Title, v.Nav, v.Data = "Orders", "orders", ov
	s.render(w, r, status, "orders.html", v)
}

// cancelOrder cancels one open order of the account named in the form.
func (s *Server) cancelOrder(w http.ResponseWriter, r *http.Request) {
	u := state(r).user
	a, _, ok := s.chosenAccount(w, r)
	if !ok {
		return
	}
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil || id <= 0 {
		s.errorPage(w, r, http.StatusNotFound, "No such order", "That order does not exist or is not in this account.")
		return
	}
	_, cancelled, err := s.Exchange.Cancel(r.Context(), a.ID, id, twinex.KeyUse{})
	if twinex.ErrorReason(err) == twinex.OrderNotFound {
		s.errorPage(w, r, http.StatusNotFound, "No such order", "That order does not exist or is not in this account.")
		return
	}
	if err != nil {
		s.tradeFailed(w, r, err)
		return
	}
	back := "/orders?account=" + url.QueryEscape(a.Nickname)
	if !cancelled { // it had closed already: filled, or cancelled before
		http.Redirect(w, r, back+"&m=order_closed", http.StatusSeeOther)
		return
	}
	s.audit(r, u.ID, "order_cancelled", strconv.FormatInt(id, 10)+" in "+a.Nickname)
	http.Redirect(w, r, back+"&m=order_cancelled", http.StatusSeeOther)
}

// exportOrders writes an account's order history or fills as CSV, newest
// first, at most exportMax rows.
func (s *Server) exportOrders(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	a, _, ok := s.chosenAccount(w, r)
	if !ok {
		return
	}
	tab := r.URL.Query().Get("tab")
	var rows [][]string
	utc := func(ns int64) string { return time.Unix(0, ns).UTC().Format("2006-01-02T15:04:05.000Z") }
	switch tab {
	case "history":
		rows = append(rows, []string{"order_id", "created_utc", "symbol", "side", "type", "price", "stop_price", "amount", "filled", "avg_price", "status", "client_order_id"})
		for before := int64(0); len(rows) <= exportMax; {
			orders, err := s.Exchange.OrderHistory(ctx, a.ID, before, exchange.MaxPage)
			if err != nil {
				s.tradeFailed(w, r, err)
				return
			}
			for _, o := range orders {
				x := s.orderRowOf(o)
				rows = append(rows, []string{strconv.FormatInt(o.ID, 10), utc(o.Created), x.Symbol, x.Side, x.Type, plain(x.Price), plain(x.Stop),
					plain(x.Amount), plain(x.Filled), plain(x.Avg), o.Status.String(), csvSafe(o.ClientOrderID)})
			}
			if len(orders) < exchange.MaxPage {
				break
			}
			before = orders[len(orders)-1].ID
		}
	case "fills":
		rows = append(rows, []string{"trade_id", "time_utc", "symbol", "side", "price", "amount", "fee", "fee_currency", "role", "order_id"})
		for before := int64(0); len(rows) <= exportMax; {
			fills, err := s.Exchange.Fills(ctx, a.ID, before, exchange.MaxPage)
			if err != nil {
				s.tradeFailed(w, r, err)
				return
			}
			for _, f := range fills {
				x := s.fillRowOf(f)
				rows = append(rows, []string{strconv.FormatInt(f.ID, 10), utc(f.Time), x.Symbol, x.Side, plain(x.Price), plain(x.Amount),
					plain(x.Fee), x.FeeCur, strings.ToLower(x.Role), strconv.FormatInt(f.OrderID, 10)})
			}
			if len(fills) < exchange.MaxPage {
				break
			}
			before = fills[len(fills)-1].ID
		}
	default:
		s.errorPage(w, r, http.StatusNotFound, "Nothing to export", "Export the order history or the fills.")
		return
	}
	if len(rows) > exportMax+1 {
		rows = rows[:exportMax+1]
	}
	h := w.Header()
	h.Set("Content-Type", "text/csv; charset=utf-8")
	h.Set("Content-Disposition", `attachment; filename="twinex-`+a.Nickname+"-"+tab+`.csv"`)
	cw := csv.NewWriter(w)
	for _, row := range rows {
		_ = cw.Write(row)
	}
	cw.Flush()
}

// plain drops the thousands separators, for CSV.
func plain(s string) string { return strings.ReplaceAll(s, ",", "") }

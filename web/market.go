package web

import (
	"encoding/json"
	"net/http"
	"strconv"
	"strings"
)

// The market page: a market's live book, trades and 1-minute candles over
// the public v2 WebSocket (/v2/marketdata, same origin, so the CSP's
// default-src 'self' admits it), and the signed-in user's own open orders
// in that market, which the page's script refreshes from
// /markets/{symbol}/orders every two seconds (browsers cannot sign the
// order-events upgrade, and the dashboard's session is not an API key).

// marketView is the market page's data.
type marketView struct {
	Symbol  string // lower case, as in URLs
	Pair    string // upper case, as on the v2 socket
	Base    string
	Quote   string
	Markets []string
}

func (s *Server) market(w http.ResponseWriter, r *http.Request) {
	m := s.Markets.Market(strings.ToLower(r.PathValue("symbol")))
	if m == nil {
		s.errorPage(w, r, http.StatusNotFound, "No such market", "Twinex has no market by that name.")
		return
	}
	v := marketView{Symbol: m.Symbol, Pair: strings.ToUpper(m.Symbol), Base: m.Base, Quote: m.Quote}
	for _, x := range s.Markets.List {
		v.Markets = append(v.Markets, x.Symbol)
	}
	s.render(w, r, http.StatusOK, "market.html", view{Title: v.Pair, Nav: "markets", Data: v})
}

// marketOrderJSON is one open order on the market page.
type marketOrderJSON struct {
	ID        string `json:"id"`
	Account   string `json:"account"`
	Side      string `json:"side"`
	Price     string `json:"price"`
	Amount    string `json:"amount"`
	Remaining string `json:"remaining"`
	Created   int64  `json:"created_ms"`
}

// marketOrders answers the signed-in user's open orders in a market, in
// every account of the user, newest first.
func (s *Server) marketOrders(w http.ResponseWriter, r *http.Request) {
	m := s.Markets.Market(strings.ToLower(r.PathValue("symbol")))
	if m == nil || s.Exchange == nil {
		http.NotFound(w, r)
		return
	}
	user := state(r).user
	accts, err := s.Accounts.Accounts(r.Context(), user.ID)
	if err != nil {
		s.Logger.Error("web: market orders", "err", err)
		http.Error(w, "Something went wrong.", http.StatusInternalServerError)
		return
	}
	out := []marketOrderJSON{}
	for _, a := range accts {
		// The engine's open orders, as /v1/orders reads them: every one,
		// however many closed orders came after it.
		orders, err := s.Exchange.OpenOrders(r.Context(), a.ID)
		if err != nil {
			s.Logger.Error("web: market orders", "err", err)
			http.Error(w, "Something went wrong.", http.StatusInternalServerError)
			return
		}
		for _, o := range orders {
			if o.Market != m.Symbol {
				continue
			}
			out = append(out, marketOrderJSON{ID: strconv.FormatInt(o.ID, 10), Account: a.Nickname, Side: o.Side.String(), Price: m.FormatPrice(o.Price),
				Amount: m.FormatAmount(o.Amount), Remaining: m.FormatAmount(o.Remaining()), Created: o.Created / 1e6})
		}
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	json.NewEncoder(w).Encode(out)
}

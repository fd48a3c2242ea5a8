package api

import (
	"context"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"

	"github.com/twinex/twinex"
	"github.com/twinex/twinex/admin"
	"github.com/twinex/twinex/core"
	"github.com/twinex/twinex/exchange"
)

// The admin API, under /admin/v1, is how operators and test harnesses
// provision: authorised by a bearer token compared in constant time.

func (s *Server) routeAdmin() {
	s.mux.Handle("POST /admin/v1/fund", s.admin(s.adminFund))
	s.mux.Handle("POST /admin/v1/withdraw", s.admin(s.adminWithdraw))
	s.mux.Handle("POST /admin/v1/orders", s.admin(s.adminPlace))
	s.mux.Handle("POST /admin/v1/orders/cancel", s.admin(s.adminCancel))
	s.mux.Handle("GET /admin/v1/balances", s.admin(s.adminBalances))
	s.mux.Handle("GET /admin/v1/verify", s.admin(s.adminVerify))
	s.mux.Handle("GET /admin/v1/orders/{id}", s.admin(s.adminOrder))
	s.routeMarkets()
}

type adminHandler func(w http.ResponseWriter, r *http.Request) error

func (s *Server) admin(h adminHandler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		tok, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
		if !ok || s.AdminToken == "" || subtle.ConstantTimeCompare([]byte(tok), []byte(s.AdminToken)) != 1 {
			w.Header().Set("WWW-Authenticate", `Bearer realm="twinex-admin"`)
			writeJSON(w, http.StatusUnauthorized, errorBody{Result: "error", Reason: twinex.InvalidSignature, Message: "A valid admin token is required"})
			return
		}
		if err := h(w, r); err != nil {
			s.writeError(w, r, err)
		}
	})
}

func (s *Server) adminFund(w http.ResponseWriter, r *http.Request) error {
	return s.adminFunds(w, r, core.DepositFunds)
}

func (s *Server) adminWithdraw(w http.ResponseWriter, r *http.Request) error {
	return s.adminFunds(w, r, core.WithdrawFunds)
}

// adminFunds deposits or withdraws for an account.
func (s *Server) adminFunds(w http.ResponseWriter, r *http.Request, kind core.CommandKind) error {
	var req struct {
		accountRef
		Currency string         `json:"currency"`
		Amount   requestDecimal `json:"amount"`
	}
	if err := decodeBody(r, &req); err != nil {
		return err
	}
	acct, err := s.resolve(r.Context(), req.accountRef)
	if err != nil {
		return err
	}
	cur, err := s.currency(req.Currency)
	if err != nil {
		return err
	}
	what := "deposit"
	if kind == core.WithdrawFunds {
		what = "withdrawal"
	}
	amt, err := cur.ParseAmount(req.Amount.String(), what)
	if err != nil {
		return err
	}
	res, err := s.do(r.Context(), core.Command{Kind: kind, AccountID: acct.ID, Currency: cur.Code, Funds: amt, Method: "Admin"})
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, transferJSON(res.Transfers[0], cur))
	return nil
}

func transferJSON(t twinex.Transfer, cur *twinex.Currency) admin.Transfer {
	return admin.Transfer{
		EID: t.ID, Type: t.Kind.String(), AccountID: t.AccountID, Currency: t.Currency,
		Amount: twinex.FormatUnits(t.Amount, cur.Scale), Timestampms: t.Time / 1e6,
	}
}

func (s *Server) adminPlace(w http.ResponseWriter, r *http.Request) error {
	var req struct {
		accountRef
		Session       string          `json:"session"`
		ClientOrderID string          `json:"client_order_id"`
		Symbol        string          `json:"symbol"`
		Side          string          `json:"side"`
		Type          string          `json:"type"`
		Price         *requestDecimal `json:"price"`
		StopPrice     *requestDecimal `json:"stop_price"`
		Amount        *requestDecimal `json:"amount"`
		Options       json.RawMessage `json:"options"`
	}
	if err := decodeBody(r, &req); err != nil {
		return err
	}
	acct, err := s.resolve(r.Context(), req.accountRef)
	if err != nil {
		return err
	}
	f := exchange.OrderRequest{Symbol: req.Symbol, Side: req.Side, Type: req.Type, ClientOrderID: req.ClientOrderID}
	if f.Type == "" {
		f.Type = "exchange limit"
	}
	if len(req.Options) > 0 && string(req.Options) != "null" {
		if err := json.Unmarshal(req.Options, &f.Options); err != nil {
			return twinex.Errorf(twinex.OptionsMustBeArray, "options must be an array of strings")
		}
	}
	if req.Price != nil {
		f.Price, f.HasPrice = (*req.Price).String(), true
	}
	if req.Amount != nil {
		f.Amount, f.HasAmount = (*req.Amount).String(), true
	}
	if req.StopPrice != nil {
		f.StopPrice, f.HasStop = (*req.StopPrice).String(), true
	}
	c, m, err := s.Exchange.ParseOrder(f)
	if err != nil {
		return err
	}
	if req.Session == "" {
		req.Session = "admin"
	}
	res, err := s.Exchange.Place(r.Context(), c, acct.ID, req.Session, twinex.KeyUse{})
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, adminOrder(res.Order, m))
	return nil
}

func (s *Server) adminCancel(w http.ResponseWriter, r *http.Request) error {
	var req struct {
		accountRef
		OrderID int64 `json:"order_id"`
	}
	if err := decodeBody(r, &req); err != nil {
		return err
	}
	if req.OrderID <= 0 {
		return twinex.Errorf(twinex.MissingOrderField, "order_id is required")
	}
	acct, err := s.resolve(r.Context(), req.accountRef)
	if err != nil {
		return err
	}
	res, err := s.do(r.Context(), core.Command{Kind: core.Cancel, AccountID: acct.ID, OrderID: req.OrderID})
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, adminOrder(res.Order, s.Core.Markets().Market(res.Order.Market)))
	return nil
}

func (s *Server) adminBalances(w http.ResponseWriter, r *http.Request) error {
	q := r.URL.Query()
	ref := accountRef{Email: q.Get("email"), Account: q.Get("account")}
	if v := q.Get("account_id"); v != "" {
		id, err := strconv.ParseInt(v, 10, 64)
		if err != nil {
			return twinex.Errorf(twinex.InvalidAccountName, "account_id must be an integer")
		}
		ref.AccountID = id
	}
	acct, err := s.resolve(r.Context(), ref)
	if err != nil {
		return err
	}
	bals, err := s.Core.Balances(context.WithoutCancel(r.Context()), acct.ID)
	if err != nil {
		return coreError(err)
	}
	out := []admin.Balance{}
	for _, b := range bals {
		cur := s.Core.Markets().Currency(b.Currency)
		out = append(out, admin.Balance{
			Currency: b.Currency, Amount: b.Total.FormatUnits(cur.Scale),
			Available: b.Available().FormatUnits(cur.Scale), Held: b.Held.FormatUnits(cur.Scale),
		})
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

func (s *Server) adminVerify(w http.ResponseWriter, r *http.Request) error {
	ver, err := s.Core.Verify(context.WithoutCancel(r.Context()))
	if err != nil {
		return coreError(err)
	}
	v := admin.Verification{OK: ver.Err == nil, OpenOrders: ver.OpenOrders, Accounts: ver.Accounts,
		LastOrderID: ver.Counters.OrderID, LastTradeID: ver.Counters.TradeID, Supply: map[string]string{}}
	for i, cur := range s.Core.Markets().Currencies {
		v.Supply[cur.Code] = ver.Supply[i].FormatUnits(cur.Scale)
	}
	var ce *core.CheckError
	if errors.As(ver.Err, &ce) {
		v.Violations = ce.Violations
	}
	writeJSON(w, http.StatusOK, v)
	return nil
}

func (s *Server) adminOrder(w http.ResponseWriter, r *http.Request) error {
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil || id <= 0 {
		return twinex.Errorf(twinex.MissingOrderField, "order id must be a positive integer")
	}
	o, err := s.Store.Order(r.Context(), id)
	if errors.Is(err, twinex.ErrNotFound) {
		return twinex.Errorf(twinex.OrderNotFound, "Order %d not found", id)
	}
	if err != nil {
		return err
	}
	m := s.Core.Markets().Market(o.Market)
	if m == nil {
		return fmt.Errorf("order %d is in unknown market %q", id, o.Market)
	}
	writeJSON(w, http.StatusOK, adminOrder(o, m))
	return nil
}

// adminUser finds the user an admin request names by email; an unknown
// one is InvalidAccountName.
func (s *Server) adminUser(r *http.Request, email string) (twinex.User, error) {
	u, err := s.Accounts.UserByEmail(r.Context(), email)
	if errors.Is(err, twinex.ErrNotFound) {
		return u, twinex.Errorf(twinex.InvalidAccountName, "No such user")
	}
	return u, err
}

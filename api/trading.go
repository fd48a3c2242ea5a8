package api

import (
	"context"
	"encoding/json"
	"net/http"
	"strconv"

	"github.com/twinex/twinex"
	"github.com/twinex/twinex/core"
	"github.com/twinex/twinex/exchange"
	"github.com/twinex/twinex/gemini"
)

// orderFields are the fields of a new order as text, from either the admin
// API or a Gemini payload.
func (s *Server) routePrivate() {
	const (
		trader    = twinex.RoleTrader
		reader    = twinex.RoleTrader | twinex.RoleAuditor
		anyRole   = twinex.RoleTrader | twinex.RoleFundManager | twinex.RoleAuditor | twinex.RoleAdministrator
		fundRoles = twinex.RoleTrader | twinex.RoleFundManager | twinex.RoleAuditor
	)
	s.private("/v1/roles", 0, groupScope, s.roles)
	s.private("/v1/heartbeat", trader, groupScope, s.heartbeat)
	s.private("/v1/balances", fundRoles, accountScope, s.balances)
	s.privateWrite("/v1/order/new", trader, accountScope, s.newOrder)
	s.privateWrite("/v1/order/cancel", trader, accountScope, s.cancelOrder)
	s.privateWrite("/v1/order/cancel/session", trader, accountScope, s.cancelMany(core.CancelSession))
	s.privateWrite("/v1/order/cancel/all", trader, accountScope, s.cancelMany(core.CancelAll))
	s.private("/v1/order/status", reader, accountScope, s.orderStatus)
	s.private("/v1/orders", reader, accountScope, s.activeOrders)
	s.private("/v1/mytrades", reader, accountScope, s.myTrades)
	s.private("/v1/account", anyRole, accountScope, s.accountDetail)
	s.routeFunds()
}

// doSigned runs a state-changing command with the key's use made durable
// with it.
func (s *Server) doSigned(ctx context.Context, c *signed, cmd core.Command) (core.Result, error) {
	res, err := s.Core.DoUse(context.WithoutCancel(ctx), cmd, c.use)
	if err != nil {
		return res, coreError(err)
	}
	c.durable = true
	return res, res.Err
}

func (s *Server) roles(w http.ResponseWriter, r *http.Request, c *signed) error {
	v := rolesReply{
		IsAuditor:     c.key.Roles&twinex.RoleAuditor != 0,
		IsFundManager: c.key.Roles&twinex.RoleFundManager != 0,
		IsTrader:      c.key.Roles&twinex.RoleTrader != 0,
	}
	if c.key.Master {
		admin := c.key.Roles&twinex.RoleAdministrator != 0
		v.IsAccountAdmin, v.CounterpartyID = &admin, counterpartyID(c.key.UserID)
	}
	writeJSON(w, http.StatusOK, v)
	return nil
}

// rolesReply is the answer of /v1/roles: gemini.Roles, except that a master
// key's isAccountAdmin is sent even when false, which the client's
// omitempty bool cannot say.
type rolesReply struct {
	CounterpartyID string `json:"counterparty_id,omitempty"` // master keys only
	IsAccountAdmin *bool  `json:"isAccountAdmin,omitempty"`  // master keys only
	IsAuditor      bool   `json:"isAuditor"`
	IsFundManager  bool   `json:"isFundManager"`
	IsTrader       bool   `json:"isTrader"`
}

// counterpartyID is a stable Gemini-style counterparty id for a group.
func counterpartyID(userID int64) string {
	const letters = "ABCDEFGHJKLMNPQRSTUVWXYZ"
	b := []byte("TWX")
	for v := uint64(userID)*2654435761 + 7; len(b) < 8; v /= 24 {
		b = append(b, letters[v%24])
	}
	return string(b)
}

// okReply is Gemini's {"result":"ok"}, the answer of the heartbeat.
type okReply struct {
	Result string `json:"result"`
}

var resultOK = okReply{Result: "ok"}

func (s *Server) heartbeat(w http.ResponseWriter, r *http.Request, c *signed) error {
	writeJSON(w, http.StatusOK, resultOK)
	return nil
}

func (s *Server) balances(w http.ResponseWriter, r *http.Request, c *signed) error {
	bals, err := s.balanceList(r.Context(), c.account.ID)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, bals)
	return nil
}

// balanceList renders an account's non-zero balances as Gemini's balance
// objects (reference §3.11).
func (s *Server) balanceList(ctx context.Context, accountID int64) ([]gemini.Balance, error) {
	bals, err := s.Core.Balances(context.WithoutCancel(ctx), accountID)
	if err != nil {
		return nil, coreError(err)
	}
	out := []gemini.Balance{}
	for _, b := range bals {
		cur := s.Core.Markets().Currency(b.Currency)
		if b.Total.IsZero() || cur == nil {
			continue
		}
		// Balances are wide (twinex.Int128); Gemini's amounts are decimal
		// strings, so any value shows exactly.
		avail := gemini.Decimal(b.Available().FormatUnits(cur.Scale))
		out = append(out, gemini.Balance{
			Type: "exchange", Currency: b.Currency, Amount: gemini.Decimal(b.Total.FormatUnits(cur.Scale)),
			Available: avail, AvailableForWithdrawal: avail,
		})
	}
	return out, nil
}

func (s *Server) newOrder(w http.ResponseWriter, r *http.Request, c *signed) error {
	p := c.payload
	var req exchange.OrderRequest
	var err error
	if p.has("client_order_id") {
		if req.ClientOrderID, err = p.str("client_order_id"); err != nil {
			return twinex.Errorf(twinex.ClientOrderIdMustBeStr, "client_order_id must be a string")
		}
	}
	for name, dst := range map[string]*string{"symbol": &req.Symbol, "side": &req.Side, "type": &req.Type} {
		if *dst, err = p.str(name); err != nil {
			return err
		}
	}
	req.Amount, req.HasAmount = p.decimal("amount")
	req.Price, req.HasPrice = p.decimal("price")
	req.StopPrice, req.HasStop = p.decimal("stop_price")
	if p.has("amount") && !req.HasAmount {
		return twinex.Errorf(twinex.InvalidQuantity, "amount must be a decimal string or number")
	}
	if p.has("price") && !req.HasPrice {
		return twinex.Errorf(twinex.InvalidPrice, "price must be a decimal string or number")
	}
	if opts := p["options"]; len(opts) > 0 && string(opts) != "null" {
		if err := json.Unmarshal(opts, &req.Options); err != nil {
			return twinex.Errorf(twinex.OptionsMustBeArray, "options must be an array of strings")
		}
	}
	cmd, m, err := s.Exchange.ParseOrder(req)
	if err != nil {
		return err
	}
	res, err := s.Exchange.Place(r.Context(), cmd, c.account.ID, c.key.ID, c.use)
	// A refusal by the engine went through the sequencer too.
	c.durable = err == nil || res.Err != nil
	if err != nil {
		if res.Err != nil { // the engine refused it: order events say so
			cmd.AccountID, cmd.Session = c.account.ID, c.key.ID
			s.noticeRejected(cmd, m, twinex.ErrorReason(err))
		}
		return err
	}
	writeJSON(w, http.StatusOK, orderObject(res.Order, m))
	return nil
}

// orderID reads the payload's order_id (a JSON number or string).
func orderID(p payload) (int64, error) {
	id, ok, err := p.int("order_id")
	if err != nil || (ok && id <= 0) {
		return 0, twinex.Errorf(twinex.OrderNotFound, "Order not found")
	}
	if !ok {
		return 0, twinex.Errorf(twinex.MissingOrderField, "Missing order_id")
	}
	return id, nil
}

// givenOrderID reports whether the payload names an order by order_id: a
// JSON null, 0 or "0" is "not given", as Gemini's SDK sends 0 when it looks
// an order up by client_order_id. Anything else that is present counts,
// so that a malformed id still gets orderID's error.
func givenOrderID(p payload) bool {
	if !p.has("order_id") {
		return false
	}
	v, ok := p.decimal("order_id")
	return !ok || v != "0"
}

// storedOrder returns an order of the account from the store, or
// OrderNotFound: other accounts' orders are not found, not forbidden.
func (s *Server) storedOrder(ctx context.Context, accountID, id int64) (twinex.Order, error) {
	return s.Exchange.Order(ctx, accountID, id)
}

func (s *Server) cancelOrder(w http.ResponseWriter, r *http.Request, c *signed) error {
	id, err := orderID(c.payload)
	if err != nil {
		return err
	}
	o, cancelled, err := s.Exchange.Cancel(r.Context(), c.account.ID, id, c.use)
	if err != nil {
		return err
	}
	c.durable = true
	if !cancelled {
		// Already closed: answered with the order, as Gemini does
		// (reference §3.3), and told to order events as cancel_rejected.
		s.noticeCancelRejected(o)
	}
	writeJSON(w, http.StatusOK, orderObject(o, s.Core.Markets().Market(o.Market)))
	return nil
}

func (s *Server) cancelMany(kind core.CommandKind) signedHandler {
	return func(w http.ResponseWriter, r *http.Request, c *signed) error {
		res, err := s.doSigned(r.Context(), c, core.Command{Kind: kind, AccountID: c.account.ID, Session: c.key.ID})
		if err != nil {
			return err
		}
		// gemini.ID writes the ids as the JSON numbers Gemini documents.
		v := gemini.CancelResult{Result: "ok", Details: gemini.CancelDetails{CancelRejects: []gemini.ID{}, CancelledOrders: []gemini.ID{}}}
		for _, id := range res.Cancelled {
			v.Details.CancelledOrders = append(v.Details.CancelledOrders, gemini.ID(strconv.FormatInt(id, 10)))
		}
		writeJSON(w, http.StatusOK, v)
		return nil
	}
}

func (s *Server) orderStatus(w http.ResponseWriter, r *http.Request, c *signed) error {
	p := c.payload
	var o twinex.Order
	// Gemini's official SDK sends "order_id": 0 beside client_order_id: a
	// zero (or absent) order_id means "not given", so the client order id
	// decides (issue 18).
	if givenOrderID(p) {
		id, err := orderID(p)
		if err != nil {
			return err
		}
		if o, err = s.storedOrder(r.Context(), c.account.ID, id); err != nil {
			return err
		}
	} else {
		coid, err := p.str("client_order_id")
		if err != nil {
			return twinex.Errorf(twinex.ClientOrderIdMustBeStr, "client_order_id must be a string")
		}
		if coid == "" {
			return twinex.Errorf(twinex.MissingOrderField, "Missing order_id or client_order_id")
		}
		// Several orders may share a client order id; the newest wins.
		list, err := s.Store.Orders(r.Context(), twinex.OrderQuery{AccountID: c.account.ID, ClientOrderID: coid, Limit: 1})
		if err != nil {
			return err
		}
		if len(list) == 0 {
			return twinex.Errorf(twinex.OrderNotFound, "Order with client_order_id %q not found", coid)
		}
		o = list[0]
	}
	m := s.Core.Markets().Market(o.Market)
	v := orderObject(o, m)
	include, err := p.bool("include_trades")
	if err != nil {
		return err
	}
	if include {
		trades, err := s.Store.Trades(r.Context(), twinex.TradeQuery{OrderID: o.ID, Limit: 500})
		if err != nil {
			return err
		}
		v.Trades = s.myTradesJSON(trades, c.account.ID)
	}
	writeJSON(w, http.StatusOK, v)
	return nil
}

func (s *Server) activeOrders(w http.ResponseWriter, r *http.Request, c *signed) error {
	orders, err := s.Core.AccountOrders(context.WithoutCancel(r.Context()), c.account.ID)
	if err != nil {
		return coreError(err)
	}
	out := []orderReply{}
	for _, o := range orders {
		out = append(out, orderObject(o, s.Core.Markets().Market(o.Market)))
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

// limitField reads a limit (default def, at most max).
func limitField(p payload, name string, def, max int) (int, error) {
	v, ok, err := p.int(name)
	if err != nil || (ok && v <= 0) {
		return 0, twinex.Errorf(twinex.InvalidJson, "%s must be a positive integer", name)
	}
	if !ok {
		return def, nil
	}
	return int(min(v, int64(max))), nil
}

// sinceField reads a "timestamp" in seconds or milliseconds (reference
// §0.1: a value above 1e11 is milliseconds) as Unix ns; 0 when absent.
func sinceField(p payload, name string) (int64, error) {
	v, ok, err := p.int(name)
	if !ok && err == nil {
		return 0, nil
	}
	if err != nil || v < 0 || v > 1e15 {
		return 0, twinex.Errorf(twinex.InvalidTimestampInPayload, "%s must be a time in seconds or milliseconds", name)
	}
	if v > 1e11 {
		return v * 1e6, nil
	}
	return v * 1e9, nil
}

func (s *Server) myTrades(w http.ResponseWriter, r *http.Request, c *signed) error {
	p := c.payload
	q := twinex.TradeQuery{AccountID: c.account.ID}
	sym, err := p.str("symbol")
	if err != nil {
		return err
	}
	if sym != "" {
		m := s.Core.Markets().Market(sym)
		if m == nil {
			return twinex.Errorf(twinex.InvalidSymbol, "Supplied value %q is not a valid symbol", sym)
		}
		q.Market = m.Symbol
	}
	if q.Limit, err = limitField(p, "limit_trades", 50, 500); err != nil {
		return err
	}
	if q.After, err = sinceField(p, "timestamp"); err != nil {
		return err
	}
	trades, err := s.Store.Trades(r.Context(), q)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, s.myTradesJSON(trades, c.account.ID))
	return nil
}

// myTradesJSON renders trades from one account's side (reference §3.8),
// never nil.
func (s *Server) myTradesJSON(trades []twinex.Trade, accountID int64) []gemini.MyTrade {
	out := []gemini.MyTrade{}
	for _, t := range trades {
		m := s.Core.Markets().Market(t.Market)
		if m == nil {
			continue
		}
		f := exchange.FillOf(t, accountID)
		maker, side, orderID, fee := f.Maker, f.Side, f.OrderID, f.Fee
		typ := "Buy"
		if side == twinex.Sell {
			typ = "Sell"
		}
		out = append(out, gemini.MyTrade{
			Price: gemini.Decimal(m.FormatPrice(t.Price)), Amount: gemini.Decimal(m.FormatAmount(t.Amount)),
			Timestamp: t.Time / 1e9, Timestampms: t.Time / 1e6, Type: typ,
			Aggressor: !maker, FeeCurrency: m.Quote, FeeAmount: gemini.Decimal(twinex.FormatUnits(fee, m.QuoteScale())),
			TID: t.ID, OrderID: strconv.FormatInt(orderID, 10), Exchange: "gemini", Symbol: m.Base + m.Quote,
		})
	}
	return out
}

func (s *Server) accountDetail(w http.ResponseWriter, r *http.Request, c *signed) error {
	u, err := s.Accounts.User(r.Context(), c.user)
	if err != nil {
		return err
	}
	a, err := s.Accounts.Account(r.Context(), c.account.ID)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, gemini.AccountDetail{
		Account: gemini.AccountInfo{AccountName: a.Name, ShortName: a.Nickname, Type: a.Type, Created: a.Created / 1e6},
		Users: []gemini.User{{Name: u.Email, Status: "Enabled", CountryCode: "US",
			IsVerified: u.Identity == twinex.IdentityVerified}},
		MemoReferenceCode: "TWX" + strconv.FormatInt(a.ID, 36),
	})
	return nil
}

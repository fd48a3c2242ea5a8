package web

import (
	"context"
	"encoding/csv"
	"errors"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/twinex/twinex"
	"github.com/twinex/twinex/exchange"
)

// The trader's pages: balances with transfers and (sandbox) test funds,
// and each account's open orders, order history and fills. Every rule is
// the exchange service's, which the API calls too; these handlers only
// read forms and say the service's answers in words.

// pageSize is how many orders or fills one page shows.
const pageSize = 25

// onePage cuts a list read with limit pageSize+1 (newest first) to one
// page, and returns the id to read older ones before: 0 when this is the
// last page.
func onePage[T any](xs []T, id func(T) int64) ([]T, int64) {
	if len(xs) <= pageSize {
		return xs, 0
	}
	return xs[:pageSize], id(xs[pageSize-1])
}

// exportMax bounds the rows of one CSV export.
const exportMax = 10000

// balanceRow is one currency of one account, formatted.
type balanceRow struct {
	Currency, Available, Held, Total string
}

// accountBalances is one account with its balances.
type accountBalances struct {
	Account twinex.Account
	Rows    []balanceRow
}

// grantRow is one currency's test funds, formatted.
type grantRow struct {
	Currency, Amount, Max string
}

// movementRow is one deposit, withdrawal or transfer, formatted.
type movementRow struct {
	Time                   int64
	What, Currency, Amount string
	Detail                 string
}

type balancesView struct {
	Accounts   []accountBalances
	Movements  []movementRow  // the chosen account's latest
	Chosen     twinex.Account // whose movements are listed
	Grants     []grantRow     // the sandbox's test funds; none in production
	Currencies []string
	Selected   string // the account the forms start on
	Other      string // the account the transfer goes to at first
}

// formatUnits is a ledger amount in a currency's units with thousands
// separators ("12,500.5"); the currency's display decimals at least.
func formatUnits(v int64, cur *twinex.Currency) string {
	return formatWide(twinex.I128(v), cur)
}

// formatWide is formatUnits for a balance, which may be past int64.
func formatWide(v twinex.Int128, cur *twinex.Currency) string {
	return group(string(v.AppendUnits(nil, cur.Scale, min(cur.Display, cur.Scale))))
}

// group puts thousands separators in a decimal's integer part.
func group(s string) string {
	sign := ""
	if strings.HasPrefix(s, "-") {
		sign, s = "-", s[1:]
	}
	whole, frac, hasFrac := strings.Cut(s, ".")
	var b strings.Builder
	for i, c := range whole {
		if i > 0 && (len(whole)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(c)
	}
	if hasFrac {
		return sign + b.String() + "." + frac
	}
	return sign + b.String()
}

// grantRows are the sandbox's test funds; none in production.
func (s *Server) grantRows() []grantRow {
	if s.Exchange == nil || s.Exchange.Faucet == nil {
		return nil
	}
	var out []grantRow
	for _, g := range s.Exchange.Faucet.Grants {
		out = append(out, grantRow{Currency: g.Currency.Code, Amount: group(twinex.FormatUnits(g.Amount, g.Currency.Scale)), Max: group(twinex.FormatUnits(g.Max, g.Currency.Scale))})
	}
	return out
}

// balancesOf returns each of the accounts with its balances.
func (s *Server) balancesOf(ctx context.Context, accounts []twinex.Account) ([]accountBalances, error) {
	ms := s.Exchange.Core.Markets()
	ids := make([]int64, len(accounts))
	for i, a := range accounts {
		ids[i] = a.ID
	}
	all, err := s.Exchange.BalancesOf(ctx, ids)
	if err != nil {
		return nil, err
	}
	out := make([]accountBalances, 0, len(accounts))
	for _, a := range accounts {
		bals := all[a.ID]
		ab := accountBalances{Account: a}
		// In the markets' currency order, so that every account reads
		// the same way.
		for _, c := range ms.Currencies {
			for _, b := range bals {
				if b.Currency != c.Code || (b.Total.IsZero() && b.Held.IsZero()) {
					continue
				}
				cur := ms.Currency(c.Code)
				ab.Rows = append(ab.Rows, balanceRow{Currency: c.Code, Available: formatWide(b.Available(), cur),
					Held: formatWide(b.Held, cur), Total: formatWide(b.Total, cur)})
			}
		}
		out = append(out, ab)
	}
	return out, nil
}

// balances shows every account's balances, the transfer form and, in the
// sandbox, the test-funds form.
func (s *Server) balances(w http.ResponseWriter, r *http.Request) {
	s.renderBalances(w, r, http.StatusOK, view{})
}

func (s *Server) renderBalances(w http.ResponseWriter, r *http.Request, status int, v view) {
	ctx := r.Context()
	list, err := s.Accounts.Accounts(ctx, state(r).user.ID)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	bv := balancesView{Selected: r.URL.Query().Get("account")}
	if bv.Accounts, err = s.balancesOf(ctx, list); err != nil {
		s.fail(w, r, err)
		return
	}
	for _, c := range s.Exchange.Core.Markets().Currencies {
		bv.Currencies = append(bv.Currencies, c.Code)
	}
	bv.Grants = s.grantRows()
	if len(list) > 0 {
		bv.Chosen = list[0]
		for _, a := range list {
			if a.Nickname == bv.Selected {
				bv.Chosen = a
			}
		}
		if bv.Movements, err = s.movements(ctx, bv.Chosen, list); err != nil {
			s.tradeFailed(w, r, err)
			return
		}
	}
	for _, a := range list {
		if a.Nickname != bv.Selected && (bv.Selected != "" || a.ID != list[0].ID) {
			bv.Other = a.Nickname
			break
		}
	}
	v.Title, v.Nav, v.Data = "Balances", "balances", bv
	s.render(w, r, status, "balances.html", v)
}

// movementsShown is how many movements the balances page lists.
const movementsShown = 10

// movements are an account's latest deposits, withdrawals and transfers.
func (s *Server) movements(ctx context.Context, a twinex.Account, group []twinex.Account) ([]movementRow, error) {
	list, err := s.Exchange.Transfers(ctx, a.ID, 0, movementsShown)
	if err != nil {
		return nil, err
	}
	names := map[int64]string{}
	for _, x := range group {
		names[x.ID] = x.Name
	}
	ms := s.Exchange.Core.Markets()
	var out []movementRow
	for _, t := range list {
		cur := ms.Currency(t.Currency)
		if cur == nil {
			continue
		}
		row := movementRow{Time: t.Time, Currency: cur.Code, Amount: formatUnits(t.Amount, cur)}
		switch t.Kind {
		case twinex.Deposit:
			row.What = "Deposit"
			if t.Method == "Sandbox" {
				row.What, row.Detail = "Test funds", "sandbox money"
			}
		case twinex.Withdrawal:
			row.What, row.Amount, row.Detail = "Withdrawal", "−"+row.Amount, t.Destination
		case twinex.TransferIn:
			row.What, row.Detail = "Transfer in", "from "+names[t.Counterparty]
		case twinex.TransferOut:
			row.What, row.Amount, row.Detail = "Transfer out", "−"+row.Amount, "to "+names[t.Counterparty]
		}
		out = append(out, row)
	}
	return out, nil
}

// addTestFunds tops up one currency of one account (sandbox only).
func (s *Server) addTestFunds(w http.ResponseWriter, r *http.Request) {
	u := state(r).user
	nick, cur := r.PostFormValue("fund_account"), r.PostFormValue("fund_currency")
	form := map[string]string{"fund_account": nick, "fund_currency": cur}
	g, added, err := s.Exchange.TopUp(r.Context(), u.ID, nick, cur)
	if err != nil {
		var te *twinex.Error
		if !errors.As(err, &te) || te.Reason == twinex.Maintenance {
			s.tradeFailed(w, r, err)
			return
		}
		fields := map[string]string{}
		switch te.Reason {
		case twinex.InvalidAccountName:
			fields["fund_account"] = "Choose one of your accounts."
		case twinex.InvalidFundTransfer:
			fields["fund_currency"] = "Choose a currency from the list."
		case exchange.TestFundsLimit:
			fields["fund_currency"] = "Your accounts already hold " + group(twinex.FormatUnits(g.Max, g.Currency.Scale)) + " " + g.Currency.Code +
				" or more together, the most this sandbox tops up to. Choose another currency."
		default:
			fields["fund_currency"] = te.Message + "."
		}
		s.renderBalances(w, r, http.StatusUnprocessableEntity, view{Error: "No test funds were added.", Fields: fields, Form: form})
		return
	}
	s.audit(r, u.ID, "test_funds", formatUnits(added, g.Currency)+" "+g.Currency.Code+" to "+nick)
	http.Redirect(w, r, "/balances?m=test_funds&account="+url.QueryEscape(nick), http.StatusSeeOther)
}

// transfer moves funds between two of the user's accounts, under the
// rules of /v1/account/transfer.
func (s *Server) transfer(w http.ResponseWriter, r *http.Request) {
	u := state(r).user
	req := exchange.TransferRequest{UserID: u.ID, From: r.PostFormValue("from"), To: r.PostFormValue("to"),
		Currency: r.PostFormValue("currency"), Amount: formAmount(r.PostFormValue("amount"))}
	form := map[string]string{"from": req.From, "to": req.To, "currency": req.Currency, "amount": r.PostFormValue("amount")}
	t, err := s.Exchange.Transfer(r.Context(), req, twinex.KeyUse{})
	if err != nil {
		var te *twinex.Error
		if !errors.As(err, &te) || te.Reason == twinex.Maintenance {
			s.tradeFailed(w, r, err)
			return
		}
		fields := map[string]string{}
		switch te.Reason {
		case twinex.MissingAccountName, twinex.InvalidAccountName:
			if req.From == "" || !s.ownsAccount(r, req.From) {
				fields["from"] = "Choose one of your accounts."
			}
			if req.To == "" || !s.ownsAccount(r, req.To) {
				fields["to"] = "Choose one of your accounts."
			}
		case twinex.InvalidFundTransfer:
			if s.Exchange.Core.Markets().Currency(req.Currency) == nil {
				fields["currency"] = "Choose a currency from the list."
			} else {
				fields["to"] = "Choose an account other than the one the funds come from."
			}
		case twinex.InvalidQuantity:
			fields["amount"] = "Enter an amount above zero, such as 250 or 0.5."
			if c := s.Exchange.Core.Markets().Currency(req.Currency); c != nil && req.Amount != "" {
				fields["amount"] = "Enter an amount above zero with at most " + strconv.Itoa(c.Display) + " decimals."
			}
		case twinex.InsufficientFunds:
			fields["amount"] = "That is more than the account has available (funds held by open orders cannot move)."
			if avail, ok := s.available(r, req.From, req.Currency); ok {
				fields["amount"] = "That is more than the " + avail + " available in " + req.From + " (funds held by open orders cannot move)."
			}
		default:
			fields["amount"] = te.Message + "."
		}
		s.renderBalances(w, r, http.StatusUnprocessableEntity, view{Error: "Nothing was transferred. Please correct the highlighted fields.", Fields: fields, Form: form})
		return
	}
	s.audit(r, u.ID, "transfer", formatUnits(t.Amount, t.Currency)+" "+t.Currency.Code+" from "+t.From.Nickname+" to "+t.To.Nickname)
	http.Redirect(w, r, "/balances?m=transferred&account="+url.QueryEscape(t.From.Nickname), http.StatusSeeOther)
}

// available is an account's available balance of a currency, in words.
func (s *Server) available(r *http.Request, nick, code string) (string, bool) {
	a, err := s.Exchange.OwnAccount(r.Context(), state(r).user.ID, nick)
	cur := s.Exchange.Core.Markets().Currency(code)
	if err != nil || cur == nil {
		return "", false
	}
	bals, err := s.Exchange.Balances(r.Context(), a.ID)
	if err != nil {
		return "", false
	}
	var v twinex.Int128
	for _, b := range bals {
		if b.Currency == cur.Code {
			v = b.Available()
		}
	}
	return formatWide(v, cur) + " " + cur.Code, true
}

func (s *Server) ownsAccount(r *http.Request, nick string) bool {
	_, err := s.Exchange.OwnAccount(r.Context(), state(r).user.ID, nick)
	return err == nil
}

// tradeFailed answers an error that is not the user's: maintenance as a
// 503 with its message, anything else as a 500.
func (s *Server) tradeFailed(w http.ResponseWriter, r *http.Request, err error) {
	if twinex.ErrorReason(err) == twinex.Maintenance {
		s.errorPage(w, r, http.StatusServiceUnavailable, "The exchange is in maintenance", "Nothing was changed. Please try again in a moment.")
		return
	}
	s.fail(w, r, err)
}

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

// tickerRow is a market's last price, 24-hour change and volume.
type tickerRow struct {
	Symbol, Base, Quote, Status, MinOrder, Tick string
	Last, Change, Volume, QuoteVolume           string
	Direction                                   string // "up", "down" or ""
}

// percent turns a fraction ("0.0244") into a signed percentage ("+2.44%").
func percent(frac string) (string, string) {
	r, ok := new(ratParser).parse(frac)
	if !ok {
		return "—", ""
	}
	switch {
	case r > 0:
		return "+" + formatBasis(r) + "%", "up"
	case r < 0:
		return "−" + formatBasis(-r) + "%", "down"
	}
	return "0.00%", ""
}

// ratParser reads a fraction with four decimals as basis points.
type ratParser struct{}

func (ratParser) parse(frac string) (int64, bool) {
	neg := strings.HasPrefix(frac, "-")
	frac = strings.TrimPrefix(frac, "-")
	whole, dec, _ := strings.Cut(frac, ".")
	if len(dec) != 4 {
		return 0, false
	}
	w, err1 := strconv.ParseInt(whole, 10, 64)
	d, err2 := strconv.ParseInt(dec, 10, 64)
	if err1 != nil || err2 != nil {
		return 0, false
	}
	v := w*10000 + d
	if neg {
		v = -v
	}
	return v, true
}

// formatBasis formats basis points as a percentage with two decimals.
func formatBasis(bp int64) string {
	return group(strconv.FormatInt(bp/100, 10)) + "." + strconv.FormatInt(bp%100/10, 10) + strconv.FormatInt(bp%10, 10)
}

package web

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"strconv"
	"strings"

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

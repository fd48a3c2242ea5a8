package api

import (
	"errors"
	"fmt"
	"net/http"
	"sort"
	"strconv"
	"strings"

	"github.com/twinex/twinex"
	"github.com/twinex/twinex/exchange"
)

// MaxAccountsPerGroup bounds the accounts of one group.
const MaxAccountsPerGroup = 100

func (s *Server) routeMaster() {
	s.privateWrite("/v1/account/create", twinex.RoleAdministrator, masterScope, s.accountCreate)
	s.private("/v1/account/list", 0, masterScope, s.accountList)
	s.privateWrite("/v1/account/transfer/{currency}", twinex.RoleFundManager, masterScope, s.accountTransfer)
	s.private("/v1/transactions", 0, masterScope, s.transactions)
}

func (s *Server) accountCreate(w http.ResponseWriter, r *http.Request, c *signed) error {
	name, err := c.payload.str("name")
	if err != nil {
		return err
	}
	name = strings.TrimSpace(name)
	if name == "" {
		return twinex.Errorf(twinex.MissingName, "A name is required")
	}
	typ, err := c.payload.str("type")
	if err != nil {
		return err
	}
	if typ != "" && typ != "exchange" {
		return twinex.Errorf(twinex.InvalidAccountType, "Only exchange accounts are available")
	}
	nick := twinex.Nickname(name)
	if nick == "" || len(name) > 100 {
		return twinex.Errorf(twinex.InvalidAccountName, "The name must have letters or digits and at most 100 characters")
	}
	list, err := s.Accounts.Accounts(r.Context(), c.user)
	if err != nil {
		return err
	}
	if len(list) >= MaxAccountsPerGroup {
		return twinex.Errorf("ExceededMaxAccountsInGroup", "A group has at most %d accounts", MaxAccountsPerGroup)
	}
	a := twinex.Account{UserID: c.user, Name: name, Nickname: nick, Type: "exchange", Created: s.now().UnixNano()}
	if err := s.touch(r.Context(), c); err != nil {
		return err
	}
	if err := s.Accounts.CreateAccount(r.Context(), &a); errors.Is(err, twinex.ErrConflict) {
		return twinex.Errorf(twinex.ConflictingAccountName, "An account named %s already exists in the group", nick)
	} else if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]string{"account": a.Nickname, "type": a.Type})
	return nil
}

func (s *Server) accountList(w http.ResponseWriter, r *http.Request, c *signed) error {
	limit, err := limitField(c.payload, "limit_accounts", 500, 500)
	if err != nil {
		return err
	}
	list, err := s.Accounts.Accounts(r.Context(), c.user)
	if err != nil {
		return err
	}
	out := []map[string]any{}
	for i, a := range list {
		if i == limit {
			break
		}
		out = append(out, map[string]any{"name": a.Name, "account": a.Nickname, "type": a.Type,
			"counterparty_id": counterpartyID(c.user), "created": a.Created / 1e6, "status": "open"})
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

func (s *Server) accountTransfer(w http.ResponseWriter, r *http.Request, c *signed) error {
	if s.Core.Markets().Currency(r.PathValue("currency")) == nil {
		return twinex.Errorf(twinex.InvalidFundTransfer, "Unknown currency %q", r.PathValue("currency"))
	}
	p := c.payload
	src, err := p.str("sourceAccount")
	if err != nil {
		return err
	}
	dst, err := p.str("targetAccount")
	if err != nil {
		return err
	}
	clientID, err := p.str("clientTransferId")
	if err != nil {
		return err
	}
	amount, _ := p.decimal("amount")
	t, err := s.Exchange.Transfer(r.Context(), exchange.TransferRequest{UserID: c.user, Currency: r.PathValue("currency"),
		From: src, To: dst, Amount: amount, ClientID: clientID}, c.use)
	if err != nil {
		return err
	}
	id := strconv.FormatInt(t.Out.ID, 10)
	writeJSON(w, http.StatusOK, map[string]any{
		"fromAccount": t.From.Nickname, "toAccount": t.To.Nickname, "amount": twinex.FormatUnits(t.Amount, t.Currency.Scale),
		"fee": "0", "currency": t.Currency.Name, "withdrawalId": id, "uuid": id, "message": "Success, transfer completed.",
	})
	return nil
}

// txn is one trade or transfer of /v1/transactions, in its order.
type txn struct {
	time  int64
	kind  int // 0 trade, 1 transfer
	id    int64
	value map[string]any
}

// after reports whether x comes after the cursor c.
func (x txn) after(c txn) bool {
	if x.time != c.time {
		return x.time > c.time
	}
	if x.kind != c.kind {
		return x.kind > c.kind
	}
	return x.id > c.id
}

// transactions lists the group's trades and transfers oldest first from
// timestamp_nanos (reference §3.14). The continuation token is the position
// of the last result; the next page starts after it.
func (s *Server) transactions(w http.ResponseWriter, r *http.Request, c *signed) error {
	p := c.payload
	limit, err := limitField(p, "limit", 100, 300)
	if err != nil {
		return err
	}
	from, _, err := p.int("timestamp_nanos")
	if err != nil || from < 0 {
		return twinex.Errorf(twinex.InvalidTimestampInPayload, "timestamp_nanos must be a time in nanoseconds")
	}
	token, err := p.str("continuation_token")
	if err != nil {
		return err
	}
	var cursor txn
	cursor.time = from - 1
	if token != "" {
		if _, err := fmt.Sscanf(token, "%d.%d.%d", &cursor.time, &cursor.kind, &cursor.id); err != nil {
			return twinex.Errorf(twinex.InvalidJson, "continuation_token is not one this server issued")
		}
	}
	accounts, err := s.Accounts.Accounts(r.Context(), c.user)
	if err != nil {
		return err
	}
	var all []txn
	start := max(from, cursor.time)
	for _, a := range accounts {
		trades, err := s.Store.Trades(r.Context(), twinex.TradeQuery{AccountID: a.ID, After: start, Limit: limit + 100, Ascending: true})
		if err != nil {
			return err
		}
		for i, v := range s.myTradesJSON(trades, a.ID) {
			v["account"] = a.Nickname
			all = append(all, txn{time: trades[i].Time, kind: 0, id: trades[i].ID, value: v})
		}
		transfers, err := s.Store.Transfers(r.Context(), twinex.TransferQuery{AccountID: a.ID, After: start, Limit: limit + 100, Ascending: true})
		if err != nil {
			return err
		}
		for _, t := range transfers {
			cur := s.Core.Markets().Currency(t.Currency)
			if cur == nil {
				continue
			}
			v := geminiTransferJSON(t, cur)
			v["account"] = a.Nickname
			all = append(all, txn{time: t.Time, kind: 1, id: t.ID, value: v})
		}
	}
	sort.Slice(all, func(i, j int) bool { return all[j].after(all[i]) })
	results := []map[string]any{}
	var last txn
	for _, x := range all {
		if !x.after(cursor) {
			continue
		}
		if len(results) == limit {
			break
		}
		results = append(results, x.value)
		last = x
	}
	out := map[string]any{"results": results}
	if len(results) == limit {
		out["continuationToken"] = fmt.Sprintf("%d.%d.%d", last.time, last.kind, last.id)
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

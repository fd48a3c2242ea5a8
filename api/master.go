package api

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"sort"
	"strconv"

	"github.com/twinex/twinex"
	"github.com/twinex/twinex/exchange"
	"github.com/twinex/twinex/gemini"
)

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
	typ, err := c.payload.str("type")
	if err != nil {
		return err
	}
	// The nonce mark is durable before the account exists (it is made
	// outside the sequencer).
	if err := s.touch(r.Context(), c); err != nil {
		return err
	}
	a, err := s.Users.CreateAccount(r.Context(), c.user, name, typ)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, gemini.CreatedAccount{Account: a.Nickname, Type: a.Type})
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
	out := []gemini.AccountSummary{}
	for i, a := range list {
		if i == limit {
			break
		}
		out = append(out, gemini.AccountSummary{Name: a.Name, Account: a.Nickname, Type: a.Type,
			CounterpartyID: counterpartyID(c.user), Created: a.Created / 1e6, Status: "open"})
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
	writeJSON(w, http.StatusOK, gemini.AccountTransferResult{
		FromAccount: t.From.Nickname, ToAccount: t.To.Nickname, Amount: gemini.Decimal(twinex.FormatUnits(t.Amount, t.Currency.Scale)),
		Fee: "0", Currency: t.Currency.Name, WithdrawalID: id, UUID: id, Message: "Success, transfer completed.",
	})
	return nil
}

// txn is one trade or transfer of /v1/transactions, in its order; render
// builds its row, for the rows of the page only.
type txn struct {
	time    int64
	kind    int // 0 trade, 1 transfer
	id      int64
	account int64               // a trade between two accounts of the group is a row for each
	render  func() (any, error) // a transactionTrade or a transactionTransfer
}

// after reports whether x comes after the cursor c: by time, then trades
// before transfers, then id, then account.
func (x txn) after(c txn) bool {
	if x.time != c.time {
		return x.time > c.time
	}
	if x.kind != c.kind {
		return x.kind > c.kind
	}
	if x.id != c.id {
		return x.id > c.id
	}
	return x.account > c.account
}

// transactions lists the group's trades and transfers oldest first from
// timestamp_nanos (reference §3.14), in the shapes of Gemini's spec (issue
// 18): a trade row has isAggressor, feeAmount, feeAssetCode, orderId (a
// number), clientOrderId ("" when the order had none), isAuctionFill,
// isClearingFill, side ("buy" or "sell") and type "trade"; a transfer row
// has transferType (Deposit or Withdrawal), transactionHash, and for a move
// between the group's accounts source and destination naming them. The
// continuation token is the position of the last result; the next page
// starts after it. It is sent only when the page is full.
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
		if n, _ := fmt.Sscanf(token, "%d.%d.%d.%d", &cursor.time, &cursor.kind, &cursor.id, &cursor.account); n < 3 {
			return twinex.Errorf(twinex.InvalidJson, "continuation_token is not one this server issued")
		}
	}
	// Each account's trades and transfers are read from the cursor on, in
	// id order (ids grow with time): from the cursor's own id when it is of
	// that kind (the other account of a trade within the group may follow
	// it), else from its time. limit+2 rows of each cover the page.
	tq := twinex.TradeQuery{After: max(from, cursor.time), Limit: limit + 2, Ascending: true}
	fq := twinex.TransferQuery{After: max(from, cursor.time), Limit: limit + 2, Ascending: true}
	if token != "" {
		switch cursor.kind {
		case 0:
			tq.After, tq.AfterID = from, cursor.id-1
		default:
			tq.After = max(from, cursor.time+1) // trades at the cursor's time came before it
			fq.After, fq.AfterID = from, cursor.id-1
		}
	}
	all, err := s.transactionRows(r.Context(), c.user, tq, fq)
	if err != nil {
		return err
	}
	sort.Slice(all, func(i, j int) bool { return all[j].after(all[i]) })
	results := []any{}
	var last txn
	for _, x := range all {
		if !x.after(cursor) {
			continue
		}
		if len(results) == limit {
			break
		}
		v, err := x.render()
		if err != nil {
			return err
		}
		results = append(results, v)
		last = x
	}
	out := transactionsReply{Results: results}
	if len(results) == limit {
		out.ContinuationToken = fmt.Sprintf("%d.%d.%d.%d", last.time, last.kind, last.id, last.account)
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

// transactionRows reads the trades and transfers of every account of the
// group from the queries' bounds on, each as a txn that renders its row.
func (s *Server) transactionRows(ctx context.Context, user int64, tq twinex.TradeQuery, fq twinex.TransferQuery) ([]txn, error) {
	accounts, err := s.Accounts.Accounts(ctx, user)
	if err != nil {
		return nil, err
	}
	nick := map[int64]string{}
	for _, a := range accounts {
		nick[a.ID] = a.Nickname
	}
	clientIDs := map[int64]string{} // order id -> client order id, read once
	clientOrderID := func(id int64) (string, error) {
		if v, ok := clientIDs[id]; ok {
			return v, nil
		}
		o, err := s.Store.Order(ctx, id)
		if err != nil && !errors.Is(err, twinex.ErrNotFound) {
			return "", err
		}
		clientIDs[id] = o.ClientOrderID
		return o.ClientOrderID, nil
	}
	var all []txn
	for _, a := range accounts {
		tq.AccountID, fq.AccountID = a.ID, a.ID
		trades, err := s.Store.Trades(ctx, tq)
		if err != nil {
			return nil, err
		}
		for _, t := range trades {
			m := s.Core.Markets().Market(t.Market)
			if m == nil {
				continue
			}
			a := a
			all = append(all, txn{time: t.Time, kind: 0, id: t.ID, account: a.ID, render: func() (any, error) {
				f := exchange.FillOf(t, a.ID)
				coid, err := clientOrderID(f.OrderID)
				if err != nil {
					return nil, err
				}
				return transactionTrade{
					Type: "trade", Account: a.Nickname, Symbol: m.Base + m.Quote, Side: f.Side.String(),
					Price: m.FormatPrice(t.Price), Amount: m.FormatAmount(t.Amount),
					Timestampms: t.Time / 1e6, TID: t.ID, OrderID: f.OrderID, ClientOrderID: coid,
					IsAggressor: !f.Maker, FeeAmount: twinex.FormatUnits(f.Fee, m.QuoteScale()), FeeAssetCode: m.Quote,
					Exchange: "gemini",
				}, nil
			}})
		}
		transfers, err := s.Store.Transfers(ctx, fq)
		if err != nil {
			return nil, err
		}
		for _, t := range transfers {
			cur := s.Core.Markets().Currency(t.Currency)
			if cur == nil {
				continue
			}
			a := a
			all = append(all, txn{time: t.Time, kind: 1, id: t.ID, account: a.ID, render: func() (any, error) {
				return transactionTransferJSON(t, cur, a.Nickname, nick), nil
			}})
		}
	}
	return all, nil
}

// transactionTransferJSON renders a transfer as a row of /v1/transactions:
// the /v1/transfers fields under the spec's names (transferType,
// transactionHash, clientTransferId), with the account, and for a move
// between the group's accounts their nicknames as source and destination.
func transactionTransferJSON(t twinex.Transfer, cur *twinex.Currency, account string, nick map[int64]string) transactionTransfer {
	v := transactionTransfer{
		Account: account, Status: "Complete", Timestampms: t.Time / 1e6, EID: t.ID,
		Currency: t.Currency, Amount: twinex.FormatUnits(t.Amount, cur.Scale),
		TransactionHash: t.TxHash, ClientTransferID: t.ClientID,
	}
	switch t.Kind {
	case twinex.Deposit, twinex.TransferIn:
		v.TransferType, v.Method = "Deposit", t.Method
	default:
		v.TransferType = "Withdrawal"
	}
	switch t.Kind {
	case twinex.TransferIn:
		src := nick[t.Counterparty]
		v.Purpose, v.Source, v.Destination = "Internal", &src, &account
	case twinex.TransferOut:
		dst := nick[t.Counterparty]
		v.Purpose, v.Source, v.Destination = "Internal", &account, &dst
	case twinex.Withdrawal:
		v.Destination, v.WithdrawalID = &t.Destination, withdrawalID(t)
	}
	return v
}

// transactionsReply is the answer of /v1/transactions, and
// transactionTrade and transactionTransfer its two kinds of rows. They
// are the server's own rather than gemini.Transaction, which decodes both
// kinds into one struct whose omitempty would drop the false flags and
// empty names these rows send. The fields are in the order of their JSON
// names, as the golden files pin.
type transactionsReply struct {
	ContinuationToken string `json:"continuationToken,omitempty"` // only when the page is full
	Results           []any  `json:"results"`
}

type transactionTrade struct {
	Account        string `json:"account"`
	Amount         string `json:"amount"`
	ClientOrderID  string `json:"clientOrderId"` // "" when the order had none
	Exchange       string `json:"exchange"`
	FeeAmount      string `json:"feeAmount"`
	FeeAssetCode   string `json:"feeAssetCode"`
	IsAggressor    bool   `json:"isAggressor"`
	IsAuctionFill  bool   `json:"isAuctionFill"`
	IsClearingFill bool   `json:"isClearingFill"`
	OrderID        int64  `json:"orderId"` // a JSON number here
	Price          string `json:"price"`
	Side           string `json:"side"`
	Symbol         string `json:"symbol"`
	TID            int64  `json:"tid"`
	Timestampms    int64  `json:"timestampms"`
	Type           string `json:"type"` // "trade"
}

type transactionTransfer struct {
	Account          string  `json:"account"`
	Amount           string  `json:"amount"`
	ClientTransferID string  `json:"clientTransferId,omitempty"`
	Currency         string  `json:"currency"`
	Destination      *string `json:"destination,omitempty"` // internal moves and withdrawals, even when ""
	EID              int64   `json:"eid"`
	Method           string  `json:"method,omitempty"` // deposits
	Purpose          string  `json:"purpose,omitempty"`
	Source           *string `json:"source,omitempty"` // internal moves, even when ""
	Status           string  `json:"status"`
	Timestampms      int64   `json:"timestampms"`
	TransactionHash  string  `json:"transactionHash,omitempty"`
	TransferType     string  `json:"transferType"` // Deposit, Withdrawal
	WithdrawalID     string  `json:"withdrawalId,omitempty"`
}

// Package exchange is the account-facing service over the sequencer:
// balances, open orders, order history, fills, cancelling, transfers
// between a group's own accounts and the sandbox's test funds. The Gemini
// API and the dashboard both call it, so that each rule has one home; money
// moves only through commands to the core.
package exchange

import (
	"context"
	"errors"
	"fmt"
	"sync"

	"github.com/twinex/twinex"
	"github.com/twinex/twinex/core"
	"github.com/twinex/twinex/engine"
)

// Service answers for accounts. Core, Store and Accounts are required;
// Faucet is nil outside the sandbox (no test funds).
type Service struct {
	Core     *core.Core
	Store    twinex.ExchangeStore
	Accounts twinex.AccountStore
	Faucet   *Faucet

	topUp sync.Mutex // makes a top-up's check and deposit one step
}

// MaxPage bounds a page of history.
const MaxPage = 500

// do runs a command and folds the two error paths into one. The command
// runs to its end even if the caller goes away: once queued it may execute,
// and the caller should not be told otherwise.
func (s *Service) do(ctx context.Context, c engine.Command, use twinex.KeyUse) (engine.Result, error) {
	res, err := s.Core.DoUse(context.WithoutCancel(ctx), c, use)
	if err != nil {
		return res, CoreError(err)
	}
	return res, res.Err
}

// CoreError turns the core's shutdown into Gemini's Maintenance; other
// errors are returned as they are.
func CoreError(err error) error {
	if errors.Is(err, core.ErrClosed) {
		return &twinex.Error{Reason: twinex.Maintenance, Message: "The Gemini Exchange is currently undergoing maintenance. Please try again shortly.", Err: err}
	}
	return err
}

// Balances returns an account's balances, one per currency it ever held,
// read in order with the commands before it (read-your-writes).
func (s *Service) Balances(ctx context.Context, accountID int64) ([]twinex.Balance, error) {
	var bals []twinex.Balance
	if err := s.Core.Inspect(context.WithoutCancel(ctx), func(x *engine.Exchange) { bals = x.Ledger().Balances(accountID) }); err != nil {
		return nil, CoreError(err)
	}
	return bals, nil
}

// BalancesOf returns the balances of several accounts (by id) in one
// read, for pages that show a whole group.
func (s *Service) BalancesOf(ctx context.Context, accountIDs []int64) (map[int64][]twinex.Balance, error) {
	out := make(map[int64][]twinex.Balance, len(accountIDs))
	err := s.Core.Inspect(context.WithoutCancel(ctx), func(x *engine.Exchange) {
		for _, id := range accountIDs {
			out[id] = x.Ledger().Balances(id)
		}
	})
	if err != nil {
		return nil, CoreError(err)
	}
	return out, nil
}

// OpenOrders returns an account's live orders (resting and pending stops).
func (s *Service) OpenOrders(ctx context.Context, accountID int64) ([]twinex.Order, error) {
	var orders []twinex.Order
	if err := s.Core.Inspect(context.WithoutCancel(ctx), func(x *engine.Exchange) { orders = x.OpenOrders(accountID) }); err != nil {
		return nil, CoreError(err)
	}
	return orders, nil
}

// OrderHistory returns up to limit (at most MaxPage) of an account's
// closed orders, newest first, older than the order beforeID (0: from the
// newest).
func (s *Service) OrderHistory(ctx context.Context, accountID, beforeID int64, limit int) ([]twinex.Order, error) {
	list, err := s.Store.Orders(ctx, twinex.OrderQuery{AccountID: accountID, ClosedOnly: true, BeforeID: beforeID, Limit: min(max(limit, 1), MaxPage)})
	if err != nil {
		return nil, fmt.Errorf("order history: %w", err)
	}
	return list, nil
}

// Order returns an order of the account from the store, or OrderNotFound:
// other accounts' orders are not found, not forbidden.
func (s *Service) Order(ctx context.Context, accountID, id int64) (twinex.Order, error) {
	o, err := s.Store.Order(ctx, id)
	if errors.Is(err, twinex.ErrNotFound) || (err == nil && o.AccountID != accountID) {
		return twinex.Order{}, twinex.Errorf(twinex.OrderNotFound, "Order %d not found", id)
	}
	return o, err
}

// Cancel cancels an account's open order and reports whether this call
// cancelled it. Cancelling an order that is already closed answers with it
// (and false), as Gemini does (reference §3.3); OrderNotFound when the
// account has no such order. use is the API key's use made durable with
// the command (zero from the dashboard).
func (s *Service) Cancel(ctx context.Context, accountID, id int64, use twinex.KeyUse) (twinex.Order, bool, error) {
	if id <= 0 {
		return twinex.Order{}, false, twinex.Errorf(twinex.OrderNotFound, "Order not found")
	}
	res, err := s.do(ctx, engine.Command{Kind: engine.Cancel, AccountID: accountID, OrderID: id}, use)
	if twinex.ErrorReason(err) == twinex.OrderNotFound {
		o, err := s.Order(ctx, accountID, id)
		return o, false, err
	}
	if err != nil {
		return twinex.Order{}, false, err
	}
	return res.Order, true, nil
}

// Fill is one trade from one account's side.
type Fill struct {
	twinex.Trade
	Side    twinex.Side
	OrderID int64
	Fee     int64 // in the market's quote currency, ledger units
	Maker   bool  // the account was the maker (its order was resting)
}

// FillOf returns the trade as the account saw it. A trade between two
// orders of the same account is shown from the taker's side (with Maker
// set, as Gemini's "aggressor": false).
func FillOf(t twinex.Trade, accountID int64) Fill {
	maker := t.MakerAccount == accountID
	f := Fill{Trade: t, Side: t.TakerSide, OrderID: t.TakerOrderID, Fee: t.TakerFee, Maker: maker}
	if maker && t.TakerAccount != accountID {
		f.Side, f.OrderID, f.Fee = t.TakerSide.Opposite(), t.MakerOrderID, t.MakerFee
	}
	return f
}

// Fills returns up to limit (at most MaxPage) of an account's fills,
// newest first, older than the trade beforeID (0: from the newest).
func (s *Service) Fills(ctx context.Context, accountID, beforeID int64, limit int) ([]Fill, error) {
	trades, err := s.Store.Trades(ctx, twinex.TradeQuery{AccountID: accountID, BeforeID: beforeID, Limit: min(max(limit, 1), MaxPage)})
	if err != nil {
		return nil, fmt.Errorf("fills: %w", err)
	}
	out := make([]Fill, len(trades))
	for i, t := range trades {
		out[i] = FillOf(t, accountID)
	}
	return out, nil
}

// Transfers returns up to limit (at most MaxPage) of an account's
// transfers (deposits, withdrawals, moves between accounts), newest first,
// older than the transfer beforeID (0: from the newest).
func (s *Service) Transfers(ctx context.Context, accountID, beforeID int64, limit int) ([]twinex.Transfer, error) {
	list, err := s.Store.Transfers(ctx, twinex.TransferQuery{AccountID: accountID, BeforeID: beforeID, Limit: min(max(limit, 1), MaxPage)})
	if err != nil {
		return nil, fmt.Errorf("transfers: %w", err)
	}
	return list, nil
}

// TransferRequest moves funds between two accounts of one group, named by
// their nicknames (the API's "account" values).
type TransferRequest struct {
	UserID   int64  // the group's owner
	Currency string // a currency code, any case
	From, To string // account nicknames
	Amount   string // a positive decimal in the currency's units
	ClientID string // the caller's id for the transfer (optional)
}

// Transferred is a completed transfer.
type Transferred struct {
	From, To twinex.Account
	Currency *twinex.Currency
	Amount   int64 // ledger units
	Out      twinex.Transfer
}

// Transfer moves funds between two of the group's accounts, the rules of
// /v1/account/transfer/:currency: InvalidFundTransfer for an unknown
// currency or the same account twice, MissingAccountName when either name
// is empty, InvalidAccountName when either is not in the group,
// InvalidQuantity for a missing, malformed or non-positive amount,
// InsufficientFunds when the source's available balance is short.
func (s *Service) Transfer(ctx context.Context, req TransferRequest, use twinex.KeyUse) (Transferred, error) {
	cur := s.Core.Markets().Currency(req.Currency)
	if cur == nil {
		return Transferred{}, twinex.Errorf(twinex.InvalidFundTransfer, "Unknown currency %q", req.Currency)
	}
	if req.From == "" || req.To == "" {
		return Transferred{}, twinex.Errorf(twinex.MissingAccountName, "sourceAccount and targetAccount are required")
	}
	list, err := s.Accounts.Accounts(ctx, req.UserID)
	if err != nil {
		return Transferred{}, err
	}
	find := func(nick string) *twinex.Account {
		for i := range list {
			if list[i].Nickname == nick {
				return &list[i]
			}
		}
		return nil
	}
	from, to := find(req.From), find(req.To)
	if from == nil || to == nil {
		return Transferred{}, twinex.Errorf(twinex.InvalidAccountName, "Both accounts must be in the group")
	}
	if req.Amount == "" {
		return Transferred{}, twinex.Errorf(twinex.InvalidQuantity, "amount is required")
	}
	amt, err := cur.ParseTransferAmount(req.Amount)
	if err != nil {
		return Transferred{}, err
	}
	res, err := s.do(ctx, engine.Command{Kind: engine.TransferFunds, AccountID: from.ID, ToAccount: to.ID,
		Currency: cur.Code, Funds: amt, ClientID: req.ClientID}, use)
	if err != nil {
		return Transferred{}, err
	}
	return Transferred{From: *from, To: *to, Currency: cur, Amount: amt, Out: res.Transfers[0]}, nil
}

// OwnAccount returns the user's account with the nickname, or
// InvalidAccountName.
func (s *Service) OwnAccount(ctx context.Context, userID int64, nick string) (twinex.Account, error) {
	list, err := s.Accounts.Accounts(ctx, userID)
	if err != nil {
		return twinex.Account{}, err
	}
	for _, a := range list {
		if a.Nickname == nick {
			return a, nil
		}
	}
	return twinex.Account{}, twinex.Errorf(twinex.InvalidAccountName, "No account %q in the group", nick)
}

// Ticker is a market's last price and 24-hour figures, from the snapshot
// the sequencer last published (the numbers the public API serves).
type Ticker struct {
	Market      *twinex.Market
	Status      twinex.MarketStatus // which orders the market accepts now
	Last        int64               // price units; 0 when the market never traded
	Change      string              // (last-open)/open as a fraction, "0.0244"
	Volume      int64               // base, market amount units
	QuoteVolume twinex.Int128       // quote, ledger units
}

// Tickers returns every market's ticker, in the markets' order.
func (s *Service) Tickers() []Ticker {
	ms := s.Core.Markets()
	out := make([]Ticker, 0, len(ms.List))
	for i, m := range ms.List {
		t := Ticker{Market: m, Status: m.Status}
		if snap := s.Core.Snapshot(i); snap != nil {
			t.Status = snap.Status
			st := snap.Stats
			t.Last, t.Change, t.Volume, t.QuoteVolume = st.Last, st.Change(), st.Volume, st.QuoteVolume
		}
		out = append(out, t)
	}
	return out
}

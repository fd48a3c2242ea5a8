package exchange

import (
	"context"
	"fmt"
	"strings"

	"github.com/twinex/twinex"
	"github.com/twinex/twinex/engine"
)

// TestFundsLimit is the reason of a top-up refused because the account
// already holds the most test funds the operator allows.
const TestFundsLimit = "TestFundsLimit"

// Faucet is the sandbox's test funds: what a new user's primary account
// starts with, and what one "Add test funds" adds, up to a cap per
// currency. Production has none.
type Faucet struct {
	// Grants are in currency order (the markets' list), in ledger units.
	Grants []Grant
}

// Grant is one currency's test funds, in ledger units: Amount is given at
// sign-up and added by each top-up, which never takes the account's total
// above Max.
type Grant struct {
	Currency *twinex.Currency
	Amount   int64
	Max      int64
}

// DefaultGrants are the sandbox's test funds when the operator sets none:
// the amount of each currency given at sign-up and per top-up, and the
// most an account may hold through top-ups (ten top-ups' worth).
var DefaultGrants = map[string][2]string{
	"USD": {"10000", "100000"},
	"BTC": {"1", "10"},
	"ETH": {"10", "100"},
	"SOL": {"100", "1000"},
	"LTC": {"100", "1000"},
}

// NewFaucet builds a faucet for the markets' currencies from decimal
// amounts by currency code: grants[code] = {amount, max}. A currency
// missing from grants gets no test funds; an unknown code, a malformed or
// non-positive amount, or a max below the amount is an error.
func NewFaucet(ms *twinex.Markets, grants map[string][2]string) (*Faucet, error) {
	for code := range grants {
		if c := ms.Currency(code); c == nil || c.Code != code {
			return nil, fmt.Errorf("test funds: unknown currency %q (use the markets' codes, such as USD)", code)
		}
	}
	f := &Faucet{}
	for i := range ms.Currencies {
		cur := ms.Currency(ms.Currencies[i].Code)
		g, ok := grants[cur.Code]
		if !ok {
			continue
		}
		amt, err := twinex.ParseUnits(g[0], cur.Scale)
		if err != nil || amt <= 0 {
			return nil, fmt.Errorf("test funds: %s amount %q: want a positive decimal", cur.Code, g[0])
		}
		top, err := twinex.ParseUnits(g[1], cur.Scale)
		if err != nil || top < amt {
			return nil, fmt.Errorf("test funds: %s max %q: want a decimal at least the amount %s", cur.Code, g[1], g[0])
		}
		f.Grants = append(f.Grants, Grant{Currency: cur, Amount: amt, Max: top})
	}
	return f, nil
}

// DefaultFaucet is NewFaucet with DefaultGrants for those of the markets'
// currencies that have one.
func DefaultFaucet(ms *twinex.Markets) *Faucet {
	grants := map[string][2]string{}
	for code, g := range DefaultGrants {
		if ms.Currency(code) != nil {
			grants[code] = g
		}
	}
	f, err := NewFaucet(ms, grants)
	if err != nil {
		panic(err) // the defaults are valid for every scale a currency may have
	}
	return f
}

// Grant returns the currency's grant, nil when it has none.
func (f *Faucet) Grant(code string) *Grant {
	for i := range f.Grants {
		if strings.EqualFold(f.Grants[i].Currency.Code, code) {
			return &f.Grants[i]
		}
	}
	return nil
}

// Welcome gives a new account its test funds, one deposit per currency,
// once: an account that already had a deposit or transfer gets nothing,
// so calling it again (a second verification link) gives nothing more. A
// failed deposit stops it and is returned; the user can top up from the
// dashboard. Without a faucet (production) it does nothing.
func (s *Service) Welcome(ctx context.Context, accountID int64) error {
	if s.Faucet == nil {
		return nil
	}
	s.topUp.Lock()
	defer s.topUp.Unlock()
	had, err := s.Store.Transfers(ctx, twinex.TransferQuery{AccountID: accountID, Limit: 1})
	if err != nil {
		return fmt.Errorf("test funds: %w", err)
	}
	if len(had) > 0 {
		return nil
	}
	for _, g := range s.Faucet.Grants {
		if _, err := s.do(ctx, engine.Command{Kind: engine.DepositFunds, AccountID: accountID, Currency: g.Currency.Code, Funds: g.Amount, Method: "Sandbox"}, twinex.KeyUse{}); err != nil {
			return fmt.Errorf("test funds: %s: %w", g.Currency.Code, err)
		}
	}
	return nil
}

// TopUp adds one grant of the currency's test funds to an account of the
// user's group, less whatever would take the group's total (all its
// accounts together) above the grant's Max, and returns the amount added.
// The cap counts the group, not the account, so that moving funds to
// another account of the group and topping up again gains nothing.
// Reasons: EndpointNotFound without a faucet (production),
// InvalidAccountName for an account not in the group, InvalidFundTransfer
// for a currency without test funds, TestFundsLimit when the group already
// holds Max.
func (s *Service) TopUp(ctx context.Context, userID int64, nick, currency string) (Grant, int64, error) {
	if s.Faucet == nil {
		return Grant{}, 0, twinex.Errorf(twinex.EndpointNotFound, "Test funds exist only in the sandbox")
	}
	acct, err := s.OwnAccount(ctx, userID, nick)
	if err != nil {
		return Grant{}, 0, err
	}
	g := s.Faucet.Grant(currency)
	if g == nil {
		return Grant{}, 0, twinex.Errorf(twinex.InvalidFundTransfer, "There are no test funds in %q", currency)
	}
	// One top-up at a time, so that two clicks cannot both pass the check
	// below before either deposit lands.
	s.topUp.Lock()
	defer s.topUp.Unlock()
	group, err := s.Accounts.Accounts(ctx, userID)
	if err != nil {
		return *g, 0, fmt.Errorf("test funds: %w", err)
	}
	ids := make([]int64, len(group))
	for i, a := range group {
		ids[i] = a.ID
	}
	bals, err := s.BalancesOf(ctx, ids)
	if err != nil {
		return *g, 0, err
	}
	var total twinex.Int128 // balances are wide; their sum, too
	for _, list := range bals {
		for _, b := range list {
			if b.Currency == g.Currency.Code {
				total = total.Add(b.Total)
			}
		}
	}
	// room is g.Max-total, or <= 0 when total does not fit an int64 (then
	// it is far past any faucet maximum).
	room, ok := twinex.I128(g.Max).Sub(total).Int64()
	if !ok {
		room = min(room, 0)
	}
	add := min(g.Amount, room)
	if add <= 0 {
		return *g, 0, twinex.Errorf(TestFundsLimit, "Your accounts already hold %s %s or more together, the most this sandbox tops up to",
			twinex.FormatUnits(g.Max, g.Currency.Scale), g.Currency.Code)
	}
	if _, err := s.do(ctx, engine.Command{Kind: engine.DepositFunds, AccountID: acct.ID, Currency: g.Currency.Code, Funds: add, Method: "Sandbox"}, twinex.KeyUse{}); err != nil {
		return *g, 0, err
	}
	return *g, add, nil
}

// Package ledger keeps balances and applies the exchange's posting rules:
// holds for open orders, settlement of fills with fees, deposits,
// withdrawals and transfers. It is pure state: no clock, no I/O, no
// goroutines; the engine's sequencer is its only caller, so it has no locks.
//
// Every single amount (a hold, a fill, a deposit) is an int64 count of the
// currency's ledger unit (twinex.Currency.Scale); balances and supplies,
// which accumulate them, are twinex.Int128. The supply of a currency
// (deposits minus withdrawals) is bounded by MaxSupply, so no balance, no
// hold, and no sum of balances of one currency, can overflow.
package ledger

import (
	"fmt"
	"math/bits"
	"sort"

	"github.com/twinex/twinex"
)

// maxSupply bounds the net deposits of one currency: 10^36 ledger units.
// That is 10^26 USD at USD's scale of 10^-10, and 10^18 whole units at the
// finest scale a currency may have (10^-18): every currency can hold far
// more than the 10^12 of its display unit a large exchange needs. It is
// also far below Int128's 1.7e38, so the sum of all balances of a currency
// plus any int64 amount cannot overflow.
var maxSupply, _ = twinex.I128(1e18).MulInt64(1e18)

// MaxSupply returns the bound on the net deposits of one currency, in
// ledger units. Since balances are never negative, it bounds every balance
// and every hold of that currency too.
func MaxSupply() twinex.Int128 { return maxSupply }

// Balance is one currency's balance inside an Account.
type Balance struct {
	Total twinex.Int128
	Held  twinex.Int128
	dirty bool
}

// Account holds an account's balances, indexed by currency index.
type Account struct {
	ID       int64
	Balances []Balance
	Fees     twinex.FeeRates
	feeDirty bool
}

// Available returns the unreserved balance of currency c.
func (a *Account) Available(c int) twinex.Int128 {
	return a.Balances[c].Total.Sub(a.Balances[c].Held)
}

// Ledger is the set of all accounts' balances and the supply of each
// currency.
type Ledger struct {
	currencies []twinex.Currency
	index      map[string]int
	accounts   map[int64]*Account
	supply     []twinex.Int128
	dirtyBal   []balanceRef
	dirtySup   []bool
	dirtyFees  []*Account
}

type balanceRef struct {
	acct *Account
	cur  int
}

// New returns an empty ledger for the given currencies.
func New(currencies []twinex.Currency) *Ledger {
	l := &Ledger{
		currencies: currencies,
		index:      make(map[string]int, len(currencies)),
		accounts:   make(map[int64]*Account),
		supply:     make([]twinex.Int128, len(currencies)),
		dirtySup:   make([]bool, len(currencies)),
	}
	for i, c := range currencies {
		l.index[c.Code] = i
	}
	return l
}

// CurrencyIndex returns the index of a currency code (upper case), or -1.
func (l *Ledger) CurrencyIndex(code string) int {
	if i, ok := l.index[code]; ok {
		return i
	}
	return -1
}

// Currency returns the currency at index i.
func (l *Ledger) Currency(i int) twinex.Currency { return l.currencies[i] }

// Account returns the account with the given id, creating it empty.
func (l *Ledger) Account(id int64) *Account {
	a := l.accounts[id]
	if a == nil {
		a = &Account{ID: id, Balances: make([]Balance, len(l.currencies)), Fees: twinex.DefaultFeeRates}
		l.accounts[id] = a
	}
	return a
}

// DropIfEmpty forgets an account whose balances are all zero, whose fee
// rates are the defaults and which has nothing waiting for TakeChanges. It
// reports whether the account is gone (or never existed).
func (l *Ledger) DropIfEmpty(id int64) bool {
	a := l.accounts[id]
	if a == nil {
		return true
	}
	if a.feeDirty || a.Fees != twinex.DefaultFeeRates {
		return false
	}
	for _, b := range a.Balances {
		if !b.Total.IsZero() || !b.Held.IsZero() || b.dirty {
			return false
		}
	}
	delete(l.accounts, id)
	return true
}

// Len returns the number of accounts.
func (l *Ledger) Len() int { return len(l.accounts) }

// Lookup returns the account with the given id, or nil.
func (l *Ledger) Lookup(id int64) *Account { return l.accounts[id] }

func (l *Ledger) touch(a *Account, c int) {
	if !a.Balances[c].dirty {
		a.Balances[c].dirty = true
		l.dirtyBal = append(l.dirtyBal, balanceRef{a, c})
	}
}

// Hold reserves x of currency c. It returns InsufficientFunds, changing
// nothing, when the available balance is smaller.
func (l *Ledger) Hold(a *Account, c int, x int64) error {
	b := &a.Balances[c]
	if x < 0 || b.Total.Sub(b.Held).Cmp64(x) < 0 {
		return twinex.Errorf(twinex.InsufficientFunds, "Insufficient funds")
	}
	if x > 0 {
		b.Held = b.Held.Add64(x)
		l.touch(a, c)
	}
	return nil
}

// Release returns x of a hold to the available balance.
func (l *Ledger) Release(a *Account, c int, x int64) {
	if x == 0 {
		return
	}
	b := &a.Balances[c]
	b.Held = b.Held.Sub64(x)
	l.touch(a, c)
}

// SpendHeld takes x out of the account from what is held.
func (l *Ledger) SpendHeld(a *Account, c int, x int64) {
	b := &a.Balances[c]
	b.Held = b.Held.Sub64(x)
	b.Total = b.Total.Sub64(x)
	l.touch(a, c)
}

// Credit adds x to the account. Supply bounds keep it from overflowing.
func (l *Ledger) Credit(a *Account, c int, x int64) {
	if x == 0 {
		return
	}
	b := &a.Balances[c]
	b.Total = b.Total.Add64(x)
	l.touch(a, c)
}

// Deposit credits x of currency c from outside the exchange. It returns
// InvalidQuantity for a non-positive amount, and InvalidQuantity with a
// message naming the limit for one that would take the currency's supply
// past MaxSupply.
func (l *Ledger) Deposit(a *Account, c int, x int64) error {
	if x <= 0 {
		return twinex.Errorf(twinex.InvalidQuantity, "Invalid deposit amount: it must be positive")
	}
	if l.supply[c].Add64(x).Cmp(maxSupply) > 0 {
		cur := &l.currencies[c]
		return twinex.Errorf(twinex.InvalidQuantity, "The %s held on the exchange would exceed its limit of %s %s",
			cur.Code, maxSupply.FormatUnits(cur.Scale), cur.Code)
	}
	l.supply[c] = l.supply[c].Add64(x)
	l.dirtySup[c] = true
	l.Credit(a, c, x)
	return nil
}

// Withdraw debits x plus fee of currency c: x leaves the exchange, fee goes
// to the fee account. It returns InvalidQuantity for a non-positive amount
// and InsufficientFunds when the available balance is smaller than x+fee.
func (l *Ledger) Withdraw(a *Account, c int, x, fee int64) error {
	if x <= 0 || fee < 0 {
		return twinex.Errorf(twinex.InvalidQuantity, "Invalid withdrawal amount")
	}
	// x and fee are each an int64; their sum may not be, so it is taken
	// in 128 bits.
	if a.Available(c).Sub64(fee).Cmp64(x) < 0 {
		return twinex.Errorf(twinex.InsufficientFunds, "Insufficient funds")
	}
	b := &a.Balances[c]
	b.Total = b.Total.Sub64(x).Sub64(fee)
	l.touch(a, c)
	l.supply[c] = l.supply[c].Sub64(x)
	l.dirtySup[c] = true
	if fee > 0 {
		l.Credit(l.Account(twinex.FeeAccountID), c, fee)
	}
	return nil
}

// Transfer moves x of currency c between two accounts. It returns
// InvalidFundTransfer for a non-positive amount or the same account twice,
// and InsufficientFunds when the source's available balance is smaller.
func (l *Ledger) Transfer(from, to *Account, c int, x int64) error {
	if x <= 0 || from == to {
		return twinex.Errorf(twinex.InvalidFundTransfer, "Invalid transfer")
	}
	if from.Available(c).Cmp64(x) < 0 {
		return twinex.Errorf(twinex.InsufficientFunds, "Insufficient funds")
	}
	from.Balances[c].Total = from.Balances[c].Total.Sub64(x)
	l.touch(from, c)
	l.Credit(to, c, x)
	return nil
}

// SetFees sets an account's fee rates. Open orders keep the rates they were
// placed with.
func (l *Ledger) SetFees(a *Account, f twinex.FeeRates) error {
	if f.MakerBps < 0 || f.TakerBps < 0 || f.MakerBps > twinex.MaxFeeBps || f.TakerBps > twinex.MaxFeeBps {
		return twinex.Errorf(twinex.InvalidQuantity, "Fee rates must be between 0 and %d basis points", twinex.MaxFeeBps)
	}
	a.Fees = f
	if !a.feeDirty {
		a.feeDirty = true
		l.dirtyFees = append(l.dirtyFees, a)
	}
	return nil
}

// Fee returns floor(notional * bps / 10000): fees are rounded down to the
// ledger unit, in the customer's favour, so that what an order reserves
// always covers them.
func Fee(notional, bps int64) int64 {
	hi, lo := bits.Mul64(uint64(notional), uint64(bps))
	q, _ := bits.Div64(hi, lo, 10000)
	return int64(q)
}

// FeeCeil returns ceil(notional * bps / 10000), the reserve for fees.
func FeeCeil(notional, bps int64) int64 {
	hi, lo := bits.Mul64(uint64(notional), uint64(bps))
	q, r := bits.Div64(hi, lo, 10000)
	if r != 0 {
		q++
	}
	return int64(q)
}

// TakeChanges appends the balances, supplies and fee rates changed since the
// last call to b, and forgets them.
func (l *Ledger) TakeChanges(b *twinex.Batch) {
	for _, r := range l.dirtyBal {
		bal := &r.acct.Balances[r.cur]
		bal.dirty = false
		b.Balances = append(b.Balances, twinex.Balance{AccountID: r.acct.ID, Currency: l.currencies[r.cur].Code, Total: bal.Total, Held: bal.Held})
	}
	l.dirtyBal = l.dirtyBal[:0]
	for c, d := range l.dirtySup {
		if d {
			l.dirtySup[c] = false
			b.Supply = append(b.Supply, twinex.Supply{Currency: l.currencies[c].Code, Net: l.supply[c]})
		}
	}
	for _, a := range l.dirtyFees {
		a.feeDirty = false
		b.FeeRates = append(b.FeeRates, twinex.AccountFees{AccountID: a.ID, FeeRates: a.Fees})
	}
	l.dirtyFees = l.dirtyFees[:0]
}

// Restore loads balances, supplies and fee rates into an empty ledger.
// Unknown currencies are an error: the market configuration lost one that
// still has balances.
func (l *Ledger) Restore(st *twinex.State) error {
	for _, b := range st.Balances {
		c := l.CurrencyIndex(b.Currency)
		if c < 0 {
			if b.Total.IsZero() && b.Held.IsZero() {
				continue
			}
			return fmt.Errorf("restore: account %d holds %s, which is not a configured currency", b.AccountID, b.Currency)
		}
		a := l.Account(b.AccountID)
		a.Balances[c].Total, a.Balances[c].Held = b.Total, b.Held
	}
	for _, s := range st.Supply {
		c := l.CurrencyIndex(s.Currency)
		if c < 0 {
			if s.Net.IsZero() {
				continue
			}
			return fmt.Errorf("restore: supply of %s, which is not a configured currency", s.Currency)
		}
		l.supply[c] = s.Net
	}
	for _, f := range st.FeeRates {
		a := l.Account(f.AccountID)
		a.Fees = f.FeeRates
	}
	return nil
}

// Balances returns the non-zero balances of an account, in currency order.
func (l *Ledger) Balances(id int64) []twinex.Balance {
	a := l.accounts[id]
	if a == nil {
		return nil
	}
	var out []twinex.Balance
	for c, b := range a.Balances {
		if !b.Total.IsZero() || !b.Held.IsZero() {
			out = append(out, twinex.Balance{AccountID: id, Currency: l.currencies[c].Code, Total: b.Total, Held: b.Held})
		}
	}
	return out
}

// Supply returns the net deposits of currency c.
func (l *Ledger) Supply(c int) twinex.Int128 { return l.supply[c] }

// Check verifies the ledger's invariants, given what open orders reserve
// (reserved[account][currency index]): per currency the sum of all balances
// equals the supply, which is within MaxSupply; no held or available
// balance is negative; every account's holds equal what its open orders
// reserve. The sums are taken in 128 bits, which cannot overflow while every
// balance is within MaxSupply. It returns one line per violation, sorted, or
// nil.
func (l *Ledger) Check(reserved map[int64][]twinex.Int128) []string {
	var v []string
	sums := make([]twinex.Int128, len(l.currencies))
	for id, a := range l.accounts {
		for c, b := range a.Balances {
			code := l.currencies[c].Code
			sums[c] = sums[c].Add(b.Total)
			if b.Held.Sign() < 0 {
				v = append(v, fmt.Sprintf("account %d %s: held %v is negative", id, code, b.Held))
			}
			if avail := b.Total.Sub(b.Held); avail.Sign() < 0 {
				v = append(v, fmt.Sprintf("account %d %s: available %v is negative", id, code, avail))
			}
			if b.Total.Cmp(maxSupply) > 0 {
				v = append(v, fmt.Sprintf("account %d %s: total %v is above the limit %v", id, code, b.Total, maxSupply))
			}
			var want twinex.Int128
			if r := reserved[id]; r != nil {
				want = r[c]
			}
			if b.Held != want {
				v = append(v, fmt.Sprintf("account %d %s: held %v but open orders reserve %v", id, code, b.Held, want))
			}
		}
	}
	for id, r := range reserved {
		if l.accounts[id] == nil {
			for c, x := range r {
				if !x.IsZero() {
					v = append(v, fmt.Sprintf("account %d %s: open orders reserve %v but the account has no balances", id, l.currencies[c].Code, x))
				}
			}
		}
	}
	for c, s := range sums {
		if s != l.supply[c] {
			v = append(v, fmt.Sprintf("%s: balances sum to %v but deposits minus withdrawals is %v", l.currencies[c].Code, s, l.supply[c]))
		}
		if l.supply[c].Cmp(maxSupply) > 0 || l.supply[c].Sign() < 0 {
			v = append(v, fmt.Sprintf("%s: deposits minus withdrawals %v is outside 0 to %v", l.currencies[c].Code, l.supply[c], maxSupply))
		}
	}
	sort.Strings(v)
	return v
}

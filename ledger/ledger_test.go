package ledger

import (
	"fmt"
	"math/big"
	"math/rand/v2"
	"reflect"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/twinex/twinex"
)

// harness is a ledger plus what the test's "open orders" reserve, so that
// every test ends with the invariant check (STYLE habit 8).
type harness struct {
	*Ledger
	reserved map[int64][]twinex.Int128
}

// newHarness returns a ledger over the default currencies whose invariants
// are checked when the test ends; on a violation the balances are printed.
func newHarness(t *testing.T) *harness {
	t.Helper()
	h := &harness{Ledger: New(twinex.DefaultMarkets().Currencies), reserved: map[int64][]twinex.Int128{}}
	t.Cleanup(func() {
		if v := h.Check(h.reserved); len(v) > 0 {
			t.Errorf("ledger invariants violated:\n  %s\nstate:\n%s", strings.Join(v, "\n  "), h.dump())
		}
	})
	return h
}

// reserve records that open orders of account id reserve x more of currency c.
func (h *harness) reserve(id int64, c int, x int64) {
	r := h.reserved[id]
	if r == nil {
		r = make([]twinex.Int128, len(h.currencies))
		h.reserved[id] = r
	}
	r[c] = r[c].Add64(x)
}

func (h *harness) cur(t *testing.T, code string) int {
	t.Helper()
	c := h.CurrencyIndex(code)
	if c < 0 {
		t.Fatalf("currency %s is not configured", code)
	}
	return c
}

// dump renders every account's balances and the supplies, sorted.
func (h *harness) dump() string {
	var lines []string
	for id, a := range h.accounts {
		for c, b := range a.Balances {
			if !b.Total.IsZero() || !b.Held.IsZero() {
				lines = append(lines, fmt.Sprintf("  account %d %s: total %v held %v", id, h.currencies[c].Code, b.Total, b.Held))
			}
		}
		lines = append(lines, fmt.Sprintf("  account %d fees: %+v", id, a.Fees))
	}
	for c, s := range h.supply {
		lines = append(lines, fmt.Sprintf("  supply %s: %v", h.currencies[c].Code, s))
	}
	sort.Strings(lines)
	return strings.Join(lines, "\n")
}

func (h *harness) drain() *twinex.Batch {
	b := &twinex.Batch{}
	h.TakeChanges(b)
	return b
}

// refuses runs a call that must fail with the given reason and checks that
// it changed nothing: no balance, supply, fee rate or account, and nothing
// for TakeChanges to report.
func (h *harness) refuses(t *testing.T, what, reason string, call func() error) {
	t.Helper()
	h.drain()
	before, accounts := h.dump(), h.Len()
	err := call()
	if got := twinex.ErrorReason(err); got != reason {
		t.Errorf("%s: reason %q (%v), want %q", what, got, err, reason)
	}
	if after := h.dump(); after != before {
		t.Errorf("%s failed but changed the ledger:\nbefore:\n%s\nafter:\n%s", what, before, after)
	}
	if h.Len() != accounts {
		t.Errorf("%s failed but created an account: %d accounts, had %d", what, h.Len(), accounts)
	}
	if b := h.drain(); !b.Empty() {
		t.Errorf("%s failed but left changes to write: %+v", what, b)
	}
}

func (h *harness) want(t *testing.T, a *Account, c int, total, held int64) {
	t.Helper()
	if b := a.Balances[c]; b.Total != twinex.I128(total) || b.Held != twinex.I128(held) {
		t.Errorf("account %d %s: total %v held %v, want total %d held %d", a.ID, h.currencies[c].Code, b.Total, b.Held, total, held)
	}
}

func (h *harness) deposit(t *testing.T, a *Account, c int, x int64) {
	t.Helper()
	if err := h.Deposit(a, c, x); err != nil {
		t.Fatalf("Deposit(%d, %s, %d): %v", a.ID, h.currencies[c].Code, x, err)
	}
}

func TestHoldReleaseSpendCredit(t *testing.T) {
	h := newHarness(t)
	usd := h.cur(t, "USD")
	a := h.Account(100)
	h.deposit(t, a, usd, 1000)

	if err := h.Hold(a, usd, 400); err != nil {
		t.Fatalf("Hold 400 of 1000: %v", err)
	}
	h.want(t, a, usd, 1000, 400)
	if got := a.Available(usd); got != twinex.I128(600) {
		t.Errorf("available %v, want 600", got)
	}
	h.refuses(t, "Hold more than available", twinex.InsufficientFunds, func() error { return h.Hold(a, usd, 601) })
	b := h.Account(101)
	h.refuses(t, "Hold on an empty balance", twinex.InsufficientFunds, func() error { return h.Hold(b, usd, 1) })
	// A negative hold would raise the available balance; it must be refused.
	h.drain()
	before := h.dump()
	if err := h.Hold(a, usd, -1); err == nil {
		t.Errorf("Hold(-1) succeeded")
	}
	if after := h.dump(); after != before {
		t.Errorf("a refused negative Hold changed the ledger:\n%s\nthen\n%s", before, after)
	}

	if err := h.Hold(a, usd, 600); err != nil { // exactly the available balance
		t.Fatalf("Hold of the whole available balance: %v", err)
	}
	h.want(t, a, usd, 1000, 1000)
	h.Release(a, usd, 300)
	h.want(t, a, usd, 1000, 700)
	// Settlement of a fill: what one account spends from its hold, another
	// is credited, so the balances still sum to the supply.
	h.SpendHeld(a, usd, 200)
	h.want(t, a, usd, 800, 500)
	h.Credit(b, usd, 200)
	h.want(t, b, usd, 200, 0)
	h.reserve(100, usd, 500)
}

func TestDeposit(t *testing.T) {
	h := newHarness(t)
	btc := h.cur(t, "BTC")
	a, b := h.Account(100), h.Account(101)
	for _, x := range []int64{0, -1, -1 << 63} {
		h.refuses(t, fmt.Sprintf("Deposit(%d)", x), twinex.InvalidQuantity, func() error { return h.Deposit(a, btc, x) })
	}
	// Past int64: deposits that sum beyond 2^63 (and 2^64) units, in one
	// account, are exact.
	const step = 1<<63 - 1
	for i := 0; i < 3; i++ {
		h.deposit(t, a, btc, step)
	}
	if got, want := a.Balances[btc].Total.String(), "27670116110564327421"; got != want {
		t.Fatalf("three int64-sized deposits: %s, want %s", got, want)
	}
	// Then to 10 units short of MaxSupply. Reaching it by deposits would
	// take 10^17 of them, so the test sets the state the way they would.
	near := MaxSupply().Sub64(10)
	b.Balances[btc].Total = near.Sub(a.Balances[btc].Total)
	h.supply[btc] = near
	h.refuses(t, "Deposit taking the supply to MaxSupply+1", twinex.InvalidQuantity, func() error { return h.Deposit(b, btc, 11) })
	h.deposit(t, b, btc, 10) // exactly MaxSupply
	if got := h.Supply(btc); got != MaxSupply() {
		t.Errorf("supply %v, want MaxSupply %v", got, MaxSupply())
	}
	err := h.Deposit(b, btc, 1)
	if twinex.ErrorReason(err) != twinex.InvalidQuantity || !strings.Contains(err.Error(), "limit of 10000000000000000000000000 BTC") {
		// The message names the limit, in the currency's own units.
		t.Errorf("Deposit at MaxSupply: %v", err)
	}
	h.refuses(t, "Deposit at MaxSupply", twinex.InvalidQuantity, func() error { return h.Deposit(b, btc, 1) })
	// The bound is per currency.
	h.deposit(t, b, h.cur(t, "ETH"), 1)
	if got := a.Balances[btc].Total.Add(b.Balances[btc].Total); got != MaxSupply() {
		t.Errorf("balances sum to %v, want MaxSupply", got)
	}
	// Withdrawals and transfers of the widest balances stay exact.
	if err := h.Transfer(b, a, btc, step); err != nil {
		t.Fatal(err)
	}
	if err := h.Withdraw(a, btc, step, 5); err != nil {
		t.Fatal(err)
	}
	if got := a.Balances[btc].Total.Add(b.Balances[btc].Total).Add(h.Account(twinex.FeeAccountID).Balances[btc].Total); got != MaxSupply().Sub64(step) {
		t.Errorf("balances sum to %v, want MaxSupply", got)
	}
}

func TestWithdraw(t *testing.T) {
	h := newHarness(t)
	eth := h.cur(t, "ETH")
	a := h.Account(100)
	h.deposit(t, a, eth, 1000)
	if err := h.Hold(a, eth, 300); err != nil {
		t.Fatal(err)
	}
	h.reserve(100, eth, 300)

	for _, c := range []struct{ x, fee int64 }{{0, 0}, {-1, 0}, {1, -1}, {-1 << 63, 0}, {1, -1 << 63}} {
		h.refuses(t, fmt.Sprintf("Withdraw(%d, fee %d)", c.x, c.fee), twinex.InvalidQuantity, func() error { return h.Withdraw(a, eth, c.x, c.fee) })
	}
	// Held funds are not available: 700 is.
	h.refuses(t, "Withdraw 700+1 of 700 available", twinex.InsufficientFunds, func() error { return h.Withdraw(a, eth, 700, 1) })
	h.refuses(t, "Withdraw 701 of 700 available", twinex.InsufficientFunds, func() error { return h.Withdraw(a, eth, 701, 0) })
	// x+fee would overflow int64 if added naively.
	h.refuses(t, "Withdraw MaxInt64 with fee MaxInt64", twinex.InsufficientFunds, func() error { return h.Withdraw(a, eth, 1<<63-1, 1<<63-1) })

	if err := h.Withdraw(a, eth, 600, 0); err != nil {
		t.Fatalf("Withdraw without fee: %v", err)
	}
	if h.Lookup(twinex.FeeAccountID) != nil {
		t.Errorf("a withdrawal without fee created the fee account")
	}
	h.want(t, a, eth, 400, 300)
	if err := h.Withdraw(a, eth, 90, 10); err != nil { // exactly the available 100
		t.Fatalf("Withdraw 90 with fee 10: %v", err)
	}
	h.want(t, a, eth, 300, 300)
	h.want(t, h.Account(twinex.FeeAccountID), eth, 10, 0)
	if got := h.Supply(eth); got != twinex.I128(1000-600-90) {
		t.Errorf("supply %v, want %d: the fee stays on the exchange", got, 1000-600-90)
	}
}

func TestTransfer(t *testing.T) {
	h := newHarness(t)
	sol := h.cur(t, "SOL")
	a, b := h.Account(100), h.Account(101)
	h.deposit(t, a, sol, 500)
	if err := h.Hold(a, sol, 100); err != nil {
		t.Fatal(err)
	}
	h.reserve(100, sol, 100)

	h.refuses(t, "Transfer 0", twinex.InvalidFundTransfer, func() error { return h.Transfer(a, b, sol, 0) })
	h.refuses(t, "Transfer -5", twinex.InvalidFundTransfer, func() error { return h.Transfer(a, b, sol, -5) })
	h.refuses(t, "Transfer to itself", twinex.InvalidFundTransfer, func() error { return h.Transfer(a, a, sol, 1) })
	h.refuses(t, "Transfer of held funds", twinex.InsufficientFunds, func() error { return h.Transfer(a, b, sol, 401) })
	h.refuses(t, "Transfer from an empty account", twinex.InsufficientFunds, func() error { return h.Transfer(b, a, sol, 1) })

	if err := h.Transfer(a, b, sol, 400); err != nil {
		t.Fatalf("Transfer of the whole available balance: %v", err)
	}
	h.want(t, a, sol, 100, 100)
	h.want(t, b, sol, 400, 0)
	if got := h.Supply(sol); got != twinex.I128(500) {
		t.Errorf("supply %v after a transfer, want 500", got)
	}
}

func TestSetFees(t *testing.T) {
	h := newHarness(t)
	a := h.Account(100)
	if a.Fees != twinex.DefaultFeeRates {
		t.Errorf("new account fees %+v, want the defaults %+v", a.Fees, twinex.DefaultFeeRates)
	}
	for _, f := range []twinex.FeeRates{{MakerBps: -1}, {TakerBps: -1}, {MakerBps: twinex.MaxFeeBps + 1}, {TakerBps: twinex.MaxFeeBps + 1}} {
		h.refuses(t, fmt.Sprintf("SetFees(%+v)", f), twinex.InvalidQuantity, func() error { return h.SetFees(a, f) })
	}
	for _, f := range []twinex.FeeRates{{}, {MakerBps: twinex.MaxFeeBps, TakerBps: twinex.MaxFeeBps}, {MakerBps: 5, TakerBps: 7}} {
		if err := h.SetFees(a, f); err != nil {
			t.Errorf("SetFees(%+v): %v", f, err)
		}
		if a.Fees != f {
			t.Errorf("fees %+v after SetFees(%+v)", a.Fees, f)
		}
	}
}

func TestFee(t *testing.T) {
	for _, c := range []struct{ notional, bps, floor, ceil int64 }{
		{0, 35, 0, 0},
		{10000, 35, 35, 35},
		{1, 1, 0, 1},
		{9999, 1, 0, 1},
		{10001, 10, 10, 11},
		{12345, 0, 0, 0},
		{1 << 62, 1000, 1 << 62 / 10, 1<<62/10 + 1}, // 2^62 is not a multiple of 10
		{1<<62 - 1, 1000, (1<<62 - 1) / 10, (1<<62-1)/10 + 1},
		{1<<62 - 4, 1000, (1<<62 - 4) / 10, (1<<62 - 4) / 10}, // 2^62-4 is
	} {
		if got := Fee(c.notional, c.bps); got != c.floor {
			t.Errorf("Fee(%d, %d) = %d, want %d", c.notional, c.bps, got, c.floor)
		}
		if got := FeeCeil(c.notional, c.bps); got != c.ceil {
			t.Errorf("FeeCeil(%d, %d) = %d, want %d", c.notional, c.bps, got, c.ceil)
		}
	}

	// Against math/big, over the whole range of one order's notional
	// (twinex.Market.CheckNotional bounds it by 2^62).
	const maxNotional = 1 << 62
	seed := uint64(time.Now().UnixNano())
	t.Logf("seed %d", seed)
	rng := rand.New(rand.NewPCG(seed, 0))
	ten := big.NewInt(10000)
	for i := 0; i < 20000; i++ {
		var n int64
		switch i % 3 {
		case 0:
			n = rng.Int64N(maxNotional + 1)
		case 1:
			n = maxNotional - rng.Int64N(1<<20)
		default:
			n = rng.Int64N(1 << 40)
		}
		bps := []int64{0, 1, 10, 35, 999, twinex.MaxFeeBps}[rng.IntN(6)]
		p := new(big.Int).Mul(big.NewInt(n), big.NewInt(bps))
		q, r := new(big.Int).QuoRem(p, ten, new(big.Int))
		if got := Fee(n, bps); got != q.Int64() {
			t.Fatalf("seed %d: Fee(%d, %d) = %d, want %s", seed, n, bps, got, q)
		}
		if r.Sign() != 0 {
			q.Add(q, big.NewInt(1))
		}
		if got := FeeCeil(n, bps); got != q.Int64() {
			t.Fatalf("seed %d: FeeCeil(%d, %d) = %d, want %s", seed, n, bps, got, q)
		}
	}
}

func TestTakeChanges(t *testing.T) {
	h := newHarness(t)
	usd, btc := h.cur(t, "USD"), h.cur(t, "BTC")
	a, b := h.Account(100), h.Account(101)
	if bt := h.drain(); !bt.Empty() {
		t.Fatalf("a new ledger has changes: %+v", bt)
	}

	h.deposit(t, a, usd, 1000)
	h.deposit(t, a, usd, 500)
	if err := h.Hold(a, usd, 200); err != nil {
		t.Fatal(err)
	}
	if err := h.Transfer(a, b, usd, 300); err != nil {
		t.Fatal(err)
	}
	h.deposit(t, b, btc, 7)
	if err := h.Withdraw(b, btc, 2, 1); err != nil {
		t.Fatal(err)
	}
	if err := h.SetFees(a, twinex.FeeRates{MakerBps: 1, TakerBps: 2}); err != nil {
		t.Fatal(err)
	}
	if err := h.SetFees(a, twinex.FeeRates{MakerBps: 3, TakerBps: 4}); err != nil {
		t.Fatal(err)
	}
	h.reserve(100, usd, 200)

	got := h.drain()
	sortBatch(got)
	want := &twinex.Batch{
		Balances: []twinex.Balance{
			{AccountID: twinex.FeeAccountID, Currency: "BTC", Total: twinex.I128(1)},
			{AccountID: 100, Currency: "USD", Total: twinex.I128(1200), Held: twinex.I128(200)},
			{AccountID: 101, Currency: "USD", Total: twinex.I128(300)},
			{AccountID: 101, Currency: "BTC", Total: twinex.I128(4)},
		},
		Supply:   []twinex.Supply{{Currency: "BTC", Net: twinex.I128(5)}, {Currency: "USD", Net: twinex.I128(1500)}},
		FeeRates: []twinex.AccountFees{{AccountID: 100, FeeRates: twinex.FeeRates{MakerBps: 3, TakerBps: 4}}},
	}
	sortBatch(want)
	if !reflect.DeepEqual(got, want) {
		t.Errorf("TakeChanges:\n got %+v\nwant %+v", got, want)
	}
	if again := h.drain(); !again.Empty() {
		t.Errorf("a second TakeChanges reported %+v, want nothing", again)
	}

	// Only what changes afterwards is reported, each once.
	h.Release(a, usd, 200)
	h.Release(a, usd, 0) // a no-op is not a change
	h.Credit(b, btc, 0)
	h.reserve(100, usd, -200)
	got = h.drain()
	want = &twinex.Batch{Balances: []twinex.Balance{{AccountID: 100, Currency: "USD", Total: twinex.I128(1200)}}}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("TakeChanges after a release:\n got %+v\nwant %+v", got, want)
	}
}

func sortBatch(b *twinex.Batch) {
	slices.SortFunc(b.Balances, func(x, y twinex.Balance) int {
		if x.AccountID != y.AccountID {
			return int(x.AccountID - y.AccountID)
		}
		return strings.Compare(x.Currency, y.Currency)
	})
	slices.SortFunc(b.Supply, func(x, y twinex.Supply) int { return strings.Compare(x.Currency, y.Currency) })
	slices.SortFunc(b.FeeRates, func(x, y twinex.AccountFees) int { return int(x.AccountID - y.AccountID) })
}

func TestRestore(t *testing.T) {
	h := newHarness(t)
	cur := h.currencies
	seed := uint64(time.Now().UnixNano())
	t.Logf("seed %d", seed)
	rng := rand.New(rand.NewPCG(seed, 1))

	// Random traffic, its changes taken in several batches and folded into
	// the latest row per key, as a store would keep them.
	type key struct {
		id  int64
		cur string
	}
	balances := map[key]twinex.Balance{}
	supply := map[string]twinex.Int128{}
	rates := map[int64]twinex.FeeRates{}
	ids := []int64{twinex.FeeAccountID, 100, 101, 102, 103}
	for round := 0; round < 20; round++ {
		for op := 0; op < 20; op++ {
			a, b := h.Account(ids[1+rng.IntN(4)]), h.Account(ids[1+rng.IntN(4)])
			c := rng.IntN(len(cur))
			x := 1 + rng.Int64N(1000)
			switch rng.IntN(6) {
			case 0, 1:
				_ = h.Deposit(a, c, x)
			case 2:
				_ = h.Withdraw(a, c, x, rng.Int64N(5))
			case 3:
				_ = h.Transfer(a, b, c, x)
			case 4:
				if h.Hold(a, c, x) == nil {
					h.reserve(a.ID, c, x)
				}
			case 5:
				_ = h.SetFees(a, twinex.FeeRates{MakerBps: rng.Int64N(20), TakerBps: rng.Int64N(50)})
			}
		}
		bt := h.drain()
		for _, x := range bt.Balances {
			balances[key{x.AccountID, x.Currency}] = x
		}
		for _, s := range bt.Supply {
			supply[s.Currency] = s.Net
		}
		for _, f := range bt.FeeRates {
			rates[f.AccountID] = f.FeeRates
		}
	}
	st := &twinex.State{}
	for _, b := range balances {
		st.Balances = append(st.Balances, b)
	}
	for c, n := range supply {
		st.Supply = append(st.Supply, twinex.Supply{Currency: c, Net: n})
	}
	for id, f := range rates {
		st.FeeRates = append(st.FeeRates, twinex.AccountFees{AccountID: id, FeeRates: f})
	}

	r := &harness{Ledger: New(cur), reserved: h.reserved}
	if err := r.Restore(st); err != nil {
		t.Fatalf("Restore: %v", err)
	}
	for _, id := range ids {
		if got, want := r.Balances(id), h.Balances(id); !reflect.DeepEqual(got, want) {
			t.Errorf("seed %d: account %d restored balances %+v, want %+v", seed, id, got, want)
		}
		if got, want := fees(r.Ledger, id), fees(h.Ledger, id); got != want {
			t.Errorf("seed %d: account %d restored fees %+v, want %+v", seed, id, got, want)
		}
	}
	for c := range cur {
		if got, want := r.Supply(c), h.Supply(c); got != want {
			t.Errorf("seed %d: %s restored supply %v, want %v", seed, cur[c].Code, got, want)
		}
	}
	if v := r.Check(h.reserved); len(v) > 0 {
		t.Errorf("seed %d: restored ledger violates its invariants: %v", seed, v)
	}
	if bt := r.drain(); !bt.Empty() {
		t.Errorf("Restore left changes to write: %+v", bt)
	}

	// A currency no longer configured: fine if empty, an error otherwise.
	if err := New(cur).Restore(&twinex.State{Balances: []twinex.Balance{{AccountID: 100, Currency: "XYZ"}}, Supply: []twinex.Supply{{Currency: "XYZ"}}}); err != nil {
		t.Errorf("Restore of an empty balance in an unknown currency: %v", err)
	}
	if err := New(cur).Restore(&twinex.State{Balances: []twinex.Balance{{AccountID: 100, Currency: "XYZ", Total: twinex.I128(1)}}}); err == nil {
		t.Errorf("Restore of a balance in an unknown currency succeeded")
	}
	if err := New(cur).Restore(&twinex.State{Supply: []twinex.Supply{{Currency: "XYZ", Net: twinex.I128(1)}}}); err == nil {
		t.Errorf("Restore of a supply of an unknown currency succeeded")
	}
}

// fees returns an account's fee rates, the defaults if it does not exist.
func fees(l *Ledger, id int64) twinex.FeeRates {
	if a := l.Lookup(id); a != nil {
		return a.Fees
	}
	return twinex.DefaultFeeRates
}

func TestCheck(t *testing.T) {
	// consistent returns a ledger with two accounts and a hold, and the
	// reserved map that matches it.
	consistent := func(t *testing.T) (*Ledger, map[int64][]twinex.Int128, int) {
		l := New(twinex.DefaultMarkets().Currencies)
		usd := l.CurrencyIndex("USD")
		a, b := l.Account(100), l.Account(101)
		if err := l.Deposit(a, usd, 1000); err != nil {
			t.Fatal(err)
		}
		if err := l.Transfer(a, b, usd, 400); err != nil {
			t.Fatal(err)
		}
		if err := l.Hold(a, usd, 250); err != nil {
			t.Fatal(err)
		}
		reserved := map[int64][]twinex.Int128{100: make([]twinex.Int128, len(l.currencies))}
		reserved[100][usd] = twinex.I128(250)
		return l, reserved, usd
	}

	l, reserved, _ := consistent(t)
	if v := l.Check(reserved); v != nil {
		t.Fatalf("a consistent ledger has violations: %q", v)
	}
	// An empty reserved slice, or one of zeros, is the same as none.
	reserved[101] = make([]twinex.Int128, len(l.currencies))
	if v := l.Check(reserved); v != nil {
		t.Errorf("zero reservations caused violations: %q", v)
	}

	for _, c := range []struct {
		name    string
		corrupt func(l *Ledger, reserved map[int64][]twinex.Int128, usd int)
		want    []string // substrings, one violation line each
	}{
		{"total differs from supply", func(l *Ledger, _ map[int64][]twinex.Int128, usd int) {
			l.Account(101).Balances[usd].Total = l.Account(101).Balances[usd].Total.Add64(5)
		}, []string{"USD: balances sum to 1005 but deposits minus withdrawals is 1000"}},
		{"supply differs from totals", func(l *Ledger, _ map[int64][]twinex.Int128, usd int) {
			l.supply[usd] = l.supply[usd].Sub64(1)
		}, []string{"USD: balances sum to 1000 but deposits minus withdrawals is 999"}},
		{"negative available", func(l *Ledger, reserved map[int64][]twinex.Int128, usd int) {
			// Held beyond the total, with the order book agreeing.
			l.Account(101).Balances[usd].Held = twinex.I128(500)
			reserved[101] = make([]twinex.Int128, len(l.currencies))
			reserved[101][usd] = twinex.I128(500)
		}, []string{"account 101 USD: available -100 is negative"}},
		{"negative held", func(l *Ledger, reserved map[int64][]twinex.Int128, usd int) {
			l.Account(100).Balances[usd].Held = twinex.I128(-1)
			reserved[100][usd] = twinex.I128(-1)
		}, []string{"account 100 USD: held -1 is negative"}},
		{"held without reservation", func(l *Ledger, reserved map[int64][]twinex.Int128, usd int) {
			reserved[100][usd] = twinex.I128(200)
		}, []string{"account 100 USD: held 250 but open orders reserve 200"}},
		{"held missing from reserved", func(l *Ledger, reserved map[int64][]twinex.Int128, usd int) {
			delete(reserved, 100)
		}, []string{"account 100 USD: held 250 but open orders reserve 0"}},
		{"reservation without hold", func(l *Ledger, reserved map[int64][]twinex.Int128, _ int) {
			btc := l.CurrencyIndex("BTC")
			reserved[101] = make([]twinex.Int128, len(l.currencies))
			reserved[101][btc] = twinex.I128(3)
		}, []string{"account 101 BTC: held 0 but open orders reserve 3"}},
		{"reservation for an unknown account", func(l *Ledger, reserved map[int64][]twinex.Int128, usd int) {
			reserved[999] = make([]twinex.Int128, len(l.currencies))
			reserved[999][usd] = twinex.I128(7)
		}, []string{"account 999 USD: open orders reserve 7 but the account has no balances"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			l, reserved, usd := consistent(t)
			c.corrupt(l, reserved, usd)
			v := l.Check(reserved)
			if len(v) != len(c.want) {
				t.Fatalf("Check found %d violations %q, want %d like %q", len(v), v, len(c.want), c.want)
			}
			for i, w := range c.want {
				if !strings.Contains(v[i], w) {
					t.Errorf("violation %q, want it to say %q", v[i], w)
				}
			}
			if !sort.StringsAreSorted(v) {
				t.Errorf("violations not sorted: %q", v)
			}
		})
	}

	// Several violations at once are all reported.
	l, reserved, usd := consistent(t)
	l.Account(101).Balances[usd].Total = l.Account(101).Balances[usd].Total.Add64(5)
	reserved[999] = make([]twinex.Int128, len(l.currencies))
	reserved[999][usd] = twinex.I128(7)
	if v := l.Check(reserved); len(v) != 2 {
		t.Errorf("two corruptions gave %q, want 2 violations", v)
	}
}

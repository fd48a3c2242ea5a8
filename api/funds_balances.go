package api

import (
	"context"
	"math/big"
	"net/http"
	"strings"

	"github.com/twinex/twinex"
	"github.com/twinex/twinex/gemini"
)

// The balances of the funds endpoints: payment methods and balances
// valued in a notional currency.

func (f *funds) paymentMethods(w http.ResponseWriter, r *http.Request, c *signed) error {
	bals, err := f.s.balanceList(r.Context(), c.account.ID)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, gemini.PaymentMethods{Balances: bals, Banks: []gemini.Bank{}})
	return nil
}

func (f *funds) notionalBalances(w http.ResponseWriter, r *http.Request, c *signed) error {
	notional, err := f.s.currency(r.PathValue("currency"))
	if err != nil {
		return err
	}
	bals, err := f.s.Core.Balances(context.WithoutCancel(r.Context()), c.account.ID)
	if err != nil {
		return coreError(err)
	}
	out := []gemini.NotionalBalance{}
	for _, b := range bals {
		cur := f.s.Core.Markets().Currency(b.Currency)
		if b.Total.IsZero() || cur == nil {
			continue
		}
		avail := gemini.Decimal(b.Available().FormatUnits(cur.Scale))
		v := gemini.NotionalBalance{
			Currency: b.Currency, Amount: gemini.Decimal(b.Total.FormatUnits(cur.Scale)),
			Available: avail, AvailableForWithdrawal: avail,
		}
		if rate := f.rate(cur.Code, notional.Code); rate != nil {
			availN := gemini.Decimal(notionalValue(b.Available(), cur.Scale, rate, notional.Display))
			v.AmountNotional = gemini.Decimal(notionalValue(b.Total, cur.Scale, rate, notional.Display))
			v.AvailableNotional, v.AvailableForWithdrawalNotional = availN, availN
		}
		out = append(out, v)
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

// rate returns the value of one unit of currency from in currency to, by
// the last trade prices, or nil when no route is priced.
func (f *funds) rate(from, to string) *big.Rat {
	if from == to {
		return big.NewRat(1, 1)
	}
	if r := f.directRate(from, to); r != nil {
		return r
	}
	for _, via := range f.s.Core.Markets().Currencies {
		if via.Code == from || via.Code == to {
			continue
		}
		if r1 := f.directRate(from, via.Code); r1 != nil {
			if r2 := f.directRate(via.Code, to); r2 != nil {
				return r1.Mul(r1, r2)
			}
		}
	}
	return nil
}

// directRate prices from in to by one market, either way round.
func (f *funds) directRate(from, to string) *big.Rat {
	ms := f.s.Core.Markets()
	for _, inverse := range []bool{false, true} {
		for i, m := range ms.List {
			base, quote := from, to
			if inverse {
				base, quote = to, from
			}
			if m.Base != base || m.Quote != quote {
				continue
			}
			last := f.s.Core.Snapshot(i).Stats.Last
			if last <= 0 {
				continue
			}
			unit := new(big.Int).Exp(big.NewInt(10), big.NewInt(int64(m.PriceDecimals)), nil)
			price := new(big.Rat).SetFrac(big.NewInt(last), unit)
			if inverse {
				price.Inv(price)
			}
			return price
		}
	}
	return nil
}

// notionalValue formats units (10^-scale) times rate with decimals places,
// rounded half away from zero, trailing zeros cut.
func notionalValue(units twinex.Int128, scale int, rate *big.Rat, decimals int) string {
	unit := new(big.Int).Exp(big.NewInt(10), big.NewInt(int64(scale)), nil)
	n, _ := new(big.Int).SetString(units.String(), 10) // always a decimal integer
	v := new(big.Rat).SetFrac(n, unit)
	s := v.Mul(v, rate).FloatString(decimals)
	if strings.Contains(s, ".") {
		s = strings.TrimRight(strings.TrimRight(s, "0"), ".")
	}
	if s == "-0" {
		s = "0"
	}
	return s
}

package api

import (
	"net/http"
	"strings"

	"github.com/twinex/twinex"
	"github.com/twinex/twinex/gemini"
)

// Gemini's v2 funds endpoints, the only ones its official SDK calls
// (reference §3.13, §3.17; issue 18):
//
//   - POST /v2/transfers: /v1/transfers with a "network" filter, and each
//     on-chain deposit or withdrawal naming its network (fiat, operator
//     credits and moves between accounts name none, as Gemini's spec says).
//   - POST /v2/withdraw/{network}/{ticker}: /v1/withdraw/:currency with the
//     network in the path; the client's id is "clientTransferId". The
//     answer is {address, amount, currency, fee, withdrawalId}.
//   - POST /v2/withdraw/{network}/{ticker}/feeEstimate: the withdrawal's
//     checks without the withdrawal; the fee is 0 (Twinex charges none),
//     a JSON number as the spec declares it, with no fee-free quota to
//     count down (monthlyLimit and monthlyRemaining are 0, isOverride
//     false).
//
// The v1 and v2 forms share one code path (funds.withdrawal, funds.execute,
// funds.transferList), so their rules cannot drift apart. A ticker that is
// not a currency is 400 InvalidQuantity, as on /v1/withdraw; a network
// that is not the ticker's (or no network at all) is 404
// UnsupportedNetwork.

func (f *funds) routeV2() {
	s := f.s
	s.private("/v2/transfers", anyFunds, accountScope, f.transfersV2)
	s.privateWrite("/v2/withdraw/{network}/{ticker}", fundManager, accountScope, f.withdrawV2)
	// Gemini's spec opens the estimate to every role (it moves nothing).
	s.private("/v2/withdraw/{network}/{ticker}/feeEstimate", anyFunds|twinex.RoleAdministrator, accountScope, f.feeEstimateV2)
}

func (f *funds) transfersV2(w http.ResponseWriter, r *http.Request, c *signed) error {
	out, err := f.transferList(w, r, c, true)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

// v2Withdrawal reads the path and payload of a v2 withdrawal or its fee
// estimate.
func (f *funds) v2Withdrawal(r *http.Request, c *signed) (withdrawalRequest, error) {
	cur, err := f.s.currency(r.PathValue("ticker"))
	if err != nil {
		return withdrawalRequest{}, err
	}
	network, _, err := f.network(r.PathValue("network"))
	if err != nil {
		return withdrawalRequest{}, err
	}
	if cur.Network == "" || !strings.EqualFold(cur.Network, network) {
		return withdrawalRequest{}, twinex.Errorf(twinex.UnsupportedNetwork, "%s cannot be withdrawn on the %s network", cur.Code, network)
	}
	return f.withdrawal(c.payload, cur, "clientTransferId")
}

func (f *funds) withdrawV2(w http.ResponseWriter, r *http.Request, c *signed) error {
	wd, err := f.v2Withdrawal(r, c)
	if err != nil {
		return err
	}
	t, err := f.execute(r.Context(), c, wd)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, gemini.WithdrawalV2{
		Address: wd.dest, Amount: gemini.Decimal(twinex.FormatUnits(t.Amount, wd.cur.Scale)), Currency: wd.cur.Code,
		Fee: gemini.Decimal(twinex.FormatUnits(t.Fee, wd.cur.Scale)), WithdrawalID: withdrawalID(t),
	})
	return nil
}

func (f *funds) feeEstimateV2(w http.ResponseWriter, r *http.Request, c *signed) error {
	wd, err := f.v2Withdrawal(r, c)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, gemini.FeeEstimate{Currency: wd.cur.Code, Fee: "0"})
	return nil
}

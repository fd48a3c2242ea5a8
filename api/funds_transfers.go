package api

import (
	"crypto/sha256"
	"encoding/hex"
	"net/http"
	"strconv"
	"strings"

	"github.com/twinex/twinex"
	"github.com/twinex/twinex/exchange"
)

// The transfers of the funds endpoints: /v1/transfers and /v2/transfers.

func (f *funds) transfers(w http.ResponseWriter, r *http.Request, c *signed) error {
	out, err := f.transferList(w, r, c, false)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

// transferList is the body of /v1/transfers, or with v2 of /v2/transfers:
// the same fields and rules, plus the "network" filter and each on-chain
// transfer's network.
func (f *funds) transferList(w http.ResponseWriter, r *http.Request, c *signed, v2 bool) ([]transferReply, error) {
	if err := f.limit(w, f.transferLimit, c); err != nil {
		return nil, err
	}
	p := c.payload
	q := twinex.TransferQuery{AccountID: c.account.ID}
	code, err := p.str("currency")
	if err != nil {
		return nil, err
	}
	if code != "" {
		cur, err := f.s.currency(code)
		if err != nil {
			return nil, err
		}
		q.Currency = cur.Code
	}
	if q.Limit, err = limitField(p, "limit_transfers", 10, 50); err != nil {
		return nil, err
	}
	if q.After, err = sinceField(p, "timestamp"); err != nil {
		return nil, err
	}
	if _, err := p.bool("show_completed_deposit_advances"); err != nil {
		return nil, err
	}
	want := q.Limit
	// onNetwork keeps every transfer unless v2's "network" names one.
	onNetwork := func(string) bool { return true }
	if v2 {
		seg, err := p.str("network")
		if err != nil {
			return nil, err
		}
		if seg != "" {
			network, _, err := f.network(seg)
			if err != nil {
				return nil, err
			}
			onNetwork = func(code string) bool {
				cur := f.s.Core.Markets().Currency(code)
				return cur != nil && strings.EqualFold(cur.Network, network)
			}
			if q.Currency != "" && !onNetwork(q.Currency) {
				return []transferReply{}, nil
			}
			if q.Currency == "" {
				// Read a full page and filter it: a network may carry
				// several currencies.
				q.Limit = exchange.MaxPage
			}
		}
	}
	list, err := f.s.Store.Transfers(r.Context(), q)
	if err != nil {
		return nil, err
	}
	out := []transferReply{}
	for _, t := range list {
		cur := f.s.Core.Markets().Currency(t.Currency)
		if cur == nil || !onNetwork(t.Currency) || len(out) == want {
			continue
		}
		v := geminiTransferJSON(t, cur)
		if v2 && cur.Network != "" && t.Method == "" && (t.Kind == twinex.Deposit || t.Kind == twinex.Withdrawal) {
			v.Network = strings.ToLower(cur.Network)
		}
		out = append(out, v)
	}
	return out, nil
}

// geminiTransferJSON renders a transfer as an item of /v1/transfers
// (reference §3.13): timestampms and eid are numbers, amounts strings.
func geminiTransferJSON(t twinex.Transfer, cur *twinex.Currency) transferReply {
	v := transferReply{
		Status: "Complete", Timestampms: t.Time / 1e6, EID: t.ID,
		Currency: t.Currency, Amount: twinex.FormatUnits(t.Amount, cur.Scale), TxHash: t.TxHash,
	}
	switch t.Kind {
	case twinex.Deposit, twinex.TransferIn:
		v.Type, v.Method = "Deposit", t.Method
	default:
		v.Type = "Withdrawal"
	}
	if t.Kind == twinex.TransferIn || t.Kind == twinex.TransferOut {
		v.Purpose = "Internal"
	}
	if t.Kind == twinex.Withdrawal {
		v.Destination = &t.Destination
		v.WithdrawalID = withdrawalID(t)
		v.FeeAmount = twinex.FormatUnits(t.Fee, cur.Scale)
		v.FeeCurrency = t.Currency
	}
	return v
}

// transferReply is an item of /v1/transfers and /v2/transfers: the shape
// of gemini.Transfer, except that a withdrawal's destination is sent even
// when empty (an operator's withdrawal through the admin API names none),
// which the client's omitempty string cannot say. The fields are in the
// order of their JSON names, as the golden files pin.
type transferReply struct {
	Amount       string  `json:"amount"`
	Currency     string  `json:"currency"`
	Destination  *string `json:"destination,omitempty"` // withdrawals
	EID          int64   `json:"eid"`
	FeeAmount    string  `json:"feeAmount,omitempty"`   // withdrawals
	FeeCurrency  string  `json:"feeCurrency,omitempty"` // withdrawals
	Method       string  `json:"method,omitempty"`
	Network      string  `json:"network,omitempty"` // /v2/transfers only
	Purpose      string  `json:"purpose,omitempty"`
	Status       string  `json:"status"`
	Timestampms  int64   `json:"timestampms"`
	TxHash       string  `json:"txHash,omitempty"`
	Type         string  `json:"type"`
	WithdrawalID string  `json:"withdrawalId,omitempty"` // withdrawals
}

// withdrawalID is the UUID-looking id of a withdrawal, derived from its eid
// and its random txHash: stable, so /v1/transfers repeats what /v1/withdraw
// answered, and not guessable from the eid alone.
func withdrawalID(t twinex.Transfer) string {
	h := sha256.Sum256([]byte("twinex withdrawal " + strconv.FormatInt(t.ID, 10) + " " + t.TxHash))
	b := h[:16]
	b[6] = b[6]&0x0f | 0x40 // version 4
	b[8] = b[8]&0x3f | 0x80 // RFC 4122 variant
	x := hex.EncodeToString(b)
	return x[:8] + "-" + x[8:12] + "-" + x[12:16] + "-" + x[16:20] + "-" + x[20:]
}

// label reads an optional label or memo field.

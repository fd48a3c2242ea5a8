package api

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/twinex/twinex"
	"github.com/twinex/twinex/chainaddr"
	"github.com/twinex/twinex/core"
	"github.com/twinex/twinex/gemini"
	"github.com/twinex/twinex/ratelimit"
)

// Gemini's funds endpoints (reference §3.11–3.19): notional balances,
// transfers, deposit addresses, withdrawals, approved addresses and payment
// methods. All act on one account (accountScope); the roles follow §1.6.
//
// Choices where the reference is silent, pinned by funds_test.go:
//
//   - Notional values use the last trade price of the core's snapshots:
//     the market currency/notional if it has traded, else notional/currency
//     (inverted), else through one intermediate currency (ETH->BTC->USD),
//     markets tried in configuration order. They are rounded half away from
//     zero to the notional currency's display decimals, trailing zeros cut
//     as in /v1/balances. A currency with no priced route leaves out its
//     three *Notional keys, as the public endpoints leave out a price that
//     does not exist: a "0" would read as worthless. An unknown notional
//     currency is 400 InvalidQuantity, like every unknown currency here.
//   - /v1/transfers shows every transfer as status "Complete": deposits and
//     withdrawals apply at once. Internal transfers between accounts show
//     as "Deposit" (incoming) and "Withdrawal" (outgoing) with
//     "purpose":"Internal", so ccxt files them as deposits and withdrawals.
//     Deposits carry "method" when one was recorded ("Admin" for operator
//     credits); withdrawals carry txHash, destination, withdrawalId,
//     feeAmount and feeCurrency ("0" when free). show_completed_deposit_advances
//     is accepted and changes nothing: Twinex makes no advances.
//   - Path segments naming a network accept a network id ("bitcoin") or a
//     currency code ("BTC"), in any case, on every endpoint, as §3.16
//     requires of newAddress; anything else (a fiat currency included) is
//     404 UnsupportedNetwork, the reason /v1/network uses. A network shared
//     by several currencies stands for the first one configured.
//   - Addresses are checked against their network's form (bech32 with its
//     checksum or Base58Check for bitcoin and litecoin, EIP-55 for
//     ethereum, 32 Base58 bytes for solana, 8 to 128 printable characters
//     elsewhere): otherwise 400 InvalidAddress. Ethereum addresses are
//     compared in checksum case, bech32 ones in lower case.
//   - A withdrawal's destination must be an active approved address once
//     the account has ever had an approved address for the network
//     (pending ones included): removing every entry does not switch the
//     allowlist off, or removal would bypass the approval hold;
//     otherwise 400 AddressNotApproved. An account that never used the
//     allowlist may withdraw to any well-formed address, as with Gemini's
//     allowlisting off. The fee is 0; memo is accepted and ignored;
//     client_transfer_id (at most 100 characters) is recorded but does not
//     deduplicate. The withdrawalId is a v4-looking UUID derived from the
//     transfer's eid and txHash, so /v1/transfers repeats it without
//     storing it.
//   - Approved-address requests wait Server.ApprovalWait before they are
//     active (0 until the server's modes set production's 7 days). Requesting an
//     address already on the list, or removing one that is not, is 400
//     InvalidAddress.
//   - The per-endpoint limits of §4 (addresses: 1 per 2 s, transfers:
//     1 per 5 s, per account) apply when the server limits private requests
//     at all (PrivateLimit set), so that tests without limits run freely.
//   - The deposit addresses and approved addresses live in
//     Server.Addresses; without one these endpoints answer 500 System.
//     Requests that change them write the key's nonce mark first, so a
//     replay after a crash cannot repeat an acknowledged change.

// Field limits of the funds endpoints.
const (
	maxLabel            = 100
	maxClientTransferID = 100
)

// funds serves the funds endpoints with their settings.
type funds struct {
	s *Server
	// approvalWait is the hold before an approved address is active.
	approvalWait time.Duration
	// addrLimit and transferLimit are §4's per-endpoint limits, keyed by
	// account.
	addrLimit, transferLimit *ratelimit.Limiter
}

func newFunds(s *Server, approvalWait time.Duration) *funds {
	return &funds{s: s, approvalWait: approvalWait,
		addrLimit:     ratelimit.New(ratelimit.GeminiAddresses()),
		transferLimit: ratelimit.New(ratelimit.GeminiTransfers())}
}

func (s *Server) routeFunds() { newFunds(s, s.ApprovalWait).route() }

// The roles of the funds endpoints: moving funds needs FundManager; any
// role that sees an account's funds may read them.
const (
	fundManager = twinex.RoleFundManager
	anyFunds    = twinex.RoleTrader | twinex.RoleFundManager | twinex.RoleAuditor
)

func (f *funds) route() {
	s := f.s
	s.private("/v1/notionalbalances/{currency}", anyFunds, accountScope, f.notionalBalances)
	s.private("/v1/transfers", anyFunds, accountScope, f.transfers)
	s.private("/v1/addresses/{network}", anyFunds, accountScope, f.addresses)
	s.privateWrite("/v1/deposit/{network}/newAddress", fundManager, accountScope, f.newAddress)
	s.privateWrite("/v1/withdraw/{currency}", fundManager, accountScope, f.withdraw)
	// One pattern for the three approved-address routes: account/{network}
	// and {network}/request overlap (account/request matches both), which
	// ServeMux refuses. The list is open to every funds role; request and
	// remove check for Fund Manager themselves.
	isChange := func(r *http.Request) bool { return r.PathValue("first") != "account" } // account/{network} lists
	s.privateWriteIf("/v1/approvedAddresses/{first}/{second}", anyFunds, accountScope, isChange, f.approvedAddresses)
	s.private("/v1/payments/methods", anyFunds, accountScope, f.paymentMethods)
	f.routeV2()
}

// limit applies a per-endpoint limit to the request's account when the
// server limits private requests: --rate-private off turns these off too.
func (f *funds) limit(w http.ResponseWriter, l *ratelimit.Limiter, c *signed) error {
	if f.s.PrivateLimit == nil || f.s.PrivateLimit.Limit().Unlimited() {
		return nil
	}
	return f.s.limit(w, l, strconv.FormatInt(c.account.ID, 10))
}

// store returns the address store.
func (f *funds) store() (twinex.AddressStore, error) {
	if f.s.Addresses == nil {
		return nil, errors.New("api: Server.Addresses is not set")
	}
	return f.s.Addresses, nil
}

// touch makes the request's nonce mark durable before a change outside the
// sequencer; see Server.touch.
func (f *funds) touch(ctx context.Context, c *signed) error { return f.s.touch(ctx, c) }

// network resolves a path segment naming a network or a currency, in any
// case, to the network id and its currency.
func (f *funds) network(seg string) (string, *twinex.Currency, error) {
	ms := f.s.Core.Markets()
	for i := range ms.Currencies {
		if cur := &ms.Currencies[i]; cur.Network != "" && strings.EqualFold(cur.Network, seg) {
			return strings.ToLower(cur.Network), cur, nil
		}
	}
	if cur := ms.Currency(seg); cur != nil && cur.Network != "" {
		return strings.ToLower(cur.Network), cur, nil
	}
	return "", nil, twinex.Errorf(twinex.UnsupportedNetwork, "Supplied value %q is not a supported network", seg)
}

func label(p payload, name string) (string, error) {
	v, err := p.str(name)
	if err != nil {
		return "", err
	}
	if len(v) > maxLabel {
		return "", twinex.Errorf(twinex.InvalidJson, "%s must be at most %d characters", name, maxLabel)
	}
	return v, nil
}

// address reads the payload's required address and checks its form on the
// network; it returns it in its canonical case.
func address(p payload, network string) (string, error) {
	a, err := p.str("address")
	if err != nil {
		return "", err
	}
	if a == "" {
		return "", twinex.Errorf(twinex.MissingPayloadKey, "address is required")
	}
	if !chainaddr.Valid(network, a) {
		return "", twinex.Errorf(twinex.InvalidAddress, "%q is not a valid %s address", truncated(a), network)
	}
	return chainaddr.Canonical(a), nil
}

func truncated(s string) string {
	if len(s) > 64 {
		return s[:64] + "..."
	}
	return s
}

func (f *funds) addresses(w http.ResponseWriter, r *http.Request, c *signed) error {
	if err := f.limit(w, f.addrLimit, c); err != nil {
		return err
	}
	network, _, err := f.network(r.PathValue("network"))
	if err != nil {
		return err
	}
	since, err := sinceField(c.payload, "timestamp")
	if err != nil {
		return err
	}
	st, err := f.store()
	if err != nil {
		return err
	}
	list, err := st.DepositAddresses(r.Context(), c.account.ID, network)
	if err != nil {
		return err
	}
	out := []gemini.DepositAddress{}
	for _, a := range list {
		if a.Created < since {
			continue
		}
		out = append(out, gemini.DepositAddress{Address: a.Address, Timestamp: a.Created / 1e6, Label: a.Label})
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

func (f *funds) newAddress(w http.ResponseWriter, r *http.Request, c *signed) error {
	if err := f.limit(w, f.addrLimit, c); err != nil {
		return err
	}
	network, cur, err := f.network(r.PathValue("network"))
	if err != nil {
		return err
	}
	lbl, err := label(c.payload, "label")
	if err != nil {
		return err
	}
	if _, err := c.payload.bool("legacy"); err != nil {
		return err
	}
	st, err := f.store()
	if err != nil {
		return err
	}
	if err := f.touch(r.Context(), c); err != nil {
		return err
	}
	a := twinex.DepositAddress{AccountID: c.account.ID, Network: network, Currency: cur.Code, Label: lbl, Created: f.s.now().UnixNano()}
	// A collision of random addresses is all but impossible; retry anyway.
	for try := 0; ; try++ {
		a.Address = chainaddr.NewDepositAddress(network)
		err = st.CreateDepositAddress(context.WithoutCancel(r.Context()), &a)
		if !errors.Is(err, twinex.ErrConflict) || try == 3 {
			break
		}
	}
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, gemini.NewAddress{Network: network, Currency: cur.Code, Address: a.Address, Label: lbl})
	return nil
}

func (f *funds) withdraw(w http.ResponseWriter, r *http.Request, c *signed) error {
	cur, err := f.s.currency(r.PathValue("currency"))
	if err != nil {
		return err
	}
	if cur.Network == "" {
		return twinex.Errorf(twinex.UnsupportedNetwork, "%s has no network to withdraw to", cur.Code)
	}
	wd, err := f.withdrawal(c.payload, cur, "client_transfer_id")
	if err != nil {
		return err
	}
	t, err := f.execute(r.Context(), c, wd)
	if err != nil {
		return err
	}
	amount := twinex.FormatUnits(t.Amount, cur.Scale)
	writeJSON(w, http.StatusOK, gemini.Withdrawal{
		Address: wd.dest, Amount: gemini.Decimal(amount), Fee: gemini.Decimal(twinex.FormatUnits(t.Fee, cur.Scale)),
		WithdrawalID: withdrawalID(t), TxHash: t.TxHash,
		Message: fmt.Sprintf("You have requested a transfer of %s %s to %s. This withdrawal will be sent to the blockchain within the next 60 seconds.", amount, cur.Code, wd.dest),
	})
	return nil
}

// withdrawalRequest is a withdrawal whose fields have passed the rules
// shared by /v1/withdraw/:currency and the v2 forms.
type withdrawalRequest struct {
	cur      *twinex.Currency
	network  string // the currency's network id, lower case
	units    int64  // the amount in ledger units
	dest     string // the address in its canonical case
	clientID string
}

// withdrawal checks a withdrawal's payload for a currency with a network:
// amount (a decimal string or number in the currency's precision, else
// InvalidQuantity), address (well formed on the network, else
// InvalidAddress; missing: MissingPayloadKey), memo (a string) and the
// client's transfer id under clientField (the v1 form says
// client_transfer_id, the v2 form clientTransferId; at most 100
// characters, else InvalidJson).
func (f *funds) withdrawal(p payload, cur *twinex.Currency, clientField string) (withdrawalRequest, error) {
	wd := withdrawalRequest{cur: cur, network: strings.ToLower(cur.Network)}
	amt, ok := p.decimal("amount")
	if !ok {
		if p.has("amount") {
			return wd, twinex.Errorf(twinex.InvalidQuantity, "amount must be a decimal string or number")
		}
		return wd, twinex.Errorf(twinex.InvalidQuantity, "Missing amount")
	}
	var err error
	if wd.units, err = cur.ParseTransferAmount(amt); err != nil {
		return wd, err
	}
	if wd.dest, err = address(p, wd.network); err != nil {
		return wd, err
	}
	if wd.clientID, err = p.str(clientField); err != nil {
		return wd, err
	}
	if len(wd.clientID) > maxClientTransferID {
		return wd, twinex.Errorf(twinex.InvalidJson, "%s must be at most %d characters", clientField, maxClientTransferID)
	}
	if _, err := p.str("memo"); err != nil {
		return wd, err
	}
	return wd, nil
}

// execute checks the destination against the account's approved addresses
// and withdraws through the sequencer; it returns the withdrawal's
// transfer record.
func (f *funds) execute(ctx context.Context, c *signed, wd withdrawalRequest) (twinex.Transfer, error) {
	if err := f.checkApproved(ctx, c.account.ID, wd.network, wd.dest); err != nil {
		return twinex.Transfer{}, err
	}
	res, err := f.s.doSigned(ctx, c, core.Command{
		Kind: core.WithdrawFunds, AccountID: c.account.ID, Currency: wd.cur.Code, Funds: wd.units,
		Destination: wd.dest, TxHash: chainaddr.NewTxHash(wd.network), ClientID: wd.clientID,
	})
	if err != nil {
		return twinex.Transfer{}, err
	}
	return res.Transfers[0], nil
}

// checkApproved refuses a destination that is not an active approved
// address while the account's list for the network is not empty.
func (f *funds) checkApproved(ctx context.Context, accountID int64, network, dest string) error {
	st, err := f.store()
	if err != nil {
		return err
	}
	list, err := st.ApprovedAddresses(ctx, accountID, network)
	if err != nil {
		return err
	}
	if len(list) == 0 {
		// An empty list is "off" only for an account that never used it:
		// removing every entry must not open withdrawals to any address.
		used, err := st.AllowlistUsed(ctx, accountID, network)
		if err != nil || !used {
			return err
		}
		return twinex.Errorf(twinex.AddressNotApproved, "This account's approved %s address list is empty; request an address first", network)
	}
	now := f.s.now().UnixNano()
	for _, a := range list {
		if a.Address == dest {
			if a.ActiveAt(now) {
				return nil
			}
			return twinex.Errorf(twinex.AddressNotApproved, "%s is still in its approval hold until %s", dest,
				time.Unix(0, a.Active).UTC().Format(time.RFC3339))
		}
	}
	return twinex.Errorf(twinex.AddressNotApproved, "%s is not on this account's approved %s address list", dest, network)
}

func (f *funds) approvedAddresses(w http.ResponseWriter, r *http.Request, c *signed) error {
	first, second := r.PathValue("first"), r.PathValue("second")
	if first == "account" {
		return f.listApproved(w, r, c, second)
	}
	if second != "request" && second != "remove" {
		return twinex.Errorf(twinex.EndpointNotFound, "API entry point `%s` not found", r.URL.Path)
	}
	if !c.key.Roles.HasAny(twinex.RoleFundManager) {
		return twinex.Errorf(twinex.MissingRole, "%s", twinex.MissingRoleMessage(twinex.RoleFundManager, c.key.ID, c.key.Roles))
	}
	network, _, err := f.network(first)
	if err != nil {
		return err
	}
	addr, err := address(c.payload, network)
	if err != nil {
		return err
	}
	st, err := f.store()
	if err != nil {
		return err
	}
	ctx := context.WithoutCancel(r.Context())
	now := f.s.now().UnixNano()
	if second == "remove" {
		if err := f.touch(ctx, c); err != nil {
			return err
		}
		err := st.RemoveApprovedAddress(ctx, c.account.ID, network, addr, now)
		if errors.Is(err, twinex.ErrNotFound) {
			return twinex.Errorf(twinex.InvalidAddress, "%s is not on this account's approved %s address list", addr, network)
		}
		if err != nil {
			return err
		}
		writeJSON(w, http.StatusOK, map[string]string{"message": addr + " removed from the approved address list."})
		return nil
	}
	lbl, err := label(c.payload, "label")
	if err != nil {
		return err
	}
	memo, err := label(c.payload, "memo")
	if err != nil {
		return err
	}
	if err := f.touch(ctx, c); err != nil {
		return err
	}
	a := twinex.ApprovedAddress{AccountID: c.account.ID, Network: network, Address: addr, Label: lbl, Memo: memo,
		Created: now, Active: now + int64(f.approvalWait)}
	err = st.ApproveAddress(ctx, &a)
	if errors.Is(err, twinex.ErrConflict) {
		return twinex.Errorf(twinex.InvalidAddress, "%s is already on this account's approved %s address list", addr, network)
	}
	if err != nil {
		return err
	}
	msg := "Approved address addition is now active."
	if f.approvalWait > 0 {
		hold := f.approvalWait.String()
		if f.approvalWait%(24*time.Hour) == 0 {
			hold = strconv.FormatInt(int64(f.approvalWait/(24*time.Hour)), 10) + "-day"
		}
		msg = "Approved address addition is now waiting a " + hold + " approval hold before activation."
	}
	writeJSON(w, http.StatusOK, map[string]string{"message": msg})
	return nil
}

func (f *funds) listApproved(w http.ResponseWriter, r *http.Request, c *signed, seg string) error {
	network, _, err := f.network(seg)
	if err != nil {
		return err
	}
	st, err := f.store()
	if err != nil {
		return err
	}
	list, err := st.ApprovedAddresses(r.Context(), c.account.ID, network)
	if err != nil {
		return err
	}
	now := f.s.now().UnixNano()
	out := approvedAddressesReply{ApprovedAddresses: []gemini.ApprovedAddress{}}
	for _, a := range list {
		status := "pending-time"
		if a.ActiveAt(now) {
			status = "active"
		}
		out.ApprovedAddresses = append(out.ApprovedAddresses, gemini.ApprovedAddress{Network: a.Network, Scope: "account",
			Label: a.Label, Status: status, CreatedAt: a.Created / 1e6, Address: a.Address, Memo: a.Memo})
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

// approvedAddressesReply is the answer of /v1/approvedAddresses/account/:network.
type approvedAddressesReply struct {
	ApprovedAddresses []gemini.ApprovedAddress `json:"approvedAddresses"`
}

// Addresses and transaction hashes. Twinex moves no coins, but clients
// validate what they are shown, so deposit addresses are well formed for
// their network (valid checksums included) and random, and transaction
// hashes have the network's shape.

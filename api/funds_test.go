package api

import (
	"context"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"github.com/twinex/twinex/chainaddr"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/twinex/twinex"
	"github.com/twinex/twinex/auth"
	"github.com/twinex/twinex/gemini"
	"github.com/twinex/twinex/ratelimit"
)

// rawNonce hands out nonces for raw requests, above any a gemini client
// of the same test takes from the clock (tests use separate keys anyway).
var rawNonce atomic.Int64

// signedRaw sends a signed request with payload fields (a JSON object's
// inner text, may be empty) and returns the status and the body.
func signedRaw(t *testing.T, ts *httptest.Server, path string, k testKey, fields string) (int, []byte) {
	t.Helper()
	rawNonce.CompareAndSwap(0, time.Now().UnixMilli()*1000)
	payload := fmt.Sprintf(`{"request":%q,"nonce":"%d"`, path, rawNonce.Add(1))
	if fields != "" {
		payload += "," + fields
	}
	payload += "}"
	b64 := base64.StdEncoding.EncodeToString([]byte(payload))
	req, _ := http.NewRequest("POST", ts.URL+path, nil)
	req.Header.Set("X-GEMINI-APIKEY", k.Key)
	req.Header.Set("X-GEMINI-PAYLOAD", b64)
	req.Header.Set("X-GEMINI-SIGNATURE", auth.Sign(k.Secret, b64))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if ct := resp.Header.Get("Content-Type"); ct != "application/json" {
		t.Errorf("%s: Content-Type %q", path, ct)
	}
	data, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, data
}

// signedList sends a signed request that must answer 200 with an array.
func signedList(t *testing.T, ts *httptest.Server, path string, k testKey, fields string) []map[string]any {
	t.Helper()
	st, data := signedRaw(t, ts, path, k, fields)
	var out []map[string]any
	if st != 200 || json.Unmarshal(data, &out) != nil {
		t.Fatalf("%s %s: %d %s", path, fields, st, data)
	}
	return out
}

// signedObject sends a signed request and decodes an object answer.
func signedObject(t *testing.T, ts *httptest.Server, path string, k testKey, fields string) (int, map[string]any) {
	t.Helper()
	st, data := signedRaw(t, ts, path, k, fields)
	var out map[string]any
	if err := json.Unmarshal(data, &out); err != nil {
		t.Fatalf("%s %s: %d %s", path, fields, st, data)
	}
	return st, out
}

func wantReason(t *testing.T, what string, st int, v map[string]any, status int, reason string) {
	t.Helper()
	if st != status || v["result"] != "error" || v["reason"] != reason || v["message"] == "" {
		t.Errorf("%s: %d %v, want %d %s", what, st, v, status, reason)
	}
}

// wantTypes checks that each key of v has the JSON type named: "string",
// "number" or "absent".
func wantTypes(t *testing.T, what string, v map[string]any, types map[string]string) {
	t.Helper()
	for key, typ := range types {
		x, ok := v[key]
		var got string
		switch x.(type) {
		case string:
			got = "string"
		case float64:
			got = "number"
		case bool:
			got = "bool"
		case nil:
			got = "null"
		default:
			got = fmt.Sprintf("%T", x)
		}
		if !ok {
			got = "absent"
		}
		if got != typ {
			t.Errorf("%s: %q is %s (%v), want %s", what, key, got, x, typ)
		}
	}
}

func balanceOf(t *testing.T, c *gemini.Client, currency string) string {
	t.Helper()
	bals, err := c.Balances(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	for _, b := range bals {
		if b.Currency == currency {
			return string(b.Amount)
		}
	}
	return "0"
}

func TestDepositsAndWithdrawals(t *testing.T) {
	ts := privateServer(t)
	ctx := context.Background()
	fm := client(ts, newKey(t, ts, "fm@example.com", `{"roles":"trader,fundmanager"}`, "BTC", "2", "USD", "1000.5"))

	list, err := fm.Transfers(ctx, gemini.TransfersOptions{})
	if err != nil || len(list) != 2 {
		t.Fatalf("transfers after two deposits: %+v %v", list, err)
	}
	usd, btc := list[0], list[1] // newest first
	if usd.Type != "Deposit" || usd.Status != "Complete" || usd.Currency != "USD" || usd.Amount != "1000.5" || usd.EID <= btc.EID || usd.Method != "Admin" {
		t.Errorf("USD deposit %+v", usd)
	}
	if btc.Type != "Deposit" || btc.Currency != "BTC" || btc.Amount != "2" || btc.Destination != "" || btc.WithdrawalID != "" {
		t.Errorf("BTC deposit %+v", btc)
	}
	if d := time.Since(btc.Time()); d < 0 || d > time.Minute {
		t.Errorf("deposit time %v", btc.Time())
	}

	dest := "bc1qw508d6qejxtdg4y5r3zarvary0c5xw7kv8f3t4"
	wd, err := fm.Withdraw(ctx, "btc", dest, "0.5", "cid-1")
	if err != nil {
		t.Fatal(err)
	}
	if wd.Address != dest || wd.Amount != "0.5" || wd.Fee != "0" || wd.Message == "" || len(wd.TxHash) != 64 {
		t.Errorf("withdrawal %+v", wd)
	}
	if _, err := hex.DecodeString(wd.TxHash); err != nil {
		t.Errorf("bitcoin txHash %q is not hex", wd.TxHash)
	}
	if len(wd.WithdrawalID) != 36 || wd.WithdrawalID[14] != '4' || strings.Count(wd.WithdrawalID, "-") != 4 {
		t.Errorf("withdrawalId %q does not look like a UUID", wd.WithdrawalID)
	}
	// The debit is immediate.
	if got := balanceOf(t, fm, "BTC"); got != "1.5" {
		t.Errorf("BTC after withdrawing 0.5: %s", got)
	}
	list, err = fm.Transfers(ctx, gemini.TransfersOptions{Currency: "btc"})
	if err != nil || len(list) != 2 {
		t.Fatalf("BTC transfers: %+v %v", list, err)
	}
	w := list[0]
	if w.Type != "Withdrawal" || w.Status != "Complete" || w.Amount != "0.5" || w.TxHash != wd.TxHash ||
		w.Destination != dest || w.WithdrawalID != wd.WithdrawalID || w.FeeAmount != "0" || w.FeeCurrency != "BTC" {
		t.Errorf("withdrawal in /v1/transfers %+v", w)
	}

	// More than available: 406, and nothing changes.
	_, err = fm.Withdraw(ctx, "BTC", dest, "1.50000001", "")
	var apiErr *gemini.APIError
	if !asAPIError(err, &apiErr) || apiErr.Status != 406 || apiErr.Reason != twinex.InsufficientFunds {
		t.Fatalf("withdrawing more than available: %v", err)
	}
	if got := balanceOf(t, fm, "BTC"); got != "1.5" {
		t.Errorf("BTC after a refused withdrawal: %s", got)
	}
	if list, _ := fm.Transfers(ctx, gemini.TransfersOptions{}); len(list) != 3 {
		t.Errorf("transfers after a refused withdrawal: %d", len(list))
	}
	// Filters: limit and timestamp (ms, as ccxt sends it).
	if list, _ := fm.Transfers(ctx, gemini.TransfersOptions{Limit: 1}); len(list) != 1 || list[0].Type != "Withdrawal" {
		t.Errorf("limit 1: %+v", list)
	}
	if list, _ := fm.Transfers(ctx, gemini.TransfersOptions{Since: time.Now().Add(time.Hour)}); len(list) != 0 {
		t.Errorf("transfers after a future time: %+v", list)
	}
}

func TestWithdrawInputsAndRoles(t *testing.T) {
	ts := privateServer(t)
	raw := newKey(t, ts, "w@example.com", `{"roles":"fundmanager"}`, "ETH", "5", "USD", "100")
	trader := newKey(t, ts, "w@example.com", `{"roles":"trader"}`)
	auditor := newKey(t, ts, "w@example.com", `{"roles":"auditor"}`)
	eth := "0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed"

	// ccxt sends the amount as a number and the currency in upper case.
	st, v := signedObject(t, ts, "/v1/withdraw/ETH", raw, `"amount":1.25,"address":"`+strings.ToLower(eth)+`"`)
	if st != 200 {
		t.Fatalf("withdraw with a numeric amount: %d %v", st, v)
	}
	wantTypes(t, "withdraw", v, map[string]string{"address": "string", "amount": "string", "fee": "string",
		"withdrawalId": "string", "txHash": "string", "message": "string"})
	if v["amount"] != "1.25" || v["address"] != eth {
		t.Errorf("withdraw answer %v (address in checksum case expected)", v)
	}
	if h, _ := v["txHash"].(string); len(h) != 66 || !strings.HasPrefix(h, "0x") {
		t.Errorf("ethereum txHash %q", h)
	}
	tr := signedList(t, ts, "/v1/transfers", raw, `"limit_transfers":"1"`)
	if len(tr) != 1 {
		t.Fatalf("transfers %v", tr)
	}
	wantTypes(t, "withdrawal item", tr[0], map[string]string{"type": "string", "status": "string", "timestampms": "number",
		"eid": "number", "currency": "string", "amount": "string", "txHash": "string", "destination": "string",
		"withdrawalId": "string", "feeAmount": "string", "feeCurrency": "string", "method": "absent"})
	if tr[0]["txHash"] != v["txHash"] || tr[0]["withdrawalId"] != v["withdrawalId"] || tr[0]["currency"] != "ETH" {
		t.Errorf("transfer %v for withdrawal %v", tr[0], v)
	}
	dep := signedList(t, ts, "/v1/transfers", raw, `"currency":"usd"`)
	if len(dep) != 1 {
		t.Fatalf("USD transfers %v", dep)
	}
	wantTypes(t, "deposit item", dep[0], map[string]string{"type": "string", "timestampms": "number", "eid": "number",
		"amount": "string", "method": "string", "destination": "absent", "withdrawalId": "absent"})

	for _, c := range []struct {
		name, path, fields, reason string
		status                     int
	}{
		{"no amount", "/v1/withdraw/eth", `"address":"` + eth + `"`, twinex.InvalidQuantity, 400},
		{"zero amount", "/v1/withdraw/eth", `"amount":"0","address":"` + eth + `"`, twinex.InvalidQuantity, 400},
		{"negative amount", "/v1/withdraw/eth", `"amount":-1,"address":"` + eth + `"`, twinex.InvalidQuantity, 400},
		{"amount without a leading digit", "/v1/withdraw/eth", `"amount":".5","address":"` + eth + `"`, twinex.InvalidQuantity, 400},
		{"amount ending in a point", "/v1/withdraw/eth", `"amount":"1.","address":"` + eth + `"`, twinex.InvalidQuantity, 400},
		{"amount not a number", "/v1/withdraw/eth", `"amount":true,"address":"` + eth + `"`, twinex.InvalidQuantity, 400},
		{"too many decimals", "/v1/withdraw/eth", `"amount":"0.00000000001","address":"` + eth + `"`, twinex.InvalidQuantity, 400},
		{"no address", "/v1/withdraw/eth", `"amount":"1"`, twinex.MissingPayloadKey, 400},
		{"address not a string", "/v1/withdraw/eth", `"amount":"1","address":5`, twinex.InvalidJson, 400},
		{"malformed address", "/v1/withdraw/eth", `"amount":"1","address":"0x1234"`, twinex.InvalidAddress, 400},
		{"bad checksum case", "/v1/withdraw/eth", `"amount":"1","address":"0x5AAeb6053F3E94C9b9A09f33669435E7Ef1BeAed"`, twinex.InvalidAddress, 400},
		{"bitcoin address for ether", "/v1/withdraw/eth", `"amount":"1","address":"bc1qw508d6qejxtdg4y5r3zarvary0c5xw7kv8f3t4"`, twinex.InvalidAddress, 400},
		{"bad bech32 checksum", "/v1/withdraw/btc", `"amount":"1","address":"bc1qw508d6qejxtdg4y5r3zarvary0c5xw7kv8f3t5"`, twinex.InvalidAddress, 400},
		{"unknown currency", "/v1/withdraw/doge", `"amount":"1","address":"` + eth + `"`, twinex.InvalidQuantity, 400},
		{"fiat", "/v1/withdraw/usd", `"amount":"1","address":"` + eth + `"`, twinex.UnsupportedNetwork, 404},
		{"long client id", "/v1/withdraw/eth", `"amount":"1","address":"` + eth + `","client_transfer_id":"` + strings.Repeat("x", 101) + `"`, twinex.InvalidJson, 400},
		{"beyond Gemini's precision for ETH (6)", "/v1/withdraw/eth", `"amount":"0.0000001","address":"` + eth + `"`, twinex.InvalidQuantity, 400},
		{"beyond Gemini's precision for BTC (8)", "/v1/withdraw/btc", `"amount":"0.000000001","address":"bc1qw508d6qejxtdg4y5r3zarvary0c5xw7kv8f3t4"`, twinex.InvalidQuantity, 400},
		{"more than available", "/v1/withdraw/eth", `"amount":"3.750001","address":"` + eth + `"`, twinex.InsufficientFunds, 406},
	} {
		st, v := signedObject(t, ts, c.path, raw, c.fields)
		wantReason(t, c.name, st, v, c.status, c.reason)
	}
	if st, v := signedObject(t, ts, "/v1/withdraw/eth", raw, `"amount":"3.75","address":"`+eth+`","memo":"x"`); st != 200 {
		t.Fatalf("withdrawing everything left: %d %v", st, v)
	}

	st, v = signedObject(t, ts, "/v1/withdraw/eth", trader, `"amount":"1","address":"`+eth+`"`)
	wantReason(t, "trader withdraws", st, v, 403, twinex.MissingRole)
	if msg, _ := v["message"].(string); !strings.Contains(msg, "[FundManager]") {
		t.Errorf("MissingRole message %q", msg)
	}
	st, v = signedObject(t, ts, "/v1/deposit/bitcoin/newAddress", auditor, "")
	wantReason(t, "auditor creates an address", st, v, 403, twinex.MissingRole)
	st, v = signedObject(t, ts, "/v1/approvedAddresses/ethereum/request", trader, `"address":"`+eth+`"`)
	wantReason(t, "trader requests an approved address", st, v, 403, twinex.MissingRole)
	// Reading is open to every role.
	for _, k := range []testKey{trader, auditor} {
		signedList(t, ts, "/v1/transfers", k, "")
		signedList(t, ts, "/v1/addresses/bitcoin", k, "")
		if st, v := signedObject(t, ts, "/v1/approvedAddresses/account/ethereum", k, ""); st != 200 {
			t.Errorf("approved list: %d %v", st, v)
		}
		if st, v := signedObject(t, ts, "/v1/payments/methods", k, ""); st != 200 {
			t.Errorf("payment methods: %d %v", st, v)
		}
	}
	st, v = signedObject(t, ts, "/v1/transfers", raw, `"limit_transfers":0`)
	wantReason(t, "limit 0", st, v, 400, twinex.InvalidJson)
	st, v = signedObject(t, ts, "/v1/transfers", raw, `"timestamp":"yesterday"`)
	wantReason(t, "bad timestamp", st, v, 400, twinex.InvalidTimestampInPayload)
}

func TestDepositAddresses(t *testing.T) {
	ts := privateServer(t)
	ctx := context.Background()
	k := newKey(t, ts, "a@example.com", `{"roles":"fundmanager"}`)
	fm := client(ts, k)
	raw := newKey(t, ts, "a@example.com", `{"roles":"fundmanager"}`)

	// ccxt's createDepositAddress: a currency code in upper case.
	na, err := fm.NewDepositAddress(ctx, "BTC", "main")
	if err != nil {
		t.Fatal(err)
	}
	if na.Network != "bitcoin" || na.Currency != "BTC" || na.Label != "main" || !strings.HasPrefix(na.Address, "bc1q") || len(na.Address) != 42 || !chainaddr.Valid("bitcoin", na.Address) {
		t.Errorf("new bitcoin address %+v", na)
	}
	na2, err := fm.NewDepositAddress(ctx, "bitcoin", "")
	if err != nil || na2.Address == na.Address || na2.Label != "" {
		t.Fatalf("second address %+v %v", na2, err)
	}
	list, err := fm.Addresses(ctx, "BITCOIN")
	if err != nil || len(list) != 2 || list[0].Address != na.Address || list[0].Label != "main" || list[1].Address != na2.Address {
		t.Fatalf("addresses %+v %v", list, err)
	}
	if d := time.Since(time.UnixMilli(list[0].Timestamp)); d < 0 || d > time.Minute {
		t.Errorf("address timestamp %d", list[0].Timestamp)
	}
	items := signedList(t, ts, "/v1/addresses/bitcoin", raw, `"timestamp":1`)
	if len(items) != 2 {
		t.Fatalf("addresses since 1970: %v", items)
	}
	wantTypes(t, "address item", items[0], map[string]string{"address": "string", "timestamp": "number", "label": "string"})
	if items := signedList(t, ts, "/v1/addresses/bitcoin", raw, fmt.Sprintf(`"timestamp":%d`, time.Now().Add(time.Hour).UnixMilli())); len(items) != 0 {
		t.Errorf("addresses created after a future time: %v", items)
	}
	if list, err := fm.Addresses(ctx, "ethereum"); err != nil || len(list) != 0 {
		t.Errorf("no ethereum addresses yet: %+v %v", list, err)
	}

	for _, c := range []struct{ seg, network, currency string }{
		{"Ethereum", "ethereum", "ETH"}, {"sol", "solana", "SOL"}, {"LTC", "litecoin", "LTC"},
	} {
		st, v := signedObject(t, ts, "/v1/deposit/"+c.seg+"/newAddress", raw, `"label":"x","legacy":false`)
		if st != 200 || v["network"] != c.network || v["currency"] != c.currency {
			t.Fatalf("%s: %d %v", c.seg, st, v)
		}
		wantTypes(t, "newAddress", v, map[string]string{"network": "string", "currency": "string", "address": "string", "label": "string"})
		if a := v["address"].(string); !chainaddr.Valid(c.network, a) {
			t.Errorf("%s address %q is not valid", c.network, a)
		}
	}
	eth := signedList(t, ts, "/v1/addresses/ethereum", raw, "")
	if a := eth[0]["address"].(string); len(a) != 42 || chainaddr.EIP55(a[2:]) != a {
		t.Errorf("ethereum address %q is not in checksum case", a)
	}
	for _, seg := range []string{"usd", "dogecoin", "xx"} {
		st, v := signedObject(t, ts, "/v1/deposit/"+seg+"/newAddress", raw, "")
		wantReason(t, "newAddress "+seg, st, v, 404, twinex.UnsupportedNetwork)
		st, v = signedObject(t, ts, "/v1/addresses/"+seg, raw, "")
		wantReason(t, "addresses "+seg, st, v, 404, twinex.UnsupportedNetwork)
	}
	st, v := signedObject(t, ts, "/v1/deposit/btc/newAddress", raw, `"label":`+fmt.Sprintf("%q", strings.Repeat("l", 101)))
	wantReason(t, "long label", st, v, 400, twinex.InvalidJson)
	if list, _ := fm.Addresses(ctx, "bitcoin"); len(list) != 2 {
		t.Errorf("a refused request created an address: %+v", list)
	}
}

func TestApprovedAddresses(t *testing.T) {
	ts := privateServer(t)
	ctx := context.Background()
	fm := client(ts, newKey(t, ts, "ap@example.com", `{"roles":"trader,fundmanager"}`, "ETH", "10"))
	raw := newKey(t, ts, "ap@example.com", `{"roles":"fundmanager"}`)
	approved := "0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed"
	other := "0xfB6916095ca1df60bB79Ce92cE3Ea74c37c5d359"

	// With an empty list any well-formed address will do.
	if _, err := fm.Withdraw(ctx, "eth", other, "1", ""); err != nil {
		t.Fatalf("withdrawal with allowlisting off: %v", err)
	}
	msg, err := fm.ApprovedAddressRequest(ctx, "ethereum", strings.ToLower(approved), "hw wallet", "")
	if err != nil || msg.Message == "" {
		t.Fatalf("request: %+v %v", msg, err)
	}
	st, v := signedObject(t, ts, "/v1/approvedAddresses/account/ETHEREUM", raw, "")
	list, _ := v["approvedAddresses"].([]any)
	if st != 200 || len(list) != 1 {
		t.Fatalf("list: %d %v", st, v)
	}
	item := list[0].(map[string]any)
	wantTypes(t, "approved address", item, map[string]string{"network": "string", "scope": "string", "label": "string",
		"status": "string", "createdAt": "string", "address": "string"})
	if item["network"] != "ethereum" || item["scope"] != "account" || item["status"] != "active" || item["address"] != approved || item["label"] != "hw wallet" {
		t.Errorf("approved address %v", item)
	}
	if got, err := fm.ApprovedAddressList(ctx, "ethereum"); err != nil || len(got) != 1 || time.Since(time.UnixMilli(got[0].CreatedAt)) > time.Minute {
		t.Errorf("list through the client: %+v %v", got, err)
	}

	// Now the list is on: other addresses are refused, and nothing changes.
	_, err = fm.Withdraw(ctx, "eth", other, "1", "")
	if !gemini.IsReason(err, twinex.AddressNotApproved) {
		t.Fatalf("withdrawal to an address off the list: %v", err)
	}
	if got := balanceOf(t, fm, "ETH"); got != "9" {
		t.Errorf("ETH after a refused withdrawal: %s", got)
	}
	if _, err := fm.Withdraw(ctx, "eth", strings.ToLower(approved), "1", ""); err != nil {
		t.Fatalf("withdrawal to the approved address (any case): %v", err)
	}
	// Other networks are not affected.
	st, v = signedObject(t, ts, "/v1/approvedAddresses/account/bitcoin", raw, "")
	if list, _ := v["approvedAddresses"].([]any); st != 200 || list == nil || len(list) != 0 {
		t.Errorf("bitcoin list: %d %v", st, v)
	}

	st, v = signedObject(t, ts, "/v1/approvedAddresses/ethereum/request", raw, `"address":"`+approved+`","label":"again"`)
	wantReason(t, "requesting a listed address", st, v, 400, twinex.InvalidAddress)
	st, v = signedObject(t, ts, "/v1/approvedAddresses/ethereum/request", raw, `"address":"not-an-address"`)
	wantReason(t, "requesting a malformed address", st, v, 400, twinex.InvalidAddress)
	st, v = signedObject(t, ts, "/v1/approvedAddresses/ethereum/request", raw, `"label":"x"`)
	wantReason(t, "requesting without an address", st, v, 400, twinex.MissingPayloadKey)
	st, v = signedObject(t, ts, "/v1/approvedAddresses/ethereum/approve", raw, `"address":"`+approved+`"`)
	wantReason(t, "unknown action", st, v, 404, twinex.EndpointNotFound)
	st, v = signedObject(t, ts, "/v1/approvedAddresses/dogecoin/request", raw, `"address":"`+approved+`"`)
	wantReason(t, "unknown network", st, v, 404, twinex.UnsupportedNetwork)

	if msg, err := fm.ApprovedAddressRemove(ctx, "ethereum", approved); err != nil || msg.Message == "" {
		t.Fatalf("remove: %+v %v", msg, err)
	}
	st, v = signedObject(t, ts, "/v1/approvedAddresses/ethereum/remove", raw, `"address":"`+approved+`"`)
	wantReason(t, "removing twice", st, v, 400, twinex.InvalidAddress)
	if got, err := fm.ApprovedAddressList(ctx, "ethereum"); err != nil || len(got) != 0 {
		t.Errorf("list after removal: %+v %v", got, err)
	}
	// Emptied is not off: the allowlist stays on once used.
	if _, err := fm.Withdraw(ctx, "eth", other, "1", ""); !gemini.IsReason(err, twinex.AddressNotApproved) {
		t.Fatalf("withdrawal with the list emptied: %v", err)
	}
}

// TestApprovalHold runs the approved-address routes with a hold, on a copy
// of the server with its own clock.
func TestApprovalHold(t *testing.T) {
	ts := privateServer(t)
	k := newKey(t, ts, "hold@example.com", `{"roles":"fundmanager"}`, "BTC", "1")
	cp := *serverOf(t, ts)
	now := time.Now()
	cp.Now = func() time.Time { return now }
	cp.mux = http.NewServeMux()
	newFunds(&cp, 7*24*time.Hour).route()
	held := httptest.NewServer(cp.mux)
	defer held.Close()

	dest := "bc1qw508d6qejxtdg4y5r3zarvary0c5xw7kv8f3t4"
	st, v := signedObject(t, held, "/v1/approvedAddresses/bitcoin/request", k, `"address":"`+strings.ToUpper(dest)+`","label":"cold","memo":"m-1"`)
	if st != 200 || !strings.Contains(v["message"].(string), "7-day") {
		t.Fatalf("request: %d %v", st, v)
	}
	list := func() map[string]any {
		st, v := signedObject(t, held, "/v1/approvedAddresses/account/bitcoin", k, "")
		l, _ := v["approvedAddresses"].([]any)
		if st != 200 || len(l) != 1 {
			t.Fatalf("list: %d %v", st, v)
		}
		return l[0].(map[string]any)
	}
	if it := list(); it["status"] != "pending-time" || it["address"] != dest || it["memo"] != "m-1" {
		t.Errorf("during the hold: %v", it)
	}
	st, v = signedObject(t, held, "/v1/withdraw/btc", k, `"amount":"0.1","address":"`+dest+`"`)
	wantReason(t, "withdrawal during the hold", st, v, 400, twinex.AddressNotApproved)
	now = now.Add(7*24*time.Hour + time.Second)
	if it := list(); it["status"] != "active" {
		t.Errorf("after the hold: %v", it)
	}
	if st, v := signedObject(t, held, "/v1/withdraw/btc", k, `"amount":"0.1","address":"`+dest+`"`); st != 200 {
		t.Fatalf("withdrawal after the hold: %d %v", st, v)
	}
}

func TestNotionalBalances(t *testing.T) {
	ts := privateServer(t)
	ctx := context.Background()
	alice := client(ts, newKey(t, ts, "na@example.com", `{"roles":"trader"}`, "USD", "100000"))
	bobKey := newKey(t, ts, "nb@example.com", `{"roles":"trader"}`, "BTC", "2", "ETH", "10", "SOL", "3")
	bob := client(ts, bobKey)
	raw := newKey(t, ts, "nb@example.com", `{"roles":"auditor"}`)

	// Before any trade only USD itself has a value in USD.
	for _, it := range signedList(t, ts, "/v1/notionalbalances/usd", raw, "") {
		if _, ok := it["amountNotional"]; ok {
			t.Errorf("notional of %v without a price", it)
		}
	}
	if _, err := bob.NewOrder(ctx, gemini.NewOrderRequest{Symbol: "btcusd", Amount: "0.5", Price: "30000", Side: "sell"}); err != nil {
		t.Fatal(err)
	}
	if _, err := alice.NewOrder(ctx, gemini.NewOrderRequest{Symbol: "btcusd", Amount: "0.2", Price: "30000", Side: "buy"}); err != nil {
		t.Fatal(err)
	}
	// ETH is priced through BTC: 1 ETH = 0.05 BTC = 1500 USD.
	if _, err := bob.NewOrder(ctx, gemini.NewOrderRequest{Symbol: "ethbtc", Amount: "1", Price: "0.05", Side: "sell"}); err != nil {
		t.Fatal(err)
	}
	if _, err := alice.NewOrder(ctx, gemini.NewOrderRequest{Symbol: "ethbtc", Amount: "1", Price: "0.05", Side: "buy"}); err != nil {
		t.Fatal(err)
	}
	byCur := func(items []map[string]any) map[string]map[string]any {
		out := map[string]map[string]any{}
		for _, it := range items {
			out[it["currency"].(string)] = it
		}
		return out
	}
	got := byCur(signedList(t, ts, "/v1/notionalbalances/USD", raw, ""))
	// Bob: BTC 2 - 0.2 sold + 0.05 for his ether less the 10 bps maker fee,
	// of which 0.3 is held by his resting sell.
	b := got["BTC"]
	wantTypes(t, "notional item", b, map[string]string{"currency": "string", "amount": "string", "amountNotional": "string",
		"available": "string", "availableNotional": "string", "availableForWithdrawal": "string", "availableForWithdrawalNotional": "string"})
	if b["amount"] != "1.84995" || b["amountNotional"] != "55498.5" || b["available"] != "1.54995" || b["availableNotional"] != "46498.5" || b["availableForWithdrawalNotional"] != "46498.5" {
		t.Errorf("BTC notional %v", b)
	}
	if e := got["ETH"]; e["amount"] != "9" || e["amountNotional"] != "13500" {
		t.Errorf("ETH notional through BTC %v", e)
	}
	if u := got["USD"]; u == nil || u["amountNotional"] != u["amount"] {
		t.Errorf("USD in USD %v", u)
	}
	if s := got["SOL"]; s == nil || s["amountNotional"] != nil {
		t.Errorf("SOL never traded: %v", s)
	}
	// In BTC, through the inverse of btcusd.
	nb, err := alice.NotionalBalances(ctx, "btc")
	if err != nil {
		t.Fatal(err)
	}
	for _, it := range nb {
		// 93979 USD / 30000, rounded to BTC's 8 display decimals.
		if it.Currency == "USD" && (it.AmountNotional != "3.13263333" || it.AvailableNotional != "3.13263333") {
			t.Errorf("USD in BTC: %+v", it)
		}
	}
	st, v := signedObject(t, ts, "/v1/notionalbalances/xyz", raw, "")
	wantReason(t, "unknown notional currency", st, v, 400, twinex.InvalidQuantity)

	pm, err := bob.PaymentMethods(ctx)
	if err != nil || len(pm.Balances) != 4 || pm.Banks == nil || len(pm.Banks) != 0 {
		t.Fatalf("payment methods %+v %v", pm, err)
	}
}

// TestFundsRateLimits: with private limits on, §4's per-endpoint limits
// apply per account.
func TestFundsRateLimits(t *testing.T) {
	ts := privateServer(t)
	k := newKey(t, ts, "frl@example.com", `{"roles":"fundmanager"}`)
	serverOf(t, ts).PrivateLimit = ratelimit.New(ratelimit.GeminiPrivate())
	for _, path := range []string{"/v1/addresses/bitcoin", "/v1/transfers"} {
		signedList(t, ts, path, k, "")
		st, v := signedObject(t, ts, path, k, "")
		wantReason(t, "second "+path, st, v, 429, twinex.RateLimit)
	}
	// newAddress shares the addresses limit.
	st, v := signedObject(t, ts, "/v1/deposit/btc/newAddress", k, "")
	wantReason(t, "newAddress right after addresses", st, v, 429, twinex.RateLimit)
	// Other funds endpoints only have the general limit.
	if st, v := signedObject(t, ts, "/v1/payments/methods", k, ""); st != 200 {
		t.Errorf("payment methods: %d %v", st, v)
	}
}

// TestFundsRateLimitsOff: --rate-private off turns the per-endpoint limits
// off too.
func TestFundsRateLimitsOff(t *testing.T) {
	ts := privateServer(t)
	k := newKey(t, ts, "frloff@example.com", `{"roles":"fundmanager"}`)
	serverOf(t, ts).PrivateLimit = ratelimit.New(ratelimit.Limit{})
	for _, path := range []string{"/v1/addresses/bitcoin", "/v1/transfers", "/v1/addresses/bitcoin", "/v1/transfers"} {
		signedList(t, ts, path, k, "")
	}
}

// TestInternalTransfersJSON: moves between accounts show as deposits and
// withdrawals with purpose "Internal".
func TestInternalTransfersJSON(t *testing.T) {
	cur := twinex.DefaultMarkets().Currency("BTC")
	in := geminiTransferJSON(twinex.Transfer{ID: 7, Kind: twinex.TransferIn, Currency: "BTC", Amount: 5e10, Time: 2e9}, cur)
	if in.Type != "Deposit" || in.Purpose != "Internal" || in.Amount != "0.5" || in.EID != 7 || in.Timestampms != 2000 || in.WithdrawalID != "" {
		t.Errorf("incoming %v", in)
	}
	out := geminiTransferJSON(twinex.Transfer{ID: 8, Kind: twinex.TransferOut, Currency: "BTC", Amount: 5e10}, cur)
	if out.Type != "Withdrawal" || out.Purpose != "Internal" || out.WithdrawalID != "" || out.Destination != nil {
		t.Errorf("outgoing %v", out)
	}
}

// TestRemovingEveryApprovedAddressKeepsTheAllowlistOn: once an account used
// its allowlist, removing every entry must not open withdrawals to any
// address (the hold would otherwise mean nothing).
func TestRemovingEveryApprovedAddressKeepsTheAllowlistOn(t *testing.T) {
	ts := privateServer(t)
	ctx := context.Background()
	fm := client(ts, newKey(t, ts, "rm@example.com", `{"roles":"fundmanager"}`, "ETH", "10"))
	approved := "0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed"
	other := "0xfB6916095ca1df60bB79Ce92cE3Ea74c37c5d359"
	if _, err := fm.ApprovedAddressRequest(ctx, "ethereum", approved, "hw wallet", ""); err != nil {
		t.Fatal(err)
	}
	if _, err := fm.ApprovedAddressRemove(ctx, "ethereum", approved); err != nil {
		t.Fatal(err)
	}
	if _, err := fm.Withdraw(ctx, "eth", other, "1", ""); !gemini.IsReason(err, twinex.AddressNotApproved) {
		t.Fatalf("withdrawal after emptying the allowlist: %v", err)
	}
	if got := balanceOf(t, fm, "ETH"); got != "10" {
		t.Fatalf("ETH balance %s after a refused withdrawal", got)
	}
}

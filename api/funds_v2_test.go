package api

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/twinex/twinex"
	"github.com/twinex/twinex/gemini"
)

// TestV2Funds drives the v2 funds endpoints through the Go client: they
// share the v1 forms' rules and records.
func TestV2Funds(t *testing.T) {
	ts := privateServer(t)
	ctx := context.Background()
	key := newKey(t, ts, "v2@example.com", `{"roles":"fundmanager"}`, "ETH", "5", "BTC", "1")
	fm := client(ts, key)
	eth := "0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed"

	est, err := fm.WithdrawFeeEstimateV2(ctx, "ethereum", "eth", strings.ToLower(eth), "1.5", gemini.WithdrawV2Options{})
	if err != nil || est.Currency != "ETH" || est.Fee != "0" || est.IsOverride {
		t.Fatalf("fee estimate %+v %v", est, err)
	}
	if got := balanceOf(t, fm, "ETH"); got != "5" {
		t.Errorf("ETH after a fee estimate: %s", got)
	}
	wd, err := fm.WithdrawV2(ctx, "ethereum", "ETH", strings.ToLower(eth), "1.5", gemini.WithdrawV2Options{ClientTransferID: "AA97B177-9383-4934-8543-0F91A7A02838"})
	if err != nil {
		t.Fatal(err)
	}
	if wd.Address != eth || wd.Amount != "1.5" || wd.Currency != "ETH" || wd.Fee != "0" || len(wd.WithdrawalID) != 36 {
		t.Errorf("v2 withdrawal %+v (address in checksum case expected)", wd)
	}
	if got := balanceOf(t, fm, "ETH"); got != "3.5" {
		t.Errorf("ETH after withdrawing 1.5: %s", got)
	}
	// The same withdrawal in both lists; only v2 names the network, and
	// the admin credits (no chain) name none.
	v1, err := fm.Transfers(ctx, gemini.TransfersOptions{})
	if err != nil || len(v1) != 3 || v1[0].Network != "" {
		t.Fatalf("v1 transfers %+v %v", v1, err)
	}
	v2, err := fm.TransfersV2(ctx, gemini.TransfersOptions{}, "")
	if err != nil || len(v2) != 3 {
		t.Fatalf("v2 transfers %+v %v", v2, err)
	}
	if w := v2[0]; w.Type != "Withdrawal" || w.Network != "ethereum" || w.WithdrawalID != wd.WithdrawalID || w.Destination != eth {
		t.Errorf("v2 withdrawal item %+v", w)
	}
	for _, d := range v2[1:] {
		if d.Type != "Deposit" || d.Network != "" {
			t.Errorf("v2 admin deposit %+v", d)
		}
	}
	if list, err := fm.TransfersV2(ctx, gemini.TransfersOptions{}, "bitcoin"); err != nil || len(list) != 1 || list[0].Currency != "BTC" {
		t.Errorf("v2 transfers on bitcoin %+v %v", list, err)
	}
	if list, err := fm.TransfersV2(ctx, gemini.TransfersOptions{Currency: "eth"}, "bitcoin"); err != nil || len(list) != 0 {
		t.Errorf("v2 ETH transfers on bitcoin %+v %v", list, err)
	}
	if list, err := fm.TransfersV2(ctx, gemini.TransfersOptions{Limit: 1}, "ethereum"); err != nil || len(list) != 1 || list[0].Type != "Withdrawal" {
		t.Errorf("v2 transfers on ethereum, limit 1: %+v %v", list, err)
	}

	trader := newKey(t, ts, "v2@example.com", `{"roles":"trader"}`)
	for _, c := range []struct {
		name, path, fields, reason string
		key                        testKey
		status                     int
	}{
		{"ticker on another network", "/v2/withdraw/bitcoin/eth", `"amount":"1","address":"` + eth + `"`, twinex.UnsupportedNetwork, key, 404},
		{"unknown network", "/v2/withdraw/dogecoin/eth", `"amount":"1","address":"` + eth + `"`, twinex.UnsupportedNetwork, key, 404},
		{"fiat ticker", "/v2/withdraw/ethereum/usd", `"amount":"1","address":"` + eth + `"`, twinex.UnsupportedNetwork, key, 404},
		{"unknown ticker", "/v2/withdraw/ethereum/xyz", `"amount":"1","address":"` + eth + `"`, twinex.InvalidQuantity, key, 400},
		{"no amount", "/v2/withdraw/ethereum/eth", `"address":"` + eth + `"`, twinex.InvalidQuantity, key, 400},
		{"too precise", "/v2/withdraw/ethereum/eth", `"amount":"0.0000001","address":"` + eth + `"`, twinex.InvalidQuantity, key, 400},
		{"bad address", "/v2/withdraw/ethereum/eth", `"amount":"1","address":"0x123"`, twinex.InvalidAddress, key, 400},
		{"no address", "/v2/withdraw/ethereum/eth", `"amount":"1"`, twinex.MissingPayloadKey, key, 400},
		{"long clientTransferId", "/v2/withdraw/ethereum/eth", `"amount":"1","address":"` + eth + `","clientTransferId":"` + strings.Repeat("x", 101) + `"`, twinex.InvalidJson, key, 400},
		{"more than available", "/v2/withdraw/ethereum/eth", `"amount":"4","address":"` + eth + `"`, twinex.InsufficientFunds, key, 406},
		{"trader withdraws", "/v2/withdraw/ethereum/eth", `"amount":"1","address":"` + eth + `"`, twinex.MissingRole, trader, 403},
		{"estimate on another network", "/v2/withdraw/bitcoin/eth/feeEstimate", `"amount":"1","address":"` + eth + `"`, twinex.UnsupportedNetwork, key, 404},
		{"estimate with a bad address", "/v2/withdraw/ethereum/eth/feeEstimate", `"amount":"1","address":"nope"`, twinex.InvalidAddress, key, 400},
		{"v2 transfers on an unknown network", "/v2/transfers", `"network":"nowhere"`, twinex.UnsupportedNetwork, key, 404},
	} {
		st, v := signedObject(t, ts, c.path, c.key, c.fields)
		wantReason(t, c.name, st, v, c.status, c.reason)
	}
	// Gemini's spec opens the estimate to every role.
	if st, v := signedObject(t, ts, "/v2/withdraw/ethereum/eth/feeEstimate", trader, `"amount":"1","address":"`+eth+`"`); st != 200 {
		t.Errorf("trader's fee estimate: %d %v", st, v)
	}
	// A key of its own: the raw requests above moved fm's nonce past the
	// client's.
	auditor := client(ts, newKey(t, ts, "v2@example.com", `{"roles":"auditor"}`))
	if got := balanceOf(t, auditor, "ETH"); got != "3.5" {
		t.Errorf("ETH after refused withdrawals: %s", got)
	}
}

// TestV2WithdrawKeepsTheAllowlist checks that the v2 form applies the
// approved-address rule of the v1 form (one code path).
func TestV2WithdrawKeepsTheAllowlist(t *testing.T) {
	ts := privateServer(t)
	ctx := context.Background()
	fm := client(ts, newKey(t, ts, "al@example.com", `{"roles":"fundmanager"}`, "ETH", "5"))
	eth := "0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed"
	other := "0xfB6916095ca1df60bB79Ce92cE3Ea74c37c5d359"
	if _, err := fm.ApprovedAddressRequest(ctx, "ethereum", eth, "mine", ""); err != nil {
		t.Fatal(err)
	}
	if _, err := fm.WithdrawV2(ctx, "ethereum", "eth", other, "1", gemini.WithdrawV2Options{}); !gemini.IsReason(err, twinex.AddressNotApproved) {
		t.Fatalf("v2 withdrawal to an address off the list: %v", err)
	}
	if _, err := fm.WithdrawV2(ctx, "ethereum", "eth", eth, "1", gemini.WithdrawV2Options{}); err != nil {
		t.Fatalf("v2 withdrawal to an approved address: %v", err)
	}
}

// TestOrderStatusByClientOrderIDWithZeroOrderID: Gemini's SDK sends
// "order_id": 0 beside client_order_id; 0 means "not given".
func TestOrderStatusByClientOrderIDWithZeroOrderID(t *testing.T) {
	ts := privateServer(t)
	k := newKey(t, ts, "st@example.com", `{"roles":"trader"}`, "USD", "1000")
	if st, v := signedObject(t, ts, "/v1/order/new", k, `"client_order_id":"c-7","symbol":"btcusd","amount":"0.01","price":"1000","side":"buy","type":"exchange limit"`); st != 200 {
		t.Fatalf("new order: %d %v", st, v)
	}
	for _, fields := range []string{`"order_id":0,"client_order_id":"c-7"`, `"order_id":"0","client_order_id":"c-7"`, `"order_id":null,"client_order_id":"c-7"`, `"client_order_id":"c-7"`} {
		st, v := signedObject(t, ts, "/v1/order/status", k, fields)
		if st != 200 || v["client_order_id"] != "c-7" {
			t.Errorf("status with %s: %d %v", fields, st, v)
		}
	}
	st, v := signedObject(t, ts, "/v1/order/status", k, `"order_id":0`)
	wantReason(t, "order_id 0 alone", st, v, 400, twinex.MissingOrderField)
	st, v = signedObject(t, ts, "/v1/order/status", k, `"order_id":-1,"client_order_id":"c-7"`)
	wantReason(t, "negative order_id", st, v, 404, twinex.OrderNotFound)
	st, v = signedObject(t, ts, "/v1/order/status", k, `"order_id":0,"client_order_id":"nope"`)
	wantReason(t, "unknown client order id", st, v, 404, twinex.OrderNotFound)
}

// TestRootUpgradeIsRefusedInJSON: an upgrade at the root to anything but a
// WebSocket (the newer WebSocket API lives there) is refused in JSON,
// never answered with the HTML page.
func TestRootUpgradeIsRefusedInJSON(t *testing.T) {
	ts := privateServer(t)
	req, _ := http.NewRequest("GET", ts.URL+"/", nil)
	req.Header.Set("Connection", "Upgrade")
	req.Header.Set("Upgrade", "h2c")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var v map[string]any
	if err := json.NewDecoder(resp.Body).Decode(&v); err != nil || resp.Header.Get("Content-Type") != "application/json" {
		t.Fatalf("upgrade at the root: %d %s %v", resp.StatusCode, resp.Header.Get("Content-Type"), err)
	}
	wantReason(t, "upgrade at the root", resp.StatusCode, v, 404, twinex.EndpointNotFound)
	// A plain GET still gets the page.
	resp, err = http.Get(ts.URL + "/")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/html") {
		t.Errorf("plain GET /: %d %s", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
}

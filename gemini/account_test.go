package gemini_test

import (
	"context"
	"net/http"
	"testing"

	"github.com/twinex/twinex/gemini"
)

// TestMasterKeyAccount checks the "account" field of master keys: WithAccount
// adds it to account-scoped calls, ForAccount overrides it per call and
// shares the nonce sequence, group-level calls never get it, explicit
// parameters win, and public calls stay unsigned.
func TestMasterKeyAccount(t *testing.T) {
	ctx := context.Background()
	f := newFake(t)
	f.on("POST /v1/balances", http.StatusOK, fixBalances)
	f.on("POST /v1/order/new", http.StatusOK, fixOrder)
	f.on("POST /v1/account/list", http.StatusOK, fixAccountList)
	f.on("POST /v1/account/transfer/btc", http.StatusOK, fixAccountTransfer)
	f.on("POST /v1/account/rename", http.StatusOK, `{"name":"Other","account":"other"}`)
	f.on("POST /v1/roles", http.StatusOK, fixRoles)
	f.on("GET /v1/symbols", http.StatusOK, fixSymbols)
	c := gemini.New(f.srv.URL, "master-QjbI0a5XcIwbWCoWGwgs", testSecret, gemini.WithAccount("primary"))

	account := func() any {
		t.Helper()
		v, ok := f.last(t).Payload["account"]
		if !ok {
			return nil
		}
		return v
	}
	nonce := func() string { s, _ := f.last(t).Payload["nonce"].(string); return s }

	if _, err := c.Balances(ctx); err != nil {
		t.Fatal(err)
	}
	if got := account(); got != "primary" {
		t.Errorf("Balances account = %#v, want primary", got)
	}
	n1 := nonce()

	if _, err := c.ForAccount("my-secondary-account").NewOrder(ctx, gemini.NewOrderRequest{Symbol: "btcusd", Amount: "1", Price: "1", Side: "buy"}); err != nil {
		t.Fatal(err)
	}
	if got := account(); got != "my-secondary-account" {
		t.Errorf("ForAccount account = %#v", got)
	}
	n2 := nonce()
	if len(n2) < len(n1) || (len(n2) == len(n1) && n2 <= n1) {
		t.Errorf("ForAccount nonce %s not above %s: the sequence must be shared", n2, n1)
	}

	if _, err := c.Balances(ctx); err != nil { // ForAccount did not change c
		t.Fatal(err)
	}
	if got := account(); got != "primary" {
		t.Errorf("after ForAccount, account = %#v, want primary", got)
	}

	for name, call := range map[string]func() error{
		"ListAccounts":    func() error { _, err := c.ListAccounts(ctx, gemini.ListAccountsOptions{}); return err },
		"AccountTransfer": func() error { _, err := c.AccountTransfer(ctx, "btc", "a", "b", "1"); return err },
		"Roles":           func() error { _, err := c.Roles(ctx); return err },
	} {
		if err := call(); err != nil {
			t.Fatal(name, err)
		}
		if got := account(); got != nil {
			t.Errorf("%s sent account %#v to a group-level endpoint", name, got)
		}
	}

	if _, err := c.RenameAccount(ctx, "my-secondary-account", "Other", ""); err != nil {
		t.Fatal(err)
	}
	if got := account(); got != "my-secondary-account" {
		t.Errorf("RenameAccount account = %#v, want the explicit one", got)
	}

	if _, err := c.Symbols(ctx); err != nil {
		t.Fatal(err)
	}
	if h := f.last(t).Header.Get("X-Gemini-Payload"); h != "" {
		t.Error("public call was signed")
	}

	// An account key without WithAccount never sends the field.
	if _, err := f.client().Balances(ctx); err != nil {
		t.Fatal(err)
	}
	if got := account(); got != nil {
		t.Errorf("account key sent account %#v", got)
	}
}

// TestSignedHeader checks the exported header builder used for WebSocket
// upgrades.
func TestSignedHeader(t *testing.T) {
	c := gemini.New("http://unused", testKey, testSecret, gemini.WithAccount("primary"))
	h, err := c.SignedHeader("/v1/order/events", nil)
	if err != nil {
		t.Fatal(err)
	}
	p := h.Get("X-GEMINI-PAYLOAD")
	if h.Get("X-GEMINI-APIKEY") != testKey || h.Get("X-GEMINI-SIGNATURE") != gemini.Sign(testSecret, p) {
		t.Errorf("headers = %v", h)
	}
}

package gemini_test

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/twinex/twinex/gemini"
)

// TestSignVectors checks the exported Sign against §1.3's test vector 1 and
// the base64 form of test vector 2.
func TestSignVectors(t *testing.T) {
	const payload = "ewogICAgInJlcXVlc3QiOiAiL3YxL29yZGVyL3N0YXR1cyIsCiAgICAibm9uY2UiOiAxMjM0NTYsCgogICAgIm9yZGVyX2lkIjogMTg4MzQKfQo="
	const want = "337cc8b4ea692cfe65b4a85fcc9f042b2e3f702ac956fd098d600ab15705775017beae402be773ceee10719ff70d710f"
	if got := gemini.Sign("1234abcd", payload); got != want {
		t.Errorf("Sign(vector 1) = %s, want %s", got, want)
	}
	got := base64.StdEncoding.EncodeToString([]byte(`{"request": "/v1/balances", "nonce": 1515123745863}`))
	if want := "eyJyZXF1ZXN0IjogIi92MS9iYWxhbmNlcyIsICJub25jZSI6IDE1MTUxMjM3NDU4NjN9"; got != want {
		t.Errorf("base64(vector 2) = %s, want %s", got, want)
	}
}

// num is an expected JSON number in a payload: the fake server decodes with
// UseNumber, so a JSON string arrives as a string, a JSON number as a
// json.Number and a boolean as a bool, and the types are compared too.
func num(s string) json.Number { return json.Number(s) }

// checkPrivate verifies everything §1 requires of a private call and returns
// its nonce.
func checkPrivate(t *testing.T, c call, path string) int64 {
	t.Helper()
	if c.Method != http.MethodPost {
		t.Errorf("method = %s, want POST", c.Method)
	}
	if c.Path != path || c.RawQuery != "" {
		t.Errorf("path = %s?%s, want %s and no query", c.Path, c.RawQuery, path)
	}
	for h, want := range map[string]string{
		"X-Gemini-Apikey": testKey,
		"Content-Type":    "text/plain",
		"Content-Length":  "0",
		"Cache-Control":   "no-cache",
	} {
		if got := c.Header.Get(h); got != want {
			t.Errorf("%s = %q, want %q", h, got, want)
		}
	}
	if len(c.Body) != 0 {
		t.Errorf("body = %q, want empty", c.Body)
	}
	if c.Header.Get("X-Gemini-Payload") == "" || c.Header.Get("X-Gemini-Signature") == "" {
		t.Fatal("missing payload or signature header")
	}
	if !c.SigOK {
		t.Errorf("signature %s does not verify", c.Header.Get("X-Gemini-Signature"))
	}
	if c.Payload["request"] != path {
		t.Errorf("payload request = %#v, want %q", c.Payload["request"], path)
	}
	ns, ok := c.Payload["nonce"].(string)
	if !ok {
		t.Fatalf("nonce = %#v (%T), want a JSON string of digits", c.Payload["nonce"], c.Payload["nonce"])
	}
	n, err := strconv.ParseInt(ns, 10, 64)
	if err != nil || strings.TrimLeft(ns, "0123456789") != "" {
		t.Fatalf("nonce %q is not a string of digits", ns)
	}
	return n
}

// TestPrivateRequests checks method, path, headers, signature, payload path,
// increasing nonce and the exact parameters (with their JSON types) of every
// private call.
func TestPrivateRequests(t *testing.T) {
	ctx := context.Background()
	since := time.UnixMilli(1547232911000)
	tests := []struct {
		name   string
		path   string
		call   func(*gemini.Client) error
		params map[string]any
	}{
		{"new order", "/v1/order/new", func(c *gemini.Client) error {
			_, err := c.NewOrder(ctx, gemini.NewOrderRequest{ClientOrderID: "my-1", Symbol: "btcusd",
				Amount: "0.12345678", Price: "3633.12", Side: gemini.SideBuy,
				Options: []string{gemini.OptionMakerOrCancel}})
			return err
		}, map[string]any{"client_order_id": "my-1", "symbol": "btcusd", "amount": "0.12345678", "price": "3633.12",
			"side": "buy", "type": "exchange limit", "options": []any{"maker-or-cancel"}}},
		{"new stop order", "/v1/order/new", func(c *gemini.Client) error {
			_, err := c.NewOrder(ctx, gemini.NewOrderRequest{Symbol: "BTCUSD", Amount: "1", Price: "3600",
				Side: gemini.SideSell, Type: gemini.OrderTypeExchangeStopLimit, StopPrice: "3700"})
			return err
		}, map[string]any{"symbol": "BTCUSD", "amount": "1", "price": "3600", "side": "sell",
			"type": "exchange stop limit", "stop_price": "3700"}},
		{"cancel order: order_id is a number", "/v1/order/cancel", func(c *gemini.Client) error {
			_, err := c.CancelOrder(ctx, "106817811")
			return err
		}, map[string]any{"order_id": num("106817811")}},
		{"cancel session", "/v1/order/cancel/session", func(c *gemini.Client) error {
			_, err := c.CancelSession(ctx)
			return err
		}, map[string]any{}},
		{"cancel all", "/v1/order/cancel/all", func(c *gemini.Client) error {
			_, err := c.CancelAll(ctx)
			return err
		}, map[string]any{}},
		{"order status by id", "/v1/order/status", func(c *gemini.Client) error {
			_, err := c.OrderStatus(ctx, gemini.OrderStatusRequest{OrderID: "18834", IncludeTrades: true})
			return err
		}, map[string]any{"order_id": num("18834"), "include_trades": true}},
		{"order status by client id", "/v1/order/status", func(c *gemini.Client) error {
			_, err := c.OrderStatus(ctx, gemini.OrderStatusRequest{ClientOrderID: "20190110-4738721"})
			return err
		}, map[string]any{"client_order_id": "20190110-4738721"}},
		{"active orders", "/v1/orders", func(c *gemini.Client) error {
			_, err := c.ActiveOrders(ctx)
			return err
		}, map[string]any{}},
		{"orders history", "/v1/orders/history", func(c *gemini.Client) error {
			_, err := c.OrdersHistory(ctx, gemini.OrdersHistoryOptions{Symbol: "btcusd", Limit: 100, Since: since})
			return err
		}, map[string]any{"symbol": "btcusd", "limit_orders": num("100"), "timestamp": num("1547232911000")}},
		{"mytrades", "/v1/mytrades", func(c *gemini.Client) error {
			_, err := c.MyTrades(ctx, gemini.MyTradesOptions{Symbol: "btcusd", Limit: 10, Since: since})
			return err
		}, map[string]any{"symbol": "btcusd", "limit_trades": num("10"), "timestamp": num("1547232911000")}},
		{"tradevolume", "/v1/tradevolume", func(c *gemini.Client) error {
			_, err := c.TradeVolume(ctx)
			return err
		}, map[string]any{}},
		{"notionalvolume", "/v1/notionalvolume", func(c *gemini.Client) error {
			_, err := c.NotionalVolume(ctx, "btcusd")
			return err
		}, map[string]any{"symbol": "btcusd"}},
		{"heartbeat", "/v1/heartbeat", func(c *gemini.Client) error { return c.Heartbeat(ctx) }, map[string]any{}},
		{"balances", "/v1/balances", func(c *gemini.Client) error {
			_, err := c.Balances(ctx)
			return err
		}, map[string]any{}},
		{"pending balances", "/v1/balances", func(c *gemini.Client) error {
			_, err := c.PendingBalances(ctx)
			return err
		}, map[string]any{"showPendingBalances": true}},
		{"notional balances", "/v1/notionalbalances/usd", func(c *gemini.Client) error {
			_, err := c.NotionalBalances(ctx, "usd")
			return err
		}, map[string]any{}},
		{"transfers", "/v1/transfers", func(c *gemini.Client) error {
			_, err := c.Transfers(ctx, gemini.TransfersOptions{Currency: "BTC", Since: since, Limit: 50, ShowCompletedDepositAdvances: true})
			return err
		}, map[string]any{"currency": "BTC", "timestamp": num("1547232911000"), "limit_transfers": num("50"),
			"show_completed_deposit_advances": true}},
		{"addresses", "/v1/addresses/bitcoin", func(c *gemini.Client) error {
			_, err := c.Addresses(ctx, "bitcoin")
			return err
		}, map[string]any{}},
		{"new deposit address: currency case kept", "/v1/deposit/BTC/newAddress", func(c *gemini.Client) error {
			_, err := c.NewDepositAddress(ctx, "BTC", "my bitcoin address")
			return err
		}, map[string]any{"label": "my bitcoin address"}},
		{"withdraw: request names the currency, amount is a string", "/v1/withdraw/btc", func(c *gemini.Client) error {
			_, err := c.Withdraw(ctx, "btc", "mi98Z9brJ3TgaKsmvXatuRahbFRUFKRUdR", "1", "02176a83-a6b1-4202-9b85-1c1c92dd25c4")
			return err
		}, map[string]any{"address": "mi98Z9brJ3TgaKsmvXatuRahbFRUFKRUdR", "amount": "1",
			"client_transfer_id": "02176a83-a6b1-4202-9b85-1c1c92dd25c4"}},
		{"v2 transfers with a network", "/v2/transfers", func(c *gemini.Client) error {
			_, err := c.TransfersV2(ctx, gemini.TransfersOptions{Currency: "USDC", Limit: 25}, "solana")
			return err
		}, map[string]any{"currency": "USDC", "limit_transfers": num("25"), "network": "solana"}},
		{"v2 withdraw: network and ticker in the path, clientTransferId", "/v2/withdraw/ethereum/eth", func(c *gemini.Client) error {
			_, err := c.WithdrawV2(ctx, "ethereum", "eth", "0xA63123350Acc8F5ee1b1fBd1A6717135e82dBd28", "2.34567",
				gemini.WithdrawV2Options{ClientTransferID: "AA97B177-9383-4934-8543-0F91A7A02838", Memo: "m"})
			return err
		}, map[string]any{"address": "0xA63123350Acc8F5ee1b1fBd1A6717135e82dBd28", "amount": "2.34567",
			"clientTransferId": "AA97B177-9383-4934-8543-0F91A7A02838", "memo": "m"}},
		{"v2 withdrawal fee estimate", "/v2/withdraw/bitcoin/btc/feeEstimate", func(c *gemini.Client) error {
			_, err := c.WithdrawFeeEstimateV2(ctx, "bitcoin", "btc", "mi98Z9brJ3TgaKsmvXatuRahbFRUFKRUdR", "0.5", gemini.WithdrawV2Options{})
			return err
		}, map[string]any{"address": "mi98Z9brJ3TgaKsmvXatuRahbFRUFKRUdR", "amount": "0.5"}},
		{"approved address request", "/v1/approvedAddresses/ethereum/request", func(c *gemini.Client) error {
			_, err := c.ApprovedAddressRequest(ctx, "ethereum", "0xabc", "my address", "memo-1")
			return err
		}, map[string]any{"address": "0xabc", "label": "my address", "memo": "memo-1"}},
		{"approved address remove", "/v1/approvedAddresses/ethereum/remove", func(c *gemini.Client) error {
			_, err := c.ApprovedAddressRemove(ctx, "ethereum", "0xabc")
			return err
		}, map[string]any{"address": "0xabc"}},
		{"approved address list", "/v1/approvedAddresses/account/ethereum", func(c *gemini.Client) error {
			_, err := c.ApprovedAddressList(ctx, "ethereum")
			return err
		}, map[string]any{}},
		{"payment methods", "/v1/payments/methods", func(c *gemini.Client) error {
			_, err := c.PaymentMethods(ctx)
			return err
		}, map[string]any{}},
		{"account", "/v1/account", func(c *gemini.Client) error {
			_, err := c.Account(ctx)
			return err
		}, map[string]any{}},
		{"roles", "/v1/roles", func(c *gemini.Client) error {
			_, err := c.Roles(ctx)
			return err
		}, map[string]any{}},
		{"create account", "/v1/account/create", func(c *gemini.Client) error {
			_, err := c.CreateAccount(ctx, "My Secondary Account", "custody")
			return err
		}, map[string]any{"name": "My Secondary Account", "type": "custody"}},
		{"rename account", "/v1/account/rename", func(c *gemini.Client) error {
			_, err := c.RenameAccount(ctx, "my-secondary-account", "Other", "other")
			return err
		}, map[string]any{"account": "my-secondary-account", "newName": "Other", "newAccount": "other"}},
		{"list accounts", "/v1/account/list", func(c *gemini.Client) error {
			_, err := c.ListAccounts(ctx, gemini.ListAccountsOptions{Limit: 500, Since: since})
			return err
		}, map[string]any{"limit_accounts": num("500"), "timestamp": num("1547232911000")}},
		{"account transfer", "/v1/account/transfer/btc", func(c *gemini.Client) error {
			_, err := c.AccountTransfer(ctx, "btc", "my-account", "my-other-account", "1.5")
			return err
		}, map[string]any{"sourceAccount": "my-account", "targetAccount": "my-other-account", "amount": "1.5"}},
		{"transactions", "/v1/transactions", func(c *gemini.Client) error {
			_, err := c.Transactions(ctx, gemini.TransactionsOptions{Since: since, Limit: 300, ContinuationToken: "tok"})
			return err
		}, map[string]any{"timestamp_nanos": num("1547232911000000000"), "limit": num("300"), "continuation_token": "tok"}},
	}
	// The endpoints that answer with a JSON array.
	arrayReplies := map[string]bool{
		"/v1/orders": true, "/v1/orders/history": true, "/v1/mytrades": true, "/v1/tradevolume": true,
		"/v1/balances": true, "/v1/notionalbalances/usd": true, "/v1/transfers": true, "/v2/transfers": true,
		"/v1/addresses/bitcoin": true, "/v1/account/list": true,
	}
	f := newFake(t)
	c := f.client()
	var last int64
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			body := "{}"
			if arrayReplies[tt.path] {
				body = "[]"
			}
			f.on("POST "+tt.path, http.StatusOK, body)
			if err := tt.call(c); err != nil {
				t.Fatal(err)
			}
			got := f.last(t)
			n := checkPrivate(t, got, tt.path)
			if n <= last {
				t.Errorf("nonce %d did not increase past %d", n, last)
			}
			last = n
			params := map[string]any{}
			for k, v := range got.Payload {
				if k != "request" && k != "nonce" {
					params[k] = v
				}
			}
			if !reflect.DeepEqual(params, tt.params) {
				t.Errorf("params = %#v\nwant     %#v", params, tt.params)
			}
		})
	}
}

// TestPublicRequests checks that public calls are unsigned GETs with the
// expected query.
func TestPublicRequests(t *testing.T) {
	ctx := context.Background()
	tests := []struct {
		name, path, query, body string
		call                    func(*gemini.Client) error
	}{
		{"book with limits", "/v1/book/btcusd", "limit_asks=0&limit_bids=10", "{}", func(c *gemini.Client) error {
			_, err := c.OrderBook(ctx, "btcusd", 10, 0)
			return err
		}},
		{"book with server defaults", "/v1/book/btcusd", "", "{}", func(c *gemini.Client) error {
			_, err := c.OrderBook(ctx, "btcusd", -1, -1)
			return err
		}},
		{"trades", "/v1/trades/btcusd", "include_breaks=true&limit_trades=5&since_tid=5335307668&timestamp=1547146811000", "[]",
			func(c *gemini.Client) error {
				_, err := c.Trades(ctx, "btcusd", gemini.TradesOptions{Since: time.UnixMilli(1547146811000),
					SinceTID: 5335307668, Limit: 5, IncludeBreaks: true})
				return err
			}},
		{"candles", "/v2/candles/btcusd/15m", "", "[]", func(c *gemini.Client) error {
			_, err := c.Candles(ctx, "btcusd", gemini.TimeFrame15m)
			return err
		}},
		{"network", "/v1/network/usdc", "", "{}", func(c *gemini.Client) error {
			_, err := c.Network(ctx, "usdc")
			return err
		}},
	}
	f := newFake(t)
	c := f.client(gemini.WithUserAgent("test-agent/2"))
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f.on("GET "+tt.path, http.StatusOK, tt.body)
			if err := tt.call(c); err != nil {
				t.Fatal(err)
			}
			got := f.last(t)
			if got.Method != http.MethodGet || got.Path != tt.path || got.RawQuery != tt.query {
				t.Errorf("got %s %s?%s, want GET %s?%s", got.Method, got.Path, got.RawQuery, tt.path, tt.query)
			}
			for _, h := range []string{"X-Gemini-Apikey", "X-Gemini-Payload", "X-Gemini-Signature"} {
				if got.Header.Get(h) != "" {
					t.Errorf("public call sent %s", h)
				}
			}
			if ua := got.Header.Get("User-Agent"); ua != "test-agent/2" {
				t.Errorf("User-Agent = %q", ua)
			}
		})
	}
}

// TestLocalValidation checks that calls that cannot be right fail before any
// request is sent.
func TestLocalValidation(t *testing.T) {
	ctx := context.Background()
	f := newFake(t)
	c := f.client()
	calls := map[string]func() error{
		"empty symbol": func() error { _, err := c.Ticker(ctx, ""); return err },
		"empty currency": func() error {
			_, err := c.Withdraw(ctx, "", "addr", "1", "")
			return err
		},
		"non-numeric order id": func() error { _, err := c.CancelOrder(ctx, "abc"); return err },
		"empty order status":   func() error { _, err := c.OrderStatus(ctx, gemini.OrderStatusRequest{}); return err },
		"no credentials": func() error {
			_, err := gemini.New(f.srv.URL, "", "").Balances(ctx)
			return err
		},
	}
	for name, call := range calls {
		if err := call(); err == nil {
			t.Errorf("%s: no error", name)
		}
	}
	if n := len(f.Calls()); n != 0 {
		t.Errorf("%d requests reached the server", n)
	}
}

// TestBaseURLTrailingSlash checks that a trailing slash does not change the
// path, which the payload's request must equal.
func TestBaseURLTrailingSlash(t *testing.T) {
	f := newFake(t)
	f.on("POST /v1/heartbeat", http.StatusOK, fixOK)
	c := gemini.New(f.srv.URL+"/", testKey, testSecret)
	if err := c.Heartbeat(context.Background()); err != nil {
		t.Fatal(err)
	}
	checkPrivate(t, f.last(t), "/v1/heartbeat")
}

package api

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"regexp"
	"testing"
	"time"

	"github.com/twinex/twinex"
	"github.com/twinex/twinex/auth"
	"github.com/twinex/twinex/core"
	"github.com/twinex/twinex/keys"
	"github.com/twinex/twinex/sqlite"
)

// goldenPrivate drives a server with a pinned clock through signed
// requests whose answers are fully deterministic.
type goldenPrivate struct {
	t     *testing.T
	ts    *httptest.Server
	clock *testClock
	nonce int64
}

func newGoldenPrivate(t *testing.T) *goldenPrivate {
	t.Helper()
	db, err := sqlite.Open(t.TempDir() + "/twinex.db")
	if err != nil {
		t.Fatal(err)
	}
	clock := &testClock{t: publicBase}
	c, err := core.Open(context.Background(), core.Config{Store: db, Markets: twinex.DefaultMarkets(), Now: clock.Now, RefreshEvery: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	mk := make([]byte, 32)
	rand.Read(mk)
	sealer, _ := auth.NewSealer(mk)
	s := &Server{Core: c, Store: db, Accounts: db, Addresses: db, AdminToken: testToken, Now: clock.Now,
		Keys: &keys.Service{Store: db, Sealer: sealer, Now: clock.Now}}
	ts := httptest.NewServer(s.Handler())
	t.Cleanup(func() {
		ts.Close()
		checkLedger(t, c)
		c.Close()
		db.Close()
	})
	return &goldenPrivate{t: t, ts: ts, clock: clock, nonce: 1700000000000}
}

// tick moves the pinned clock on by a second.
func (g *goldenPrivate) tick() { g.clock.Set(g.clock.Now().Add(time.Second)) }

// signed sends a signed request with the next nonce and returns the body.
func (g *goldenPrivate) signed(k testKey, path, fields string) (int, []byte) {
	g.t.Helper()
	g.tick()
	g.nonce++
	p := fmt.Sprintf(`{"request":%q,"nonce":"%d"%s}`, path, g.nonce, fields)
	b64 := base64.StdEncoding.EncodeToString([]byte(p))
	req, _ := http.NewRequest("POST", g.ts.URL+path, nil)
	req.Header.Set("X-GEMINI-APIKEY", k.Key)
	req.Header.Set("X-GEMINI-PAYLOAD", b64)
	req.Header.Set("X-GEMINI-SIGNATURE", auth.Sign(k.Secret, b64))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		g.t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, body
}

// ok is signed, requiring HTTP 200.
func (g *goldenPrivate) ok(k testKey, path, fields string) []byte {
	g.t.Helper()
	st, body := g.signed(k, path, fields)
	if st != 200 {
		g.t.Fatalf("%s %s: %d %s", path, fields, st, body)
	}
	return body
}

// TestPrivateGolden pins the wire format of the signed endpoints: field
// names, and which values are JSON strings and which numbers.
func TestPrivateGolden(t *testing.T) {
	g := newGoldenPrivate(t)
	ts := g.ts
	alice := newKey(t, ts, "alice@example.com", `{"roles":"trader"}`, "USD", "100000")
	bob := newKey(t, ts, "bob@example.com", `{"roles":"trader,fundmanager"}`, "BTC", "2")
	master := newKey(t, ts, "alice@example.com", `{"master":true,"roles":"administrator,trader,fundmanager"}`)

	cases := []struct {
		name string
		body []byte
	}{
		{"order_new_resting", g.ok(bob, "/v1/order/new", `,"client_order_id":"s-1","symbol":"btcusd","amount":"0.5","price":"30000","side":"sell","type":"exchange limit"`)},
		{"order_new_ioc_filled", g.ok(alice, "/v1/order/new", `,"symbol":"BTCUSD","amount":0.2,"price":30000.00,"side":"buy","type":"exchange limit","options":["immediate-or-cancel"]`)},
		{"order_new_stop", g.ok(bob, "/v1/order/new", `,"symbol":"btcusd","amount":"0.1","price":"29000","stop_price":"29500","side":"sell","type":"exchange stop limit"`)},
		{"orders", g.ok(bob, "/v1/orders", ``)},
		{"order_status_with_trades", g.ok(bob, "/v1/order/status", `,"client_order_id":"s-1","include_trades":true`)},
		{"balances", g.ok(alice, "/v1/balances", ``)},
		{"mytrades", g.ok(alice, "/v1/mytrades", `,"symbol":"btcusd","limit_trades":10`)},
		{"order_cancel", g.ok(bob, "/v1/order/cancel", `,"order_id":"1"`)},
		{"order_cancel_all", g.ok(bob, "/v1/order/cancel/all", ``)},
		{"orders_history", g.ok(bob, "/v1/orders/history", `,"limit_orders":5`)},
		{"tradevolume", g.ok(alice, "/v1/tradevolume", ``)},
		{"notionalvolume", g.ok(alice, "/v1/notionalvolume", ``)},
		{"heartbeat", g.ok(alice, "/v1/heartbeat", ``)},
		{"roles", g.ok(bob, "/v1/roles", ``)},
		{"roles_master", g.ok(master, "/v1/roles", ``)},
		{"account", g.ok(alice, "/v1/account", ``)},
		{"account_create", g.ok(master, "/v1/account/create", `,"name":"Bot Two"`)},
		{"account_list", g.ok(master, "/v1/account/list", ``)},
		{"account_transfer", g.ok(master, "/v1/account/transfer/usd", `,"sourceAccount":"primary","targetAccount":"bot-two","amount":"100"`)},
	}
	for _, c := range cases {
		golden(t, "private_"+c.name, normalise(t, c.body))
	}
	st, body := g.signed(alice, "/v1/order/new", `,"symbol":"btcusd","amount":"1000","price":"30000","side":"buy","type":"exchange limit"`)
	if st != 406 {
		t.Fatalf("insufficient funds: %d", st)
	}
	golden(t, "private_error_insufficient_funds", body)
	g.nonce -= 2
	st, body = g.signed(alice, "/v1/balances", ``)
	if st != 400 {
		t.Fatalf("replayed nonce: %d", st)
	}
	golden(t, "private_error_nonce", body)

	// Issue 18: the v2 funds endpoints and the shapes of Gemini's spec.
	g.nonce += 10
	later := []struct {
		name string
		body []byte
	}{
		{"transactions", g.ok(master, "/v1/transactions", `,"limit":3`)},
		{"balances_own_account", g.ok(alice, "/v1/balances", `,"account":"primary"`)},
		{"v2_withdraw_feeestimate", g.ok(bob, "/v2/withdraw/bitcoin/btc/feeEstimate", `,"address":"bc1qw508d6qejxtdg4y5r3zarvary0c5xw7kv8f3t4","amount":"0.25"`)},
		{"v2_withdraw", masked(g.ok(bob, "/v2/withdraw/bitcoin/btc", `,"address":"bc1qw508d6qejxtdg4y5r3zarvary0c5xw7kv8f3t4","amount":"0.25"`))},
		{"transfers", masked(g.ok(bob, "/v1/transfers", ``))},
		{"v2_transfers", masked(g.ok(bob, "/v2/transfers", ``))},
	}
	for _, c := range later {
		golden(t, "private_"+c.name, normalise(t, c.body))
	}
}

// masked replaces the random parts of a funds answer (transaction hashes,
// and the withdrawal ids derived from them) with placeholders, so that
// golden files pin their presence and type but not their value.
func masked(body []byte) []byte {
	re := regexp.MustCompile(`"(txHash|transactionHash|withdrawalId)":"[^"]*"`)
	return re.ReplaceAll(body, []byte(`"$1":"<$1>"`))
}

// normalise re-indents a JSON body so golden files are readable, keeping
// every value's text and type.
func normalise(t *testing.T, body []byte) []byte {
	t.Helper()
	var buf bytes.Buffer
	if err := json.Indent(&buf, body, "", "  "); err != nil {
		t.Fatalf("%s: %v", body, err)
	}
	buf.WriteByte('\n')
	return buf.Bytes()
}

package main

import (
	"bytes"
	"context"
	"encoding/json"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// apiEnv is a running server with two provisioned users, each with a
// trader key, for `twinex api` tests.
type apiEnv struct {
	t       *testing.T
	base    string
	alice   apiTestKey // USD 10000
	bob     apiTestKey // BTC 2
	secrets []string
}

type apiTestKey struct{ Key, Secret string }

func newAPIEnv(t *testing.T) *apiEnv {
	t.Helper()
	dir := t.TempDir()
	m := &Main{Listen: "127.0.0.1:0", DataDir: dir}
	if err := m.Open(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { m.Close() })
	admin := newTestClient(t, m.Addr(), dir)
	e := &apiEnv{t: t, base: "http://" + m.Addr()}
	user := func(email, currency, amount string) apiTestKey {
		admin.must("POST", "/admin/v1/accounts", map[string]any{"email": email, "verified": true}, nil)
		admin.must("POST", "/admin/v1/fund", map[string]any{"email": email, "currency": currency, "amount": amount}, nil)
		var k apiTestKey
		admin.must("POST", "/admin/v1/keys", map[string]any{"email": email, "roles": "trader"}, &k)
		if k.Key == "" || k.Secret == "" {
			t.Fatalf("key for %s: %+v", email, k)
		}
		e.secrets = append(e.secrets, k.Secret)
		return k
	}
	e.alice = user("alice@example.com", "USD", "10000")
	e.bob = user("bob@example.com", "BTC", "2")

	// A clean environment: the server's address, no credentials, and a
	// home directory without a credentials file.
	t.Setenv("TWINEX_BASE_URL", e.base)
	t.Setenv("GEMINI_BASE_URL", "")
	t.Setenv("GEMINI_API_KEY", "")
	t.Setenv("GEMINI_API_SECRET", "")
	t.Setenv("HOME", t.TempDir())
	t.Setenv("XDG_CONFIG_HOME", "")
	return e
}

// as makes the following commands use k's credentials from the environment.
func (e *apiEnv) as(k apiTestKey) {
	e.t.Setenv("GEMINI_API_KEY", k.Key)
	e.t.Setenv("GEMINI_API_SECRET", k.Secret)
}

// run runs `twinex api args...` and returns the exit status and output,
// failing the test if any secret appears in the output.
func (e *apiEnv) run(args ...string) (code int, stdout, stderr string) {
	e.t.Helper()
	var out, errb bytes.Buffer
	code = run(context.Background(), append([]string{"api"}, args...), &out, &errb)
	for _, s := range e.secrets {
		if strings.Contains(out.String(), s) || strings.Contains(errb.String(), s) {
			e.t.Fatalf("api %v: a secret appears in the output:\n%s\n%s", args, out.String(), errb.String())
		}
	}
	return code, out.String(), errb.String()
}

// ok runs a command that must succeed and decodes its JSON output into v.
func (e *apiEnv) ok(v any, args ...string) string {
	e.t.Helper()
	code, out, errOut := e.run(args...)
	if code != 0 {
		e.t.Fatalf("api %v: exit %d\nstdout: %s\nstderr: %s", args, code, out, errOut)
	}
	if v != nil {
		if err := json.Unmarshal([]byte(out), v); err != nil {
			e.t.Fatalf("api %v: %v\n%s", args, err, out)
		}
	}
	return out
}

// fails runs a command that must exit with code, and returns its stderr.
func (e *apiEnv) fails(code int, args ...string) string {
	e.t.Helper()
	got, out, errOut := e.run(args...)
	if got != code {
		e.t.Fatalf("api %v: exit %d, want %d\nstdout: %s\nstderr: %s", args, got, code, out, errOut)
	}
	if out != "" {
		e.t.Errorf("api %v: stdout on failure: %s", args, out)
	}
	return errOut
}

type apiOrder struct {
	OrderID       string `json:"order_id"`
	ClientOrderID string `json:"client_order_id"`
	IsLive        bool   `json:"is_live"`
	IsCancelled   bool   `json:"is_cancelled"`
	Executed      string `json:"executed_amount"`
	Remaining     string `json:"remaining_amount"`
}

func TestAPITrading(t *testing.T) {
	e := newAPIEnv(t)

	// Market data needs no credentials.
	var symbols []string
	e.ok(&symbols, "symbols")
	if !slices.Contains(symbols, "btcusd") {
		t.Fatalf("symbols: %v", symbols)
	}
	var ticker map[string]any
	out := e.ok(&ticker, "ticker", "btcusd")
	if _, ok := ticker["volume"]; !ok || !strings.Contains(out, "\n  ") {
		t.Fatalf("ticker is not indented JSON with a volume:\n%s", out)
	}
	out = e.ok(&ticker, "--compact", "ticker", "btcusd")
	if strings.Count(out, "\n") != 1 {
		t.Fatalf("--compact printed more than one line:\n%s", out)
	}
	out = e.ok(&ticker, "ticker", "btcusd", "--compact")
	if strings.Count(out, "\n") != 1 {
		t.Fatalf("--compact after the command printed more than one line:\n%s", out)
	}
	if msg := e.fails(1, "ticker", "nosuch"); !strings.HasPrefix(msg, "twinex: InvalidSymbol: ") {
		t.Fatalf("unknown symbol: %q", msg)
	}

	e.as(e.alice)
	var balances []struct{ Currency, Amount, Available string }
	e.ok(&balances, "balances")
	if len(balances) != 1 || balances[0].Currency != "USD" || balances[0].Amount != "10000" {
		t.Fatalf("balances: %+v", balances)
	}
	var roles map[string]bool
	e.ok(&roles, "roles")
	if !roles["isTrader"] || roles["isFundManager"] {
		t.Fatalf("roles: %v", roles)
	}

	var resting apiOrder
	e.ok(&resting, "order", "new", "--symbol", "btcusd", "--side", "buy", "--amount", "0.5", "--price", "1000", "--client-order-id", "alice-1")
	if !resting.IsLive || resting.Executed != "0" || resting.ClientOrderID != "alice-1" {
		t.Fatalf("resting order: %+v", resting)
	}

	// Bob's immediate-or-cancel sell fills against Alice's resting buy.
	e.as(e.bob)
	var ioc apiOrder
	e.ok(&ioc, "order", "new", "--symbol", "btcusd", "--side", "sell", "--amount", "0.2", "--price", "1000", "--option", "immediate-or-cancel")
	if ioc.IsLive || ioc.Executed != "0.2" {
		t.Fatalf("IOC order: %+v", ioc)
	}
	var bobTrades []struct {
		Type    string `json:"type"`
		Amount  string `json:"amount"`
		OrderID string `json:"order_id"`
	}
	e.ok(&bobTrades, "mytrades")
	if len(bobTrades) != 1 || bobTrades[0].Type != "Sell" || bobTrades[0].OrderID != ioc.OrderID {
		t.Fatalf("bob's trades: %+v", bobTrades)
	}

	e.as(e.alice)
	var status apiOrder
	e.ok(&status, "order", "status", "--id", resting.OrderID)
	if !status.IsLive || status.Executed != "0.2" || status.Remaining != "0.3" {
		t.Fatalf("status by id: %+v", status)
	}
	e.ok(&status, "order", "status", "--client-order-id", "alice-1")
	if status.OrderID != resting.OrderID {
		t.Fatalf("status by client order id: %+v", status)
	}
	var live []apiOrder
	e.ok(&live, "orders")
	if len(live) != 1 || live[0].OrderID != resting.OrderID {
		t.Fatalf("orders: %+v", live)
	}
	var trades []struct {
		Type    string `json:"type"`
		Price   string `json:"price"`
		Amount  string `json:"amount"`
		OrderID string `json:"order_id"`
	}
	e.ok(&trades, "mytrades", "--symbol", "btcusd", "--limit", "10")
	if len(trades) != 1 || trades[0].Type != "Buy" || trades[0].Amount != "0.2" || trades[0].OrderID != resting.OrderID {
		t.Fatalf("alice's trades: %+v", trades)
	}
	var public []struct{ TID int64 }
	e.ok(&public, "trades", "btcusd", "--limit", "5")
	if len(public) != 1 {
		t.Fatalf("public trades: %+v", public)
	}
	var book struct {
		Bids, Asks []struct{ Price, Amount string }
	}
	e.ok(&book, "book", "btcusd", "--limit", "5")
	if len(book.Bids) != 1 || book.Bids[0].Amount != "0.3" || len(book.Asks) != 0 {
		t.Fatalf("book: %+v", book)
	}
	e.ok(nil, "candles", "btcusd", "--timeframe", "1m")

	var cancelled apiOrder
	e.ok(&cancelled, "order", "cancel", "--id", resting.OrderID)
	if !cancelled.IsCancelled || cancelled.IsLive {
		t.Fatalf("cancelled order: %+v", cancelled)
	}
	e.ok(&live, "orders")
	if len(live) != 0 {
		t.Fatalf("orders after cancel: %+v", live)
	}
	if msg := e.fails(1, "order", "cancel", "--id", "999999"); !strings.HasPrefix(msg, "twinex: OrderNotFound: ") {
		t.Fatalf("cancel of an unknown order: %q", msg)
	}

	// Orders that cancel-session and cancel-all take away.
	e.ok(nil, "order", "new", "--symbol", "btcusd", "--side", "buy", "--amount", "0.1", "--price", "900")
	var res struct {
		Result  string
		Details struct{ CancelledOrders []json.Number }
	}
	e.ok(&res, "cancel-session")
	if len(res.Details.CancelledOrders) != 1 {
		t.Fatalf("cancel-session: %+v", res)
	}
	e.ok(nil, "order", "new", "--symbol", "btcusd", "--side", "buy", "--amount", "0.1", "--price", "1200", "--stop", "1100")
	e.ok(&res, "cancel-all")
	if len(res.Details.CancelledOrders) != 1 {
		t.Fatalf("cancel-all: %+v", res)
	}
	e.ok(nil, "heartbeat")
	var acct struct{ Account struct{ ShortName string } }
	e.ok(&acct, "account")
	if acct.Account.ShortName != "primary" {
		t.Fatalf("account: %+v", acct)
	}
	// Not every server serves transfers and withdrawals; whatever it
	// answers, the command ends cleanly.
	for _, args := range [][]string{{"transfers"}, {"withdraw", "--currency", "btc", "--address", "bc1qtest", "--amount", "0.1"}, {"deposit-address", "--network", "bitcoin"}} {
		if code, _, errOut := e.run(args...); code != 0 && (code != 1 || !strings.HasPrefix(errOut, "twinex: ") || strings.Count(errOut, "\n") != 1) {
			t.Errorf("api %v: exit %d, stderr %q", args, code, errOut)
		}
	}
}

func TestAPICredentials(t *testing.T) {
	e := newAPIEnv(t)

	msg := e.fails(1, "balances")
	if !strings.Contains(msg, "no API credentials") || !strings.Contains(msg, "GEMINI_API_KEY") {
		t.Fatalf("missing credentials: %q", msg)
	}
	t.Setenv("GEMINI_API_KEY", e.alice.Key)
	if msg := e.fails(1, "balances"); !strings.Contains(msg, "GEMINI_API_SECRET is not") {
		t.Fatalf("half the credentials: %q", msg)
	}

	// The right key with the wrong secret.
	wrong := "wrong" + e.alice.Secret[5:]
	e.secrets = append(e.secrets, wrong)
	e.as(apiTestKey{e.alice.Key, wrong})
	msg = e.fails(1, "balances")
	if !strings.HasPrefix(msg, "twinex: InvalidSignature: ") || strings.Count(msg, "\n") != 1 {
		t.Fatalf("bad signature: %q", msg)
	}

	// A credentials file: refused while others may read it.
	e.as(apiTestKey{})
	file := filepath.Join(t.TempDir(), "creds")
	text := "# pasted from the dashboard\nexport GEMINI_API_KEY=" + e.alice.Key + "\nGEMINI_API_SECRET=\"" + e.alice.Secret + "\"\nOTHER=ignored\n"
	if err := os.WriteFile(file, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(file, 0o644); err != nil {
		t.Fatal(err)
	}
	msg = e.fails(1, "--credentials", file, "balances")
	if !strings.Contains(msg, "chmod 600") {
		t.Fatalf("mode 0644: %q", msg)
	}
	if err := os.Chmod(file, 0o600); err != nil {
		t.Fatal(err)
	}
	var balances []struct{ Currency string }
	e.ok(&balances, "--credentials", file, "balances")
	if len(balances) != 1 || balances[0].Currency != "USD" {
		t.Fatalf("balances with the file: %+v", balances)
	}
	// --credentials wins over the environment.
	e.as(e.bob)
	e.ok(&balances, "--credentials", file, "balances")
	if len(balances) != 1 || balances[0].Currency != "USD" {
		t.Fatalf("balances with the file and the environment: %+v", balances)
	}

	// The default file, ~/.config/twinex/credentials.
	e.as(apiTestKey{})
	def := filepath.Join(os.Getenv("HOME"), ".config", "twinex", "credentials")
	if err := os.MkdirAll(filepath.Dir(def), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(def, []byte("GEMINI_API_KEY="+e.bob.Key+"\nGEMINI_API_SECRET="+e.bob.Secret+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(def, 0o640); err != nil {
		t.Fatal(err)
	}
	if msg := e.fails(1, "orders"); !strings.Contains(msg, "chmod 600") {
		t.Fatalf("default file with mode 0640: %q", msg)
	}
	// Public commands never read it.
	e.ok(nil, "symbols")
	if err := os.Chmod(def, 0o600); err != nil {
		t.Fatal(err)
	}
	e.ok(&balances, "balances")
	if len(balances) != 1 || balances[0].Currency != "BTC" {
		t.Fatalf("balances with the default file: %+v", balances)
	}

	// A malformed file is reported without quoting its lines.
	if err := os.WriteFile(def, []byte(e.bob.Secret+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if msg := e.fails(1, "balances"); !strings.Contains(msg, "line 1") {
		t.Fatalf("malformed file: %q", msg)
	}
}

func TestAPIUsage(t *testing.T) {
	e := newAPIEnv(t)
	for _, args := range [][]string{
		{},
		{"bogus"},
		{"ticker"},
		{"ticker", "btcusd", "ethusd"},
		{"symbols", "extra"},
		{"book", "btcusd", "--limit", "x"},
		{"book", "btcusd", "--limit", "-1"},
		{"--nosuchflag", "symbols"},
		{"order"},
		{"order", "replace"},
		{"order", "new", "--symbol", "btcusd", "--amount", "1", "--price", "1"},
		{"order", "new", "--symbol", "btcusd", "--side", "up", "--amount", "1", "--price", "1"},
		{"order", "cancel"},
		{"order", "status"},
		{"order", "status", "--id", "1", "--client-order-id", "x"},
		{"withdraw", "--currency", "btc"},
		{"deposit-address"},
		{"balances", "--bogus"},
	} {
		if msg := e.fails(2, args...); msg == "" {
			t.Errorf("api %v: no usage message", args)
		}
	}
	for _, args := range [][]string{
		{"--help"}, {"help"}, {"ticker", "--help"}, {"book", "-h"}, {"order", "--help"},
		{"order", "new", "--help"}, {"order", "status", "--help"}, {"balances", "--help"},
		{"withdraw", "--help"}, {"deposit-address", "--help"}, {"cancel-all", "--help"},
	} {
		code, _, errOut := e.run(args...)
		if code != 0 || !strings.Contains(errOut, "twinex api") {
			t.Errorf("api %v: exit %d\n%s", args, code, errOut)
		}
		if len(args) > 1 && args[0] != "order" && !strings.Contains(errOut, "Example") {
			t.Errorf("api %v: help has no example:\n%s", args, errOut)
		}
	}
}

func TestAPIBaseURL(t *testing.T) {
	for _, tc := range []struct{ flag, twinex, gemini, listen, want string }{
		{want: "http://127.0.0.1:8080"},
		{listen: ":9000", want: "http://127.0.0.1:9000"},
		{listen: "0.0.0.0:9000", want: "http://127.0.0.1:9000"},
		{listen: "10.0.0.5:9000", want: "http://10.0.0.5:9000"},
		{gemini: "sandbox", listen: ":9000", want: "https://api.sandbox.gemini.com"},
		{twinex: "http://a:1/", gemini: "http://b:2", want: "http://a:1"},
		{flag: "127.0.0.1:7000", twinex: "http://a:1", want: "http://127.0.0.1:7000"},
		{flag: "production", want: "https://api.gemini.com"},
	} {
		t.Setenv("TWINEX_BASE_URL", tc.twinex)
		t.Setenv("GEMINI_BASE_URL", tc.gemini)
		t.Setenv("TWINEX_LISTEN", tc.listen)
		if got := apiBaseURL(tc.flag); got != tc.want {
			t.Errorf("%+v: got %s", tc, got)
		}
	}
}

func TestAPIUnreachable(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	var out, errb bytes.Buffer
	code := run(context.Background(), []string{"api", "--base-url", "http://" + addr, "symbols"}, &out, &errb)
	if code != 1 || !strings.HasPrefix(errb.String(), "twinex: cannot reach http://"+addr) || out.Len() != 0 {
		t.Fatalf("exit %d\nstdout: %s\nstderr: %s", code, out.String(), errb.String())
	}
}
